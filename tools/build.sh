#!/usr/bin/env bash
# Builds the project's pinned Pulumi toolchain from the Go module proxy, into a cache dir outside the repo:
#
#   ${TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tpu-sft-pipeline}/<key>/bin
#
# <key> hashes this script (it holds the version stamps below), every go.mod, go.sum and .go file under tools/, and the
# Go version.
# If <key>/bin is complete, nothing is built. The last line on stdout is the bin dir (progress goes to stderr), so:
#
#   BIN=$(bash tools/build.sh)
#
# Binaries (all CGO_ENABLED=0, -trimpath, GOTOOLCHAIN=local):
#   pulumi                   CLI, module github.com/pulumi/pulumi/pkg/v3 (tools/pulumi/go.mod)
#   pulumi-language-nodejs   nodejs language host (tools/pulumi/language-nodejs/go.mod); must sit next to `pulumi`
#   pulumi-resource-command  STAND-IN command provider, the project's own code (tools/command): the real
#                            pulumi-command v1.2.1 provider module is refused by the Go module proxy here
#   fake-gcs-server          GCS emulator (tools/fakegcs/go.mod)
#   pulumi-resource-pulumi-nodejs  shell shim for TypeScript dynamic providers, copied from the sdk/v3 module
#                            (bundled plugin: like the language host it must sit next to `pulumi`)
#
# Variables read: TOOLS_CACHE, XDG_CACHE_HOME, HOME (cache location); GOMODCACHE, GOCACHE, GOPROXY as usual for `go`.
set -euo pipefail

# ---- pins: the stamps must agree with the go.mod files ----
PULUMI_VERSION=v3.248.0            # tools/pulumi/go.mod: pkg/v3 + sdk/v3 v3.248.0
# The language host is its own module with no tags. Of its pseudo-versions, the proxy reachable here serves
# v3.0.0-20250806165243-bee5e4fa4815 (a 2025-08-06 master commit, after v3.187.0) but refused the others tried (the
# pkg/v3.259.0 and pkg/v3.192.0 tag commits; the proxy's .info for pkg v3.248.0 carries no commit hash to try).
# That source does not compile against pkg/sdk v3.248.0, so it
# is built in its own module against pkg/sdk v3.192.0 (the pairing pulumi-docker-build's go.mod uses). It speaks the
# language-host gRPC protocol to the v3.248.0 engine.
LANGUAGE_NODEJS_VERSION=v3.192.0   # tools/pulumi/language-nodejs/go.mod (stamp = the sdk it is built with)
COMMAND_VERSION=v1.2.1             # stand-in's reported version; must equal the npm @pulumi/command version
BUILD_TAGS=osusergo                # as Pulumi's release builds

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[tools/build.sh] %s\n' "$*" >&2; }

command -v go >/dev/null 2>&1 || { log "go is not on PATH (expected /usr/local/go/bin/go)"; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"

# ---- cache key ----
key_input() {
	printf 'script %s\n' "$(sha256sum "$TOOLS_DIR/build.sh" | cut -d' ' -f1)"
	printf 'go %s %s/%s\n' "$(go env GOVERSION)" "$(go env GOOS)" "$(go env GOARCH)"
	(cd "$TOOLS_DIR" && find . \( -name go.mod -o -name go.sum -o -name '*.go' \) -type f | LC_ALL=C sort | xargs sha256sum)
}
KEY="$(key_input | sha256sum | cut -c1-16)"
CACHE_ROOT="${TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tpu-sft-pipeline}"
OUT="$CACHE_ROOT/$KEY"
BIN="$OUT/bin"
BINARIES=(pulumi pulumi-language-nodejs pulumi-resource-command fake-gcs-server pulumi-resource-pulumi-nodejs)

complete() {
	[ -f "$OUT/complete" ] || return 1
	local b
	for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done
}

if complete; then
	log "up to date: $BIN"
	echo "$BIN"
	exit 0
fi

mkdir -p "$OUT"
# One builder at a time per key; a second caller waits, then finds the bin dir complete.
exec 9>"$OUT/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if complete; then
	log "up to date: $BIN (built by another process)"
	echo "$BIN"
	exit 0
fi

TMP="$OUT/bin.tmp.$$"
rm -rf "$TMP" "$BIN" "$OUT/complete"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

step() { # step <dir> <version-ldflag or -> <package>...
	local dir="$1" stamp="$2"; shift 2
	local ldflags="-s -w"
	[ "$stamp" = - ] || ldflags="$ldflags -X $stamp"
	local t0=$SECONDS
	log "building $* (in tools/${dir#"$TOOLS_DIR"/})"
	(cd "$dir" && go build -trimpath -tags "$BUILD_TAGS" -ldflags "$ldflags" -o "$TMP/" "$@") >&2
	log "  done in $((SECONDS - t0)) s"
}

T0=$SECONDS
log "building into $OUT ($(go env GOVERSION); GOMODCACHE=$(go env GOMODCACHE); GOCACHE=$(go env GOCACHE))"
step "$TOOLS_DIR/pulumi" "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
	github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
step "$TOOLS_DIR/pulumi/language-nodejs" "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGUAGE_NODEJS_VERSION" \
	github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
step "$TOOLS_DIR/command" "main.Version=$COMMAND_VERSION" ./cmd/pulumi-resource-command
step "$TOOLS_DIR/fakegcs" - github.com/fsouza/fake-gcs-server
SDK_DIR="$(cd "$TOOLS_DIR/pulumi" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$SDK_DIR/nodejs/dist/pulumi-resource-pulumi-nodejs" "$TMP/"

for b in "${BINARIES[@]}"; do [ -x "$TMP/$b" ] || { log "missing $b after build"; exit 1; }; done
{
	printf 'key %s\nbuilt %s\n' "$KEY" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'pulumi %s\nlanguage-nodejs %s\ncommand %s\n' "$PULUMI_VERSION" "$LANGUAGE_NODEJS_VERSION" "$COMMAND_VERSION"
	key_input
} >"$TMP/../manifest.txt"
mv "$TMP" "$BIN"
trap - EXIT
touch "$OUT/complete"
log "built in $((SECONDS - T0)) s: $BIN"
echo "$BIN"
