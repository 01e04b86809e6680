#!/usr/bin/env bash
# wait.sh: poll this worker's job until it exits, vanishes, or runs out of time; print progress lines.
# Inputs: RUN_ID, JOB_CONFIG, JOB_MODE, PROCESS_COUNT, ENV_MODE, CONDA_ENV (to relaunch after a
# reported failure), TIME_LIMIT_SECONDS, POLL_SECONDS, PROGRESS_SECONDS, GRACE_SECONDS, TAIL_LINES,
# and optionally LOG_URI (gs://… where this worker's log is copied when the job ends) and REQUIRE_WANDB=1
# (W&B is online: a job that logged `wandb disabled due to init error` failed, whatever its exit code).
# Re-running it after an interrupted `pulumi up` resumes waiting; after a failure it has reported, it
# starts a new attempt (every worker's wait does, in the same `pulumi up`, so the slice relaunches together).
#
# One slice, one fate: on a multi-host slice (PROCESS_COUNT > 1 and SIGNAL_URI set) the workers' waits share the
# bucket as their signal, because the workers cannot see each other's files. A wait whose own job fails writes
# <SIGNAL_URI><attempt>/failed-w<WORKER_INDEX>.json (exit code, reason, log tail); every wait lists
# <SIGNAL_URI><attempt>/ once per POLL_SECONDS (one gcloud call) and, when a peer's marker is there, stops its own
# job's process group and fails naming the first failing worker. The local job is polled every second.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID JOB_CONFIG JOB_MODE PROCESS_COUNT ENV_MODE TIME_LIMIT_SECONDS POLL_SECONDS PROGRESS_SECONDS GRACE_SECONDS TAIL_LINES
require_int PROCESS_COUNT TIME_LIMIT_SECONDS POLL_SECONDS PROGRESS_SECONDS GRACE_SECONDS TAIL_LINES
LOG="$RUN_DIR/train.log"
SIGNAL_URI="${SIGNAL_URI:-}"
if [[ -n "$SIGNAL_URI" ]]; then
    require_int WORKER_INDEX
    [[ "$SIGNAL_URI" == gs://*/ ]] || die "input SIGNAL_URI='${SIGNAL_URI}' is not a gs://…/ folder (a bug in the command builder)"
fi
# How often this worker's own job is looked at: completion and failure are noticed within about a second.
LOCAL_POLL_SECONDS=1

state="$(run_state)"
case "$state" in
    none) die "run $RUN_ID was never launched on this worker ($RUN_DIR/pid is missing); the launch step must run first" ;;
    failed-reported)
        log "attempt $(cat "$RUN_DIR/attempt") failed earlier and was reported; starting a new attempt"
        start_job
        ;;
    *) log "run $RUN_ID is $state (attempt $(cat "$RUN_DIR/attempt"))" ;;
esac

copy_log() {
    [[ -n "${LOG_URI:-}" ]] || return 0
    if gcs cp --quiet "$LOG" "$LOG_URI" >/dev/null 2>&1; then
        log "log copied to $LOG_URI"
    else
        log "warning: could not copy the log to $LOG_URI (it stays at $LOG)"
    fi
}

tail_of_log() {
    printf '%s\n' "--- last ${TAIL_LINES} lines of ${LOG} on ${HOST_SHORT} ---"
    tail -n "$TAIL_LINES" "$LOG" 2>/dev/null | cut -c1-400
    printf '%s\n' "--- end of log ---"
}

format_duration() {
    local s=$1
    if ((s >= 3600)); then printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60)); else printf '%dm%02ds' $((s / 60)) $((s % 60)); fi
}

# "step=12/980 loss=1.2345" style lines are what the runner prints; anything else shows the last line.
progress_line() {
    local now started elapsed line step total loss eta=""
    now="$(date +%s)"
    started="$(cat "$RUN_DIR/started_at")"
    elapsed=$((now - started))
    line="$(grep -aE 'step[=: ]+[0-9]+ */ *[0-9]+' "$LOG" 2>/dev/null | tail -n 1 || true)"
    if [[ -n "$line" ]]; then
        step="$(sed -nE 's/.*step[=: ]+([0-9]+) *\/ *([0-9]+).*/\1/p' <<<"$line")"
        total="$(sed -nE 's/.*step[=: ]+([0-9]+) *\/ *([0-9]+).*/\2/p' <<<"$line")"
        loss="$(sed -nE 's/.*loss[=: ]+([-0-9.eE+]+).*/\1/p' <<<"$line")"
        if ((step > 0 && total > step)); then
            eta=" eta=$(format_duration $((elapsed * (total - step) / step)))"
        fi
        log "progress: step=${step}/${total} loss=${loss:-?} elapsed=$(format_duration "$elapsed")${eta}"
    else
        log "progress: elapsed=$(format_duration "$elapsed") last log line: $(tail -n 1 "$LOG" 2>/dev/null | cut -c1-200)"
    fi
}

# The markers of this attempt: one folder per attempt, so a relaunch never sees the last attempt's failure.
signal_dir() { printf '%s%s/' "$SIGNAL_URI" "$(cat "$RUN_DIR/attempt")"; }

# fail_attempt CODE REASON: report this worker's failure to its peers (when on a multi-host slice), then fail.
fail_attempt() {
    local code="$1" reason="$2" attempt failed_at marker tail_text
    attempt="$(cat "$RUN_DIR/attempt")"
    touch "$RUN_DIR/reported"
    copy_log
    tail_of_log >&2
    if [[ -n "$SIGNAL_URI" ]] && ((PROCESS_COUNT > 1)); then
        failed_at="$(cat "$RUN_DIR/finished_at" 2>/dev/null || date +%s)"
        tail_text="$(tail -n "$TAIL_LINES" "$LOG" 2>/dev/null | cut -c1-400 || true)"
        marker="$(mktemp)"
        json_object worker int "$WORKER_INDEX" host str "$HOST_SHORT" attempt int "$attempt" exitCode int-or-null "$code" \
            reason str "$reason" failedAt int "$failed_at" logTail str "$tail_text" >"$marker"
        printf '\n' >>"$marker"
        if gcs cp --quiet "$marker" "$(signal_dir)failed-w${WORKER_INDEX}.json" >/dev/null 2>&1; then
            log "told the other workers: $(signal_dir)failed-w${WORKER_INDEX}.json"
        else
            log "warning: could not write $(signal_dir)failed-w${WORKER_INDEX}.json; the other workers will not stop early"
        fi
        rm -f "$marker"
    fi
    die "worker ${HOST_SHORT}: ${reason} (attempt ${attempt}, log ${LOG}). $3"
}

# The first failure among the peers' markers of this attempt, as "worker<TAB>host<TAB>reason<TAB>exit", with its log
# tail after it; nothing when no peer has failed. One `gcloud storage ls` per call, plus a `cat` once a marker is there.
peer_failure() {
    local listing urls=()
    listing="$(gcs ls "$(signal_dir)" 2>/dev/null || true)"
    mapfile -t urls < <(grep -E '/failed-w[0-9]+\.json$' <<<"$listing" | grep -vE "/failed-w${WORKER_INDEX}\.json$" || true)
    ((${#urls[@]} > 0)) || return 0
    gcs cat "${urls[@]}" 2>/dev/null | python3 -c '
import json, sys
markers = []
for line in sys.stdin:
    line = line.strip()
    if line:
        try:
            markers.append(json.loads(line))
        except ValueError:
            pass
if markers:
    m = min(markers, key=lambda m: (m.get("failedAt", 0), m.get("worker", 0)))
    print("%s\t%s\t%s\t%s\t%s" % (m.get("worker"), m.get("host"), m.get("reason"), m.get("exitCode"), m.get("failedAt")))
    print(m.get("logTail", ""))
' || true
}

# first_failure_before TIME: ", after worker K (host) failed first: <reason>" when a peer's marker of this attempt
# is no later than TIME (a job that died of its peer's failure names the cause); nothing otherwise.
first_failure_before() {
    [[ -n "$SIGNAL_URI" ]] && ((PROCESS_COUNT > 1)) || return 0
    local found worker host reason code at
    found="$(peer_failure)"
    [[ -n "$found" ]] || return 0
    IFS=$'\t' read -r worker host reason code at <<<"$(head -n 1 <<<"$found")"
    [[ "$at" =~ ^[0-9]+$ ]] && ((at <= $1)) || return 0
    printf ', after worker %s (%s) failed first: %s, exit code %s' "$worker" "$host" "$reason" "$code"
}

# stop_for_peer: a peer failed first; stop this worker's job and fail naming that worker.
stop_for_peer() {
    local found="$1" head worker host reason code attempt
    head="$(head -n 1 <<<"$found")"
    IFS=$'\t' read -r worker host reason code _ <<<"$head"
    attempt="$(cat "$RUN_DIR/attempt")"
    log "worker ${worker} (${host}) failed: ${reason}; stopping this worker's ${JOB_MODE} job (pid $(cat "$RUN_DIR/pid"))"
    stop_job
    printf 'worker %s (%s): %s\n' "$worker" "$host" "$reason" >"$RUN_DIR/stopped"
    touch "$RUN_DIR/reported"
    copy_log
    {
        printf '%s\n' "--- last lines of the log of worker ${worker} (${host}) ---"
        tail -n +2 <<<"$found"
        printf '%s\n' "--- end of log ---"
    } >&2
    die "worker ${HOST_SHORT}: stopped its ${JOB_MODE} job (attempt ${attempt}) because worker ${worker} (${host}) failed first: ${reason}, exit code ${code}. One slice, one fate: fix the cause and run \`pulumi up\` again to relaunch every worker."
}

last_progress=0
# The first look at the peers' markers comes one poll after the start, not at once: the waits start with their
# launches, so a look then almost never finds a marker, and each look is a gcloud call (about a second of CPU).
last_peer_check="$(date +%s)"
while true; do
    state="$(run_state)"
    case "$state" in
        succeeded)
            wandb_error="$(grep -a 'wandb disabled due to init error' "$LOG" | tail -n 1 | cut -c1-300 || true)"
            if [[ "${REQUIRE_WANDB:-0}" == "1" && -n "$wandb_error" ]]; then
                # The runner exits 0 when wandb.init fails; the next `pulumi up` relaunches once the key is fixed.
                printf '%s\n' "$wandb_error" >"$RUN_DIR/rejected"
                touch "$RUN_DIR/reported"
                copy_log
                die "worker ${HOST_SHORT}: W&B is online but the ${JOB_MODE} job logged: ${wandb_error} (fix the W&B key, e.g. pulumi config set --secret tpu-sft:wandbApiKey …, and run \`pulumi up\` again to re-run it)"
            fi
            copy_log
            started="$(cat "$RUN_DIR/started_at")"
            finished="$(cat "$RUN_DIR/finished_at" 2>/dev/null || date +%s)"
            process="$(grep -aoE 'process=[0-9]+/[0-9]+' "$LOG" | head -n 1 | sed -E 's/process=([0-9]+)\/.*/\1/' || true)"
            attempt="$(cat "$RUN_DIR/attempt")"
            result_object host str "$HOST_SHORT" exitCode int 0 attempt int "$attempt" processIndex int-or-null "$process" \
                startedAt int "$started" finishedAt int "$finished" logUri str "${LOG_URI:-}"
            exit 0
            ;;
        failed | failed-reported)
            code="$(cat "$RUN_DIR/exit" 2>/dev/null || echo '?')"
            if [[ -f "$RUN_DIR/stopped" ]]; then
                die "worker ${HOST_SHORT}: its ${JOB_MODE} job was stopped because $(cat "$RUN_DIR/stopped") (attempt $(cat "$RUN_DIR/attempt")). Run \`pulumi up\` again to relaunch."
            fi
            fail_attempt "$code" "the ${JOB_MODE} job exited with code ${code}$(first_failure_before "$(cat "$RUN_DIR/finished_at" 2>/dev/null || date +%s)")" \
                "Fix the cause and run \`pulumi up\` again to relaunch."
            ;;
        vanished)
            # The exit file is written right after the process ends; give it the grace period.
            sleep "$GRACE_SECONDS"
            [[ "$(run_state)" == "vanished" ]] || continue
            fail_attempt "" "the ${JOB_MODE} process $(cat "$RUN_DIR/pid") is gone without an exit code: it died or the VM was preempted" \
                "Run \`pulumi up\` again to relaunch."
            ;;
    esac
    now="$(date +%s)"
    elapsed=$((now - $(cat "$RUN_DIR/started_at")))
    if ((elapsed > TIME_LIMIT_SECONDS)); then
        tail_of_log >&2
        die "worker ${HOST_SHORT}: the ${JOB_MODE} job has run $(format_duration "$elapsed"), over the time limit of $(format_duration "$TIME_LIMIT_SECONDS"); it is still running (pid $(cat "$RUN_DIR/pid")). Raise the limit and run \`pulumi up\` to keep waiting, or stop it."
    fi
    if [[ -n "$SIGNAL_URI" ]] && ((PROCESS_COUNT > 1 && now - last_peer_check >= POLL_SECONDS)); then
        last_peer_check=$now
        found="$(peer_failure)"
        # Our own job may have ended meanwhile: its own state wins (the next pass reports it).
        if [[ -n "$found" && "$(run_state)" == running ]]; then stop_for_peer "$found"; fi
    fi
    if ((now - last_progress >= PROGRESS_SECONDS)); then
        progress_line
        last_progress=$now
    fi
    sleep "$LOCAL_POLL_SECONDS"
done
