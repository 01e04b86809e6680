# shellcheck shell=bash
# Source this file (bash): `source test/toolchain/env.sh`. It runs test/toolchain/build.sh (a no-op when the cached build is complete)
# and sets up the environment for the pinned Pulumi toolchain.
#
# Exports:
#   TOOLS_BIN                the bin dir printed by test/toolchain/build.sh (outside the repo)
#   PATH                     "$TOOLS_BIN:$PATH": pulumi, pulumi-language-nodejs, pulumi-resource-command,
#                            pulumi-resource-pulumi-nodejs, fake-gcs-server
#   PULUMI_SKIP_UPDATE_CHECK=true                      no version check against api.pulumi.com
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true   no plugin downloads (e.g. for @pulumi/gcp, which sits in
#                                                      node_modules but is loaded only if a gcp resource is used)
# If the caller set PULUMI_HOME (plugin cache, credentials; use a temp dir in tests):
#   - installs the command provider into $PULUMI_HOME/plugins/resource-command-v1.2.1 with
#     `pulumi plugin install resource command 1.2.1 --file $TOOLS_BIN/pulumi-resource-command` (skipped when the
#     same binary is already there), and
#   - exports PULUMI_IGNORE_AMBIENT_PLUGINS=true, so the engine takes the provider from that cache (exact version
#     match, no warning) instead of from PATH; the language host is still found next to `pulumi`.
# Without PULUMI_HOME, the engine runs pulumi-resource-command from PATH (an "ambient" plugin: no version check, and
# a "using pulumi-resource-command from $PATH" warning on each run).
#
# Reads: TOOLS_CACHE, XDG_CACHE_HOME (cache location, see test/toolchain/build.sh), PULUMI_HOME.
# Leaves to the caller: PULUMI_BACKEND_URL (e.g. file://<abs dir>), PULUMI_CONFIG_PASSPHRASE (may be empty) or
# PULUMI_CONFIG_PASSPHRASE_FILE, and the stack. Run `npm ci` BEFORE sourcing this: the install scripts of
# @pulumi/command and @pulumi/gcp call `pulumi plugin install` (a download) when `pulumi` is on PATH.

_tools_env_main() {
	local dir bin
	dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" || return 1
	bin="$(bash "$dir/build.sh" | tail -n 1)" || return 1
	[ -x "$bin/pulumi" ] || { echo "test/toolchain/env.sh: no pulumi in '$bin'" >&2; return 1; }
	export TOOLS_BIN="$bin"
	case ":$PATH:" in
	*":$bin:"*) ;;
	*) export PATH="$bin:$PATH" ;;
	esac
	export PULUMI_SKIP_UPDATE_CHECK=true
	export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

	if [ -n "${PULUMI_HOME:-}" ]; then
		local version installed
		version="$(sed -n 's/^COMMAND_VERSION=v\([0-9.]*\).*/\1/p' "$dir/build.sh")"
		installed="$PULUMI_HOME/plugins/resource-command-v$version/pulumi-resource-command"
		if ! cmp -s "$installed" "$bin/pulumi-resource-command" 2>/dev/null; then
			mkdir -p "$PULUMI_HOME"
			"$bin/pulumi" plugin install resource command "$version" --file "$bin/pulumi-resource-command" \
				--reinstall --non-interactive >&2 || return 1
		fi
		export PULUMI_IGNORE_AMBIENT_PLUGINS=true
	fi
}
_tools_env_main
_tools_env_rc=$?
unset -f _tools_env_main
if [ "$_tools_env_rc" -ne 0 ]; then
	echo "test/toolchain/env.sh: failed (exit $_tools_env_rc)" >&2
fi
# shellcheck disable=SC2317  # `return` when sourced, `exit` when run as a script
return "$_tools_env_rc" 2>/dev/null || exit "$_tools_env_rc"
