#!/usr/bin/env bash
# evalreport.sh: what the eval job left behind: the W&B run URL from its log, the evaluator's metrics JSON,
# and the predictions file. With W&B online, a log that says `wandb disabled due to init error` fails here:
# the runner exits 0 in that case, so only the log tells.
# Inputs: RUN_ID, OUTPUT_DIR (the eval config's output_dir), WANDB_MODE.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID OUTPUT_DIR WANDB_MODE
LOG="$RUN_DIR/train.log"
[[ -f "$LOG" ]] || die "no eval log at $LOG"
predictions="$REPO_DIR/$OUTPUT_DIR/eval_predictions.json"
metrics="$REPO_DIR/$OUTPUT_DIR/eval_predictions.metrics.json"
[[ -f "$predictions" ]] || die "the eval job wrote no $predictions (see $LOG)"
[[ -f "$metrics" ]] || die "the eval job wrote no $metrics (see $LOG)"
init_error="$(grep -a 'wandb disabled due to init error' "$LOG" | tail -n 1 | cut -c1-300 || true)"
url="$(grep -aoE 'https://wandb\.ai/[^[:space:]]+/runs/[A-Za-z0-9]+' "$LOG" | tail -n 1 || true)"
if [[ "$WANDB_MODE" == "online" ]]; then
    [[ -z "$init_error" ]] || die "W&B is online but the runner logged: ${init_error} (check the W&B key in ~/.env; the eval ran without W&B)"
    [[ -n "$url" ]] || die "W&B is online but the eval log has no W&B run URL (log $LOG)"
fi
metrics_json="$(json_file "$metrics")" || die "$metrics is not valid JSON (NaN and Infinity are not JSON either)"
result_object host str "$HOST_SHORT" wandbUrl str "$url" predictionsPath str "$predictions" metrics json "$metrics_json"
