#!/usr/bin/env bash
# launch.sh: start the run's job on this worker, detached, and return at once.
# Inputs: RUN_ID, JOB_CONFIG, JOB_MODE (train|eval), PROCESS_COUNT, ENV_MODE, CONDA_ENV.
# Every worker of a multi-host slice runs this at the same time (no dependency between them): JAX's
# rendezvous needs all processes to start together.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID JOB_CONFIG JOB_MODE PROCESS_COUNT ENV_MODE
require_int PROCESS_COUNT
[[ -d "$REPO_DIR/.git" ]] || die "no checkout at $REPO_DIR: the bootstrap step has not run on this worker"
[[ -f "$REPO_DIR/$JOB_CONFIG" ]] ||
    die "config $JOB_CONFIG does not exist in $REPO_DIR at $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?'); check the run's config path and the pinned commit"

state="$(run_state)"
case "$state" in
    running | succeeded)
        log "run $RUN_ID is already $state here; not starting a second copy"
        ;;
    failed | vanished)
        # The wait step reports this failure first; the next wait relaunches.
        log "run $RUN_ID ended ($state) and the wait step has not reported it yet; not relaunching here"
        ;;
    none | failed-reported)
        start_job
        ;;
esac
result_object host str "$HOST_SHORT" state str "$state" runDir str "$RUN_DIR"
