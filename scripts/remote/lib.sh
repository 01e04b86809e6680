#!/usr/bin/env bash
# lib.sh: sourced by every remote step (scripts/remote/<step>.sh) from the step's own directory. On a host each
# step is copied with its own lib.sh to ~/.tpu-sft/steps/<step>-<digest>/ (components/steps/stepScript.ts).
# Inputs arrive as environment variables (quoted by components/shell/quote.ts), never spliced into this text.
# Progress and errors go to stderr; the one line a step returns to Pulumi goes to stdout as
# `TPU_SFT_RESULT {json}`, built by json_object, so state stays small and the parser never guesses.
set -euo pipefail
# A failure inside $(...) fails the assignment that holds it, like any other command.
shopt -s inherit_errexit
umask 022

STEP="${0##*/}"
STEP="${STEP%.sh}"
HOST_SHORT="$(hostname -s 2>/dev/null || hostname)"
export HOST_SHORT
export REPO_DIR="${REPO_DIR:-$HOME/MLLM-JAX}"
# Run directories live outside the checkout: a `git clean` there must never delete logs.
export RUNS_ROOT="$HOME/tpu-sft-runs"
if [[ -n "${RUN_ID:-}" ]]; then
    [[ "$RUN_ID" =~ ^[a-z][a-z0-9-]*-[0-9a-f]{12}$ ]] || {
        printf '[%s %s] ERROR: invalid input RUN_ID=%q (a bug in the command builder)\n' "$STEP" "$HOST_SHORT" "$RUN_ID" >&2
        exit 1
    }
    export RUN_DIR="$RUNS_ROOT/$RUN_ID"
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

# require_int NAME...: each input is a non-negative integer.
require_int() {
    local name
    for name in "$@"; do
        [[ "${!name:-}" =~ ^(0|[1-9][0-9]*)$ ]] || die "input ${name}='${!name:-}' is not a non-negative integer (a bug in the command builder)"
    done
}

# --- the time limit, enforced on this host ---------------------------------------------------------------
# The command provider does not enforce customTimeouts on remote commands, so a hung pip, conda, git or gcloud
# would hang `pulumi up`. Each step therefore runs itself again under coreutils `timeout`: SIGTERM at
# STEP_LIMIT_SECONDS, SIGKILL STEP_KILL_AFTER_SECONDS later, sent to the step's whole process group. Jobs
# that start_job detaches with setsid are in a session of their own and keep running.
STEP_KILL_AFTER_SECONDS=30

format_limit() {
    if (($1 % 60 == 0)); then printf '%dm' $(($1 / 60)); else printf '%ds' "$1"; fi
}

run_under_limit() {
    require_int STEP_LIMIT_SECONDS
    ((STEP_LIMIT_SECONDS > 0)) || die "input STEP_LIMIT_SECONDS must be positive (a bug in the command builder)"
    local started rc=0
    started="$(date +%s)"
    TPU_SFT_UNDER_LIMIT=1 timeout --kill-after="$STEP_KILL_AFTER_SECONDS" "$STEP_LIMIT_SECONDS" bash "$0" || rc=$?
    # 124: stopped by SIGTERM at the limit; 137 (SIGKILL) counts only once the limit has passed.
    if ((rc == 124 || (rc == 137 && $(date +%s) - started >= STEP_LIMIT_SECONDS))); then
        die "step $STEP on $HOST_SHORT exceeded its $(format_limit "$STEP_LIMIT_SECONDS") limit and was stopped (the lines above show where it hung); run \`pulumi up\` again to retry"
    fi
    exit "$rc"
}

if [[ -z "${TPU_SFT_UNDER_LIMIT:-}" ]]; then
    run_under_limit
fi
unset TPU_SFT_UNDER_LIMIT

# --- the result line ---------------------------------------------------------------------------------------

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

# json_object KEY TYPE VALUE ...: one JSON object, keys in the order given. TYPE is one of
#   str          a string
#   int          an integer (anything else is an error in the step)
#   int-or-null  an integer, or null when VALUE is not one
#   bool         true or false
#   json         a JSON value made by json_object or read by json_file, inserted as it is
# Call it at statement level (`x="$(json_object ...)"`), so that an error fails the step.
json_object() {
    (($# % 3 == 0)) || die "json_object: arguments come in threes (key type value); got $#"
    local body="" key type value
    while (($# > 0)); do
        key="$1" type="$2" value="$3"
        shift 3
        case "$type" in
            str) value="$(json_str "$value")" ;;
            int) [[ "$value" =~ ^-?(0|[1-9][0-9]*)$ ]] || die "json_object: ${key}='${value}' is not an integer" ;;
            int-or-null) [[ "$value" =~ ^-?(0|[1-9][0-9]*)$ ]] || value=null ;;
            bool) [[ "$value" == true || "$value" == false ]] || die "json_object: ${key}='${value}' is not true or false" ;;
            json) [[ -n "$value" ]] || die "json_object: ${key} has an empty JSON value" ;;
            *) die "json_object: unknown type '${type}' for ${key}" ;;
        esac
        body+="${body:+,}$(json_str "$key"):${value}"
    done
    printf '{%s}' "$body"
}

# json_file FILE: the JSON in FILE, re-encoded compactly; NaN and Infinity (which JSON has not) are an error.
json_file() {
    python3 -c 'import json, sys
print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":"), allow_nan=False))' "$1"
}

# result_object KEY TYPE VALUE ...: the step's result line, from json_object's arguments.
result_object() {
    local json
    json="$(json_object "$@")"
    printf 'TPU_SFT_RESULT %s\n' "$json"
}

# --- the Python that runs the workload ----------------------------------------------------------------------
# The conda env of the SOP, or the host's python3 (offline rehearsal).
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

# --- the bucket -------------------------------------------------------------------------------------------

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

# check_objects FILE: FILE has lines "<label>\t<uri>\t<size>\t<crc32c>" (objects a record names); prints the first
# whose object is gone or differs, as "<label> <uri>: recorded …; the bucket has …", and nothing when all match.
check_objects() {
    local what uri size crc found
    while IFS=$'\t' read -r what uri size crc; do
        [[ -n "$what" ]] || continue
        found="$(object_size_crc "$uri")"
        if [[ "$found" != "${size}"$'\t'"${crc}" ]]; then
            printf '%s %s: recorded %s bytes, crc32c %s; the bucket has %s\n' "$what" "$uri" "$size" "$crc" \
                "${found:-no such object}"
            return
        fi
    done <"$1"
}

# put_verified FILE URI: copies a small document to URI and checks the object's size and crc32c against the
# file's; prints "<size>\t<crc32c>". Call it as `x="$(put_verified …)"`: a failure ends the calling script (set -e).
put_verified() {
    local doc="$1" uri="$2" size crc written
    gcs cp "$doc" "$uri" >&2 || die "gcloud storage cp to $uri failed"
    size="$(file_size "$doc")"
    crc="$(file_crc32c "$doc")"
    written="$(object_size_crc "$uri")"
    [[ "$written" == "${size}"$'\t'"${crc}" ]] ||
        die "integrity check failed for $uri: object has '${written:-missing}', the written file ${size}/${crc}"
    printf '%s\t%s\n' "$size" "$crc"
}

# recall_entry TOOL URI RUN_ID WORK: is RUN_ID recorded in the document at URI (a handoff manifest or an eval
# record), and do the objects of its entry still match? TOOL is the document's Python tool, whose `pick` writes the
# entry (exit 3: none) and whose `objects` lists its objects for check_objects. Sets RECALL_STATE (complete, absent
# or stale), RECALL_ENTRY (the entry's JSON when complete, else null) and RECALL_WHY (what no longer matches).
# shellcheck disable=SC2034 # the RECALL_* variables are read by the script that calls it
recall_entry() {
    local tool="$1" uri="$2" run_id="$3" work="$4" rc=0
    RECALL_STATE=absent RECALL_ENTRY=null RECALL_WHY=""
    [[ -n "$(object_size_crc "$uri")" ]] || return 0
    gcs cat "$uri" >"$work/current.json" || die "could not read $uri"
    "$tool" pick "$work/current.json" "$run_id" "$work/entry.json" || rc=$?
    ((rc != 3)) || return 0
    ((rc == 0)) || die "could not read $uri (see above); fix or delete that object"
    "$tool" objects "$work/entry.json" >"$work/objects.tsv"
    RECALL_WHY="$(check_objects "$work/objects.tsv")"
    if [[ -z "$RECALL_WHY" ]]; then
        RECALL_STATE=complete
        RECALL_ENTRY="$(json_file "$work/entry.json")"
    else
        RECALL_STATE=stale
    fi
}

# crc32c of a local file, base64 as GCS reports it.
file_crc32c() {
    gcs hash "$1" --skip-md5 --format='value(crc32c_hash)' | head -n 1
}

# "<object name>\t<size>\t<crc32c>" of every object directly under a gs:// folder, in one gcloud call (nothing when
# there are none).
objects_size_crc() {
    gcs objects list "${1%/}/*" --format='value(name,size,crc32c_hash)' 2>/dev/null || true
}

# "<path>\t<crc32c>" of several local files, in one gcloud call.
files_crc32c() {
    gcs hash "$@" --skip-md5 --format='value(url,crc32c_hash)'
}

file_size() { stat -c %s "$1"; }

# --- the detached training or eval job ----------------------------------------------------------------------
# One run directory per (run, run key) holds pid, train.log, exit, started_at, finished_at, attempt and
# reported. The key changes whenever the run's inputs change, so a changed run is a new directory.
# Every process of a job carries TPU_SFT_RUN_DIR=<its run directory> in its environment: that marker, not a
# process name or a working directory, is how these scripts tell their own processes from anyone else's.

# has_run_marker PID PREFIX: the process's environment has TPU_SFT_RUN_DIR=PREFIX...
has_run_marker() {
    local entry
    while IFS= read -r -d '' entry; do
        if [[ "$entry" == "TPU_SFT_RUN_DIR=$2"* ]]; then return 0; fi
    done <"/proc/$1/environ"
    return 1
} 2>/dev/null

pid_alive() {
    local pid="$1"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid would not carry our marker.
    has_run_marker "$pid" "$RUN_DIR"
}

run_state() {
    # Prints one of: none, running, succeeded, failed, failed-reported, vanished
    if [[ -f "$RUN_DIR/exit" ]]; then
        local code
        code="$(cat "$RUN_DIR/exit")"
        # An exit 0 the wait step rejected (W&B online but not initialised) counts as a failure.
        if [[ "$code" == "0" && ! -f "$RUN_DIR/rejected" ]]; then
            echo succeeded
            return
        fi
        if [[ -f "$RUN_DIR/reported" ]]; then echo failed-reported; else echo failed; fi
        return
    fi
    if [[ -f "$RUN_DIR/pid" ]]; then
        if pid_alive "$(cat "$RUN_DIR/pid")"; then
            echo running
            return
        fi
        if [[ -f "$RUN_DIR/reported" ]]; then echo failed-reported; else echo vanished; fi
        return
    fi
    echo none
}

# Processes of jobs this program started on this host (any run), by their marker; never this step itself.
our_job_pids() {
    local environ_file pid
    # One grep over every environ file finds the candidates; has_run_marker then checks each one exactly.
    for environ_file in $(grep -lsFz -e "TPU_SFT_RUN_DIR=$RUNS_ROOT/" /proc/[0-9]*/environ || true); do
        pid="${environ_file#/proc/}"
        pid="${pid%/environ}"
        if [[ "$pid" != "$$" && "$pid" != "$BASHPID" ]] && has_run_marker "$pid" "$RUNS_ROOT/"; then
            echo "$pid"
        fi
    done
}

# Processes that have FILE open.
file_holders() {
    local link pid
    for link in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$1" 2>/dev/null || true); do
        pid="${link#/proc/}"
        echo "${pid%%/*}"
    done | sort -un
}

describe_pids() {
    local pid described=()
    for pid in "$@"; do described+=("$pid ($(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-80 || true))"); done
    printf '%s' "${described[*]}"
}

# group_running PGID: a process of the group is alive (a zombie waiting to be reaped does not count).
group_running() {
    local p state
    for p in $(pgrep -g "$1" 2>/dev/null || true); do
        state="$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1 || true)"
        if [[ -n "$state" && "$state" != Z ]]; then return 0; fi
    done
    return 1
}

# stop_job: stop this run's job on this worker (its whole process group: the job was started with setsid, so
# its pid is its group's id), SIGTERM first, SIGKILL after STOP_GRACE_SECONDS (default 10). Prints nothing;
# returns once no process of the group is left. A job that is not running is left as it is.
stop_job() {
    local pid
    pid="$(cat "$RUN_DIR/pid" 2>/dev/null || true)"
    pid_alive "$pid" || return 0
    kill -TERM -- "-$pid" 2>/dev/null || true
    local deadline=$((SECONDS + ${STOP_GRACE_SECONDS:-10}))
    while group_running "$pid"; do
        if ((SECONDS >= deadline)); then
            kill -KILL -- "-$pid" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.2
    done
}

# libtpu allows one owner per TPU and leaves this file behind when its owner dies.
LIBTPU_LOCK=/tmp/libtpu_lockfile

# Before a job starts: stop what is left of this program's earlier jobs (they would hold the TPU), then
# clear the libtpu lock file if nobody holds it. Other users' processes on a shared VM are never stopped:
# if one of them holds the TPU, the step says so and stops.
stop_leftovers() {
    local victims=() pid
    mapfile -t victims < <(our_job_pids)
    if ((${#victims[@]} > 0)); then
        log "stopping processes of this program's earlier jobs: $(describe_pids "${victims[@]}")"
        kill -TERM "${victims[@]}" 2>/dev/null || true
        local alive
        for _ in $(seq 1 20); do
            alive=0
            for pid in "${victims[@]}"; do
                if kill -0 "$pid" 2>/dev/null; then alive=1; fi
            done
            if ((alive == 0)); then break; fi
            sleep 0.5
        done
        kill -KILL "${victims[@]}" 2>/dev/null || true
    fi
    if [[ -e "$LIBTPU_LOCK" ]]; then
        local holders=()
        mapfile -t holders < <(file_holders "$LIBTPU_LOCK")
        if ((${#holders[@]} > 0)); then
            die "the TPU is in use: $LIBTPU_LOCK is held by $(describe_pids "${holders[@]}"), which this program did not start. Stop it, or wait until it ends, then run \`pulumi up\` again"
        fi
        log "removing stale $LIBTPU_LOCK (no process holds it)"
        rm -f "$LIBTPU_LOCK"
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
        for f in pid exit train.log started_at finished_at reported rejected stopped; do
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
