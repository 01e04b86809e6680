#!/usr/bin/env bash
# artifacts.sh: copy the eval's predictions, metrics JSON, log, calc.py output and item file to the
# bucket, each checked by size and crc32c, so the numbers can be re-checked after the TPU is gone.
# Inputs: RUN_ID, OUTPUT_DIR, ITEM_FILE, DEST_PREFIX (gs://bucket/prefix/eval/<run>).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID OUTPUT_DIR ITEM_FILE DEST_PREFIX
entries=()
copy_checked() {
    local name="$1" file="$2" uri="$DEST_PREFIX/$1"
    [[ -f "$file" ]] || die "$file is missing"
    local size crc ref
    size="$(file_size "$file")"
    crc="$(file_crc32c "$file")"
    if [[ "$(object_size_crc "$uri")" != "${size}"$'\t'"${crc}" ]]; then
        gcs cp "$file" "$uri" >&2 || die "gcloud storage cp $file $uri failed"
        [[ "$(object_size_crc "$uri")" == "${size}"$'\t'"${crc}" ]] || die "integrity check failed for $uri after upload"
    fi
    log "$uri: $size bytes, crc32c $crc"
    ref="$(json_object uri str "$uri" size int "$size" crc32c str "$crc")"
    entries+=("$name" json "$ref")
}
copy_checked eval_predictions.json "$REPO_DIR/$OUTPUT_DIR/eval_predictions.json"
copy_checked eval_predictions.metrics.json "$REPO_DIR/$OUTPUT_DIR/eval_predictions.metrics.json"
copy_checked eval.log "$RUN_DIR/train.log"
copy_checked calc.stdout "$RUN_DIR/calc.stdout"
copy_checked items.txt "$REPO_DIR/$ITEM_FILE"
result_object "${entries[@]}"
