#!/usr/bin/env bash
# calc.sh: run upstream MiniOneRec calc.py on the eval predictions, as SOP step F does, keep its full
# stdout beside the run, and return the tail that holds the metrics (invalid predictions print before it).
# Inputs: RUN_ID, OUTPUT_DIR, ITEM_FILE (relative to the checkout), ENV_MODE, CONDA_ENV.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID OUTPUT_DIR ITEM_FILE ENV_MODE CONDA_ENV
cd "$REPO_DIR"
[[ -f workdir/MiniOneRec/calc.py ]] || die "workdir/MiniOneRec/calc.py is missing (bootstrap checks MiniOneRec out)"
[[ -f "$ITEM_FILE" ]] || die "item file $ITEM_FILE does not exist in $REPO_DIR"
activate_python
out="$RUN_DIR/calc.stdout"
if ! python workdir/MiniOneRec/calc.py --path "$OUTPUT_DIR/eval_predictions.json" --item_path "$ITEM_FILE" >"$out" 2>"$RUN_DIR/calc.stderr"; then
    tail -n 20 "$RUN_DIR/calc.stderr" >&2
    die "calc.py failed on $OUTPUT_DIR/eval_predictions.json"
fi
lines="$(wc -l <"$out")"
tail_text="$(tail -n 24 "$out")"
result_object host str "$HOST_SHORT" stdoutPath str "$out" stdoutLines int "$lines" tail str "$tail_text"
