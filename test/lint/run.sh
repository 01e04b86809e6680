#!/usr/bin/env bash
# `npm run lint`: eslint and prettier on the TypeScript, shellcheck on every shell script the repository tracks.
# The shellcheck binary comes from Debian's packages; on a fresh machine (as root) it is installed here, like the rehearsal's
# own packages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v shellcheck >/dev/null 2>&1; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "lint: shellcheck is not installed; run: sudo apt-get install -y shellcheck" >&2
        exit 1
    fi
    echo "lint: installing shellcheck (apt-get)" >&2
    log="$(mktemp)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        exit 1
    fi
    rm -f "$log"
fi

status=0
npx eslint --max-warnings 0 . || status=1
npx prettier --check --log-level warn . || status=1
mapfile -t scripts < <(git ls-files -- '*.sh' .ci/run | sort)
if ((${#scripts[@]} > 0)); then
    shellcheck --external-sources --source-path=SCRIPTDIR "${scripts[@]}" || status=1
fi
if ((status == 0)); then echo "lint: eslint, prettier and shellcheck (${#scripts[@]} scripts) pass"; fi
exit "$status"
