#!/usr/bin/env bash
# artifacts.sh: copy the eval's predictions, metrics JSON, log, calc.py output and item file to the
# bucket, each checked by size and crc32c, so the numbers can be re-checked after the TPU is gone.
# gcloud starts in seconds, so the five files share each call: one hash, one listing, one copy of the files the
# bucket does not already hold, one listing to check them.
# Inputs: RUN_ID, OUTPUT_DIR, ITEM_FILE, DEST_PREFIX (gs://bucket/prefix/eval/<run>).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID OUTPUT_DIR ITEM_FILE DEST_PREFIX

names=(eval_predictions.json eval_predictions.metrics.json eval.log calc.stdout items.txt)
sources=(
    "$REPO_DIR/$OUTPUT_DIR/eval_predictions.json"
    "$REPO_DIR/$OUTPUT_DIR/eval_predictions.metrics.json"
    "$RUN_DIR/train.log"
    "$RUN_DIR/calc.stdout"
    "$REPO_DIR/$ITEM_FILE"
)
# The files under their object names, so one `cp` names them all (hard links: no copy of the predictions).
stage="$RUN_DIR/artifacts"
rm -rf "$stage"
mkdir -p "$stage"
for i in "${!names[@]}"; do
    [[ -f "${sources[$i]}" ]] || die "${sources[$i]} is missing"
    ln "${sources[$i]}" "$stage/${names[$i]}" 2>/dev/null || cp "${sources[$i]}" "$stage/${names[$i]}"
done

declare -A size crc
for name in "${names[@]}"; do size[$name]="$(file_size "$stage/$name")"; done
while IFS=$'\t' read -r path hash; do
    crc[${path##*/}]="$hash"
done < <(files_crc32c "${names[@]/#/$stage/}")
for name in "${names[@]}"; do [[ -n "${crc[$name]:-}" ]] || die "gcloud storage hash gave no crc32c for $stage/$name"; done

# What the bucket holds under DEST_PREFIX, as "<size>\t<crc32c>" by file name.
declare -A held
read_bucket() {
    held=()
    local object bytes hash
    while IFS=$'\t' read -r object bytes hash; do
        if [[ -n "$object" ]]; then held[${object##*/}]="${bytes}"$'\t'"${hash}"; fi
    done < <(objects_size_crc "$DEST_PREFIX")
}
read_bucket
missing=()
for name in "${names[@]}"; do
    if [[ "${held[$name]:-}" != "${size[$name]}"$'\t'"${crc[$name]}" ]]; then missing+=("$stage/$name"); fi
done
if ((${#missing[@]} > 0)); then
    gcs cp "${missing[@]}" "$DEST_PREFIX/" >&2 || die "gcloud storage cp of ${#missing[@]} files to $DEST_PREFIX/ failed"
    read_bucket
fi

entries=()
for name in "${names[@]}"; do
    uri="$DEST_PREFIX/$name"
    [[ "${held[$name]:-}" == "${size[$name]}"$'\t'"${crc[$name]}" ]] ||
        die "integrity check failed for $uri: the bucket has '${held[$name]:-nothing}', the file has ${size[$name]} bytes, crc32c ${crc[$name]}"
    log "$uri: ${size[$name]} bytes, crc32c ${crc[$name]}"
    entries+=("$name" json "$(json_object uri str "$uri" size int "${size[$name]}" crc32c str "${crc[$name]}")")
done
rm -rf "$stage"
result_object "${entries[@]}"
