#!/usr/bin/env bash
# wait.sh: poll this worker's job until it exits, vanishes, or runs out of time; print progress lines.
# Inputs: RUN_ID, JOB_CONFIG, JOB_MODE, PROCESS_COUNT, ENV_MODE, CONDA_ENV (to relaunch after a
# reported failure), TIME_LIMIT_SECONDS, POLL_SECONDS, PROGRESS_SECONDS, GRACE_SECONDS, TAIL_LINES,
# and optionally LOG_URI (gs://… where this worker's log is copied when the job ends) and REQUIRE_WANDB=1
# (W&B is online: a job that logged `wandb disabled due to init error` failed, whatever its exit code).
# Re-running it after an interrupted `pulumi up` resumes waiting; after a failure it has reported, it
# starts a new attempt (every worker's wait does, in the same `pulumi up`, so the slice relaunches together).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID JOB_CONFIG JOB_MODE PROCESS_COUNT ENV_MODE TIME_LIMIT_SECONDS POLL_SECONDS PROGRESS_SECONDS GRACE_SECONDS TAIL_LINES
require_int PROCESS_COUNT TIME_LIMIT_SECONDS POLL_SECONDS PROGRESS_SECONDS GRACE_SECONDS TAIL_LINES
LOG="$RUN_DIR/train.log"

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

last_progress=0
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
            code="$(cat "$RUN_DIR/exit")"
            touch "$RUN_DIR/reported"
            copy_log
            tail_of_log >&2
            die "worker ${HOST_SHORT}: the ${JOB_MODE} job exited with code ${code} (attempt $(cat "$RUN_DIR/attempt"), log ${LOG}). Fix the cause and run \`pulumi up\` again to relaunch."
            ;;
        vanished)
            # The exit file is written right after the process ends; give it the grace period.
            sleep "$GRACE_SECONDS"
            [[ "$(run_state)" == "vanished" ]] || continue
            touch "$RUN_DIR/reported"
            copy_log
            tail_of_log >&2
            die "worker ${HOST_SHORT}: the ${JOB_MODE} process $(cat "$RUN_DIR/pid") is gone without an exit code: it died or the VM was preempted (log ${LOG}). Run \`pulumi up\` again to relaunch."
            ;;
    esac
    now="$(date +%s)"
    elapsed=$((now - $(cat "$RUN_DIR/started_at")))
    if ((elapsed > TIME_LIMIT_SECONDS)); then
        tail_of_log >&2
        die "worker ${HOST_SHORT}: the ${JOB_MODE} job has run $(format_duration "$elapsed"), over the time limit of $(format_duration "$TIME_LIMIT_SECONDS"); it is still running (pid $(cat "$RUN_DIR/pid")). Raise the limit and run \`pulumi up\` to keep waiting, or stop it."
    fi
    if ((now - last_progress >= PROGRESS_SECONDS)); then
        progress_line
        last_progress=$now
    fi
    sleep "$POLL_SECONDS"
done
