# lib.sh: shared by every remote step; the TypeScript builders prepend it to the step's script.
# Inputs arrive as environment variables (quoted by components/shell/quote.ts), never spliced into this text.
# Progress and errors go to stderr; the one line a step returns to Pulumi goes to stdout as
# `TPU_SFT_RESULT {json}`, so state stays small and the parser never guesses.
set -euo pipefail
umask 022

STEP="${0##*/}"
STEP="${STEP%.sh}"
HOST_SHORT="$(hostname -s 2>/dev/null || hostname)"
export HOST_SHORT
export REPO_DIR="${REPO_DIR:-$HOME/MLLM-JAX}"
# Run directories live outside the checkout: a `git clean` there must never delete logs.
if [[ -n "${RUN_ID:-}" ]]; then
    export RUN_DIR="$HOME/tpu-sft-runs/$RUN_ID"
fi

log() { printf '[%s %s] %s\n' "$STEP" "$HOST_SHORT" "$*" >&2; }
die() {
    printf '[%s %s] ERROR: %s\n' "$STEP" "$HOST_SHORT" "$*" >&2
    exit 1
}

require_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "missing input ${name} (a bug in the command builder)"
    done
}

# A JSON string literal; control characters other than \n \r \t are dropped.
json_str() {
    local s
    s="$(printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037')"
    s="${s//\\/\\\\}"
    s="${s//\"/\\\"}"
    s="${s//$'\n'/\\n}"
    s="${s//$'\r'/\\r}"
    s="${s//$'\t'/\\t}"
    printf '"%s"' "$s"
}

# A JSON number, or null when the value is not an integer.
json_int() {
    if [[ "${1:-}" =~ ^-?[0-9]+$ ]]; then printf '%s' "$1"; else printf 'null'; fi
}

result() { printf 'TPU_SFT_RESULT %s\n' "$1"; }

# The Python that runs the workload: the conda env of the SOP, or the host's python3 (offline rehearsal).
activate_python() {
    if [[ "${ENV_MODE:-conda}" == "conda" ]]; then
        # shellcheck disable=SC1091
        source "$HOME/miniconda3/etc/profile.d/conda.sh"
        conda activate "$CONDA_ENV"
    else
        command -v python3 >/dev/null || die "ENV_MODE=system-python but python3 is not on PATH"
        local shim="$HOME/.tpu-sft/python-shim"
        mkdir -p "$shim"
        ln -sf "$(command -v python3)" "$shim/python"
        export PATH="$shim:$PATH"
    fi
}

# gcloud storage, pointed at the bucket endpoint of the target (real GCS, or the rehearsal's emulator).
gcs() {
    CLOUDSDK_CORE_DISABLE_PROMPTS=1 gcloud storage "$@"
}

# Prints "<size>\t<crc32c base64>" of an object, or nothing when it does not exist.
object_size_crc() {
    local out
    if out="$(gcs objects describe "$1" --format='value(size,crc32c_hash)' 2>/dev/null)"; then
        printf '%s\n' "$out" | head -n 1
    fi
}

# crc32c of a local file, base64 as GCS reports it.
file_crc32c() {
    gcs hash "$1" --skip-md5 --format='value(crc32c_hash)' | head -n 1
}

file_size() { stat -c %s "$1"; }

# --- the detached training or eval job -------------------------------------------------------------
# One run directory per (run, run key) holds pid, train.log, exit, started_at, finished_at, attempt and
# reported. The key changes whenever the run's inputs change, so a changed run is a new directory.

pid_alive() {
    local pid="$1"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid would not carry our marker.
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "TPU_SFT_RUN_DIR=$RUN_DIR"
}

run_state() {
    # Prints one of: none, running, succeeded, failed, failed-reported, vanished
    if [[ -f "$RUN_DIR/exit" ]]; then
        local code
        code="$(cat "$RUN_DIR/exit")"
        # An exit 0 the wait step rejected (W&B online but not initialised) counts as a failure.
        if [[ "$code" == "0" && ! -f "$RUN_DIR/rejected" ]]; then echo succeeded; return; fi
        if [[ -f "$RUN_DIR/reported" ]]; then echo failed-reported; else echo failed; fi
        return
    fi
    if [[ -f "$RUN_DIR/pid" ]]; then
        if pid_alive "$(cat "$RUN_DIR/pid")"; then echo running; return; fi
        if [[ -f "$RUN_DIR/reported" ]]; then echo failed-reported; else echo vanished; fi
        return
    fi
    echo none
}

# Processes of an earlier job in this checkout hold the TPU (libtpu allows one owner): stop them, then
# clear the lock file they leave behind.
stop_leftovers() {
    local pid cwd victims=()
    for pid in $(pgrep -f 'run_sid_sft' 2>/dev/null || true); do
        if [[ "$pid" == "$$" ]]; then continue; fi
        cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
        if [[ "$cwd" == "$REPO_DIR" || "$cwd" == "$REPO_DIR/"* ]]; then
            victims+=("$pid")
        fi
    done
    if ((${#victims[@]} > 0)); then
        log "stopping leftover processes in $REPO_DIR: ${victims[*]}"
        kill -TERM "${victims[@]}" 2>/dev/null || true
        local i
        for i in $(seq 1 20); do
            local alive=0 p
            for p in "${victims[@]}"; do
                if kill -0 "$p" 2>/dev/null; then alive=1; fi
            done
            if ((alive == 0)); then break; fi
            sleep 0.5
        done
        kill -KILL "${victims[@]}" 2>/dev/null || true
    fi
    if compgen -G '/dev/vfio/[0-9]*' >/dev/null && command -v fuser >/dev/null; then
        fuser -k /dev/vfio/[0-9]* 2>/dev/null || true
    fi
    if [[ -e /tmp/libtpu_lockfile ]]; then
        log "removing stale /tmp/libtpu_lockfile"
        rm -f /tmp/libtpu_lockfile
    fi
}

# The detached job itself; runs under `setsid nohup` so it survives the SSH session.
job_main() {
    set +e
    cd "$REPO_DIR" || exit 97
    activate_python
    if [[ -f "$HOME/.env" ]]; then
        set -a
        # shellcheck disable=SC1091
        source "$HOME/.env"
        set +a
    fi
    export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_ENABLE_HF_TRANSFER=1
    if ((PROCESS_COUNT > 1)); then
        export REQUIRE_MULTIHOST=1 REQUIRE_JAX_PROCESS_COUNT="$PROCESS_COUNT"
    fi
    echo "job: $(date -u +%FT%TZ) host=$HOST_SHORT config=$JOB_CONFIG mode=$JOB_MODE attempt=$(cat "$RUN_DIR/attempt")"
    ./scripts/run_sid_sft.sh --config "$JOB_CONFIG" --run-mode "$JOB_MODE"
    local code=$?
    date +%s >"$RUN_DIR/finished_at"
    echo "$code" >"$RUN_DIR/exit.tmp" && mv "$RUN_DIR/exit.tmp" "$RUN_DIR/exit"
    echo "job: exit code $code"
}

start_job() {
    mkdir -p "$RUN_DIR"
    local previous
    previous="$(cat "$RUN_DIR/attempt" 2>/dev/null || echo 0)"
    if [[ -f "$RUN_DIR/pid" || -f "$RUN_DIR/exit" ]]; then
        local keep="$RUN_DIR/attempt-$previous"
        mkdir -p "$keep"
        local f
        for f in pid exit train.log started_at finished_at reported rejected; do
            if [[ -e "$RUN_DIR/$f" ]]; then mv "$RUN_DIR/$f" "$keep/$f"; fi
        done
        log "kept attempt $previous in $keep"
    fi
    stop_leftovers
    echo $((previous + 1)) >"$RUN_DIR/attempt"
    date +%s >"$RUN_DIR/started_at"
    TPU_SFT_RUN_DIR="$RUN_DIR" setsid nohup bash -c "$(declare -f activate_python job_main log die); job_main" job >"$RUN_DIR/train.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/pid"
    log "started attempt $((previous + 1)) as pid $(cat "$RUN_DIR/pid"); log $RUN_DIR/train.log"
}
