#!/usr/bin/env bash
# Builds the rehearsal's Pulumi toolchain, all upstream code, into a cache dir outside the repo:
#
#   ${TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tpu-sft-pipeline}/<key>/bin
#
# <key> hashes this script (it holds the version and source pins below), every go.mod and go.sum under
# test/toolchain/, and the Go version. If <key>/bin is complete, nothing is built. The last line on stdout is the bin
# dir (progress goes to stderr), so:
#
#   BIN=$(bash test/toolchain/build.sh)
#   BIN=$(bash test/toolchain/build.sh --installed)   # never builds: exit 3 when the bin dir is not complete
#
# Binaries (all CGO_ENABLED=0, -trimpath, GOTOOLCHAIN=local):
#   pulumi                   CLI v3.248.0, module github.com/pulumi/pulumi/pkg/v3 (pulumi/go.mod)
#   pulumi-language-nodejs   nodejs language host v3.248.0, upstream source (sdk/nodejs/cmd/pulumi-language-nodejs at
#                            the v3.248.0 tag); must sit next to `pulumi`
#   pulumi-resource-command  the pulumi-command provider v1.2.1, upstream source (provider/ at the v1.2.1 tag)
#   fake-gcs-server          GCS emulator v1.56.1 (fakegcs/go.mod)
#   pulumi-resource-pulumi-nodejs  shell shim for TypeScript dynamic providers, copied from the sdk/v3 module
#
# The two upstream sources come from unmodified release archives in $TOOLCHAIN_VENDOR_DIR (default: ../shared/vendor
# beside the repo), checked against the sha256 pins below. Without them (a machine with internet access), they are
# cloned from GitHub at the pinned tag, and the tag's commit is checked. The provider builds with its own go.mod and
# go.sum. The language host's go.mod points inside upstream's monorepo (replace => ../../..), so it is built against
# the pkg/sdk v3.248.0 modules the proxy serves, with the dependency set pinned by upstream/language-nodejs/go.mod
# and go.sum here: upstream's go.mod with those two replaces dropped, as tidied by `go build -mod=mod`.
#
# On a machine with internet access, `pulumi plugin install resource command 1.2.1` and the CLI's release archive
# provide the same programs; this build exists because this workplace reaches only the Go module proxy.
#
# Variables read: TOOLS_CACHE, XDG_CACHE_HOME, HOME (cache location); TOOLCHAIN_VENDOR_DIR; GOMODCACHE, GOCACHE,
# GOPROXY as usual for `go`.
set -euo pipefail

# ---- pins ----
PULUMI_VERSION=v3.248.0 # pulumi/go.mod: pkg/v3 + sdk/v3 v3.248.0; also the language host's tag
PULUMI_COMMIT=a88168d865b7fd428e5a929cc54aeceaf72d203f
LANGUAGE_ARCHIVE=pulumi-language-nodejs-3.248.0.tar.gz
LANGUAGE_SHA256=d1b59c7aa31eb12748776dc61e1e8a5b0b3ede3db871a66c8d717ddbbdeba93d
COMMAND_VERSION=v1.2.1 # must equal the npm @pulumi/command version
COMMAND_COMMIT=7f3eb6f3b77cd0fa3895ba437a695dd393f7dd25
COMMAND_ARCHIVE=pulumi-command-provider-1.2.1.tar.gz
COMMAND_SHA256=d1495880adc21918f0593b95597b2b9894436310d76582b99526f9e6057a3f18
BUILD_TAGS=osusergo # as Pulumi's release builds

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$TOOLS_DIR/../.." && pwd)"
VENDOR_DIR="${TOOLCHAIN_VENDOR_DIR:-$REPO_DIR/../shared/vendor}"
log() { printf '[toolchain] %s\n' "$*" >&2; }

command -v go >/dev/null 2>&1 || {
	log "go is not on PATH (expected /usr/local/go/bin/go)"
	exit 1
}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false"

# ---- cache key ----
key_input() {
	printf 'script %s\n' "$(sha256sum "$TOOLS_DIR/build.sh" | cut -d' ' -f1)"
	printf 'go %s %s/%s\n' "$(go env GOVERSION)" "$(go env GOOS)" "$(go env GOARCH)"
	(cd "$TOOLS_DIR" && find . \( -name go.mod -o -name go.sum \) -type f | LC_ALL=C sort | xargs sha256sum)
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
if [ "${1:-}" = --installed ]; then
	log "not built yet: $BIN (run: bash test/toolchain/build.sh)"
	exit 3
fi

mkdir -p "$OUT"
# One builder at a time per key; a second caller waits, then finds the bin dir complete.
exec 9>"$OUT/.lock"
flock 9
if complete; then
	log "up to date: $BIN (built by another process)"
	echo "$BIN"
	exit 0
fi

TMP="$OUT/bin.tmp.$$"
SRC="$OUT/src.tmp.$$"
rm -rf "$TMP" "$SRC" "$BIN" "$OUT/complete"
mkdir -p "$TMP" "$SRC"
trap 'rm -rf "$TMP" "$SRC"' EXIT

# upstream_source <archive> <sha256> <git url> <tag> <commit> <subdir> -> prints the source dir of <subdir>
upstream_source() {
	local archive="$1" sha="$2" url="$3" tag="$4" commit="$5" subdir="$6" name dest
	name="${archive%.tar.gz}"
	dest="$SRC/$name"
	if [ -f "$VENDOR_DIR/$archive" ]; then
		local got
		got="$(sha256sum "$VENDOR_DIR/$archive" | cut -d' ' -f1)"
		if [ "$got" != "$sha" ]; then
			log "$VENDOR_DIR/$archive has sha256 $got, pinned $sha: refusing to build from it"
			return 1
		fi
		log "source: $archive (sha256 checked)"
		mkdir -p "$dest"
		tar -xzf "$VENDOR_DIR/$archive" -C "$dest" --strip-components=1
	else
		log "source: $VENDOR_DIR/$archive is absent; cloning $url at $tag"
		git clone --quiet --depth 1 --filter=blob:none --sparse --branch "$tag" -- "$url" "$dest" >&2
		git -C "$dest" sparse-checkout set -- "$subdir" >&2
		local head
		head="$(git -C "$dest" rev-parse HEAD)"
		if [ "$head" != "$commit" ]; then
			log "$url tag $tag is at $head, pinned $commit: refusing to build from it"
			return 1
		fi
	fi
	echo "$dest/$subdir"
}

# build <module dir> <version ldflag or -> <package>...
build() {
	local dir="$1" stamp="$2"
	shift 2
	local ldflags="-s -w"
	[ "$stamp" = - ] || ldflags="$ldflags -X $stamp"
	local t0=$SECONDS
	log "building $* (in ${dir#"$OUT"/})"
	(cd "$dir" && go build -trimpath -tags "$BUILD_TAGS" -ldflags "$ldflags" -o "$TMP/" "$@") >&2
	log "  done in $((SECONDS - t0)) s"
}

# pin_upstream <source dir> <pins dir>: puts the committed go.mod/go.sum in place of upstream's monorepo-relative
# ones (the module path and the main package stay upstream's).
pin_upstream() {
	local src="$1" pins="$2"
	cp "$pins/go.mod" "$pins/go.sum" "$src/"
}

T0=$SECONDS
log "building into $OUT ($(go env GOVERSION); GOMODCACHE=$(go env GOMODCACHE); GOCACHE=$(go env GOCACHE))"

GOFLAGS="$GOFLAGS -mod=readonly" build "$TOOLS_DIR/pulumi" \
	"github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
	github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

LANGUAGE_SRC="$(upstream_source "$LANGUAGE_ARCHIVE" "$LANGUAGE_SHA256" https://github.com/pulumi/pulumi.git \
	"$PULUMI_VERSION" "$PULUMI_COMMIT" sdk/nodejs/cmd/pulumi-language-nodejs)"
pin_upstream "$LANGUAGE_SRC" "$TOOLS_DIR/upstream/language-nodejs"
GOFLAGS="$GOFLAGS -mod=readonly" build "$LANGUAGE_SRC" \
	"github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" .

COMMAND_SRC="$(upstream_source "$COMMAND_ARCHIVE" "$COMMAND_SHA256" https://github.com/pulumi/pulumi-command.git \
	"$COMMAND_VERSION" "$COMMAND_COMMIT" provider)"
GOFLAGS="$GOFLAGS -mod=readonly" build "$COMMAND_SRC" \
	"github.com/pulumi/pulumi-command/provider/pkg/version.Version=${COMMAND_VERSION#v}" ./cmd/pulumi-resource-command

GOFLAGS="$GOFLAGS -mod=readonly" build "$TOOLS_DIR/fakegcs" - github.com/fsouza/fake-gcs-server

SDK_DIR="$(cd "$TOOLS_DIR/pulumi" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$SDK_DIR/nodejs/dist/pulumi-resource-pulumi-nodejs" "$TMP/"

for b in "${BINARIES[@]}"; do [ -x "$TMP/$b" ] || {
	log "missing $b after build"
	exit 1
}; done
{
	printf 'key %s\nbuilt %s\n' "$KEY" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'pulumi %s\nlanguage-nodejs %s (%s)\ncommand %s (%s)\n' "$PULUMI_VERSION" "$PULUMI_VERSION" "$PULUMI_COMMIT" \
		"$COMMAND_VERSION" "$COMMAND_COMMIT"
	key_input
} >"$OUT/manifest.txt"
mv "$TMP" "$BIN"
rm -rf "$SRC"
trap - EXIT
touch "$OUT/complete"
log "built in $((SECONDS - T0)) s: $BIN"
echo "$BIN"
