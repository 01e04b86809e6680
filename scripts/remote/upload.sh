#!/usr/bin/env bash
# upload.sh: copy one checkpoint to the bucket with `gcloud storage cp` and prove the object matches the
# local file (size and crc32c); an identical object already there is not copied again.
# Inputs: FILE, DEST_URI, EXPECT_SIZE, EXPECT_CRC32C (what the locate step measured).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env FILE DEST_URI EXPECT_SIZE EXPECT_CRC32C
require_int EXPECT_SIZE
[[ -f "$FILE" ]] || die "checkpoint $FILE is missing on this worker"
size="$(file_size "$FILE")"
[[ "$size" == "$EXPECT_SIZE" ]] || die "checkpoint $FILE changed since it was located: $size bytes now, $EXPECT_SIZE then"

skipped=false
existing="$(object_size_crc "$DEST_URI")"
if [[ "$existing" == "${EXPECT_SIZE}"$'\t'"${EXPECT_CRC32C}" ]]; then
    log "$DEST_URI already holds this checkpoint ($EXPECT_SIZE bytes, crc32c $EXPECT_CRC32C); not copying"
    skipped=true
else
    if [[ -n "$existing" ]]; then log "replacing $DEST_URI (it holds: $existing)"; fi
    start="$(date +%s)"
    gcs cp "$FILE" "$DEST_URI" >&2 || die "gcloud storage cp $FILE $DEST_URI failed"
    log "copied $EXPECT_SIZE bytes in $(($(date +%s) - start)) s"
fi
uploaded="$(object_size_crc "$DEST_URI")"
[[ "$uploaded" == "${EXPECT_SIZE}"$'\t'"${EXPECT_CRC32C}" ]] ||
    die "integrity check failed for $DEST_URI: object has size/crc32c '${uploaded:-missing}', local file has ${EXPECT_SIZE}/${EXPECT_CRC32C}"
result_object uri str "$DEST_URI" size int "$EXPECT_SIZE" crc32c str "$EXPECT_CRC32C" skipped bool "$skipped"
