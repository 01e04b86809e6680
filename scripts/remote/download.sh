#!/usr/bin/env bash
# download.sh: fetch a checkpoint from the bucket to exactly the path the eval config's
# train.resume_from_checkpoint names, and prove it is the file the train stack uploaded (size and crc32c).
# An identical file already there is not fetched again. Eval never starts on a mismatch.
# Inputs: SRC_URI, JOB_CONFIG (the eval YAML, relative to the checkout), KIND (best|last), EXPECT_SIZE, EXPECT_CRC32C.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env SRC_URI JOB_CONFIG KIND EXPECT_SIZE EXPECT_CRC32C
require_int EXPECT_SIZE
cfg="$REPO_DIR/$JOB_CONFIG"
[[ -f "$cfg" ]] || die "eval config $JOB_CONFIG does not exist in $REPO_DIR at $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
rel="$(sed -nE "s/^[[:space:]]*resume_from_checkpoint:[[:space:]]*[\"']?([^\"' #]+)[\"']?.*$/\1/p" "$cfg" | head -n 1)"
[[ -n "$rel" ]] || die "eval config $JOB_CONFIG sets no train.resume_from_checkpoint; eval would not load the checkpoint"
[[ "${rel##*/}" == "sft_state_${KIND}.msgpack" ]] ||
    die "eval config $JOB_CONFIG resumes from $rel, which is not a '${KIND}' checkpoint; pair the run with the matching config or checkpoint kind"
case "$rel" in
    /*) dest="$rel" ;;
    *) dest="$REPO_DIR/$rel" ;;
esac

if [[ -f "$dest" && "$(file_size "$dest")" == "$EXPECT_SIZE" ]] && [[ "$(file_crc32c "$dest")" == "$EXPECT_CRC32C" ]]; then
    log "$dest already holds this checkpoint ($EXPECT_SIZE bytes, crc32c $EXPECT_CRC32C); not downloading"
    result_object path str "$dest" size int "$EXPECT_SIZE" crc32c str "$EXPECT_CRC32C" skipped bool true
    exit 0
fi

object="$(object_size_crc "$SRC_URI")"
[[ -n "$object" ]] || die "checkpoint object $SRC_URI does not exist (or this worker cannot read the bucket)"
if [[ "$object" != "${EXPECT_SIZE}"$'\t'"${EXPECT_CRC32C}" ]]; then
    die "checkpoint object $SRC_URI is not the one the train stack uploaded: expected size ${EXPECT_SIZE} crc32c ${EXPECT_CRC32C}, the bucket has size ${object%%$'\t'*} crc32c ${object##*$'\t'} (corrupted or replaced); eval will not start"
fi
mkdir -p "$(dirname "$dest")"
tmp="$dest.tpu-sft-download"
rm -f "$tmp"
start="$(date +%s)"
gcs cp "$SRC_URI" "$tmp" >&2 || die "gcloud storage cp $SRC_URI failed"
got_size="$(file_size "$tmp")"
got_crc="$(file_crc32c "$tmp")"
if [[ "$got_size" != "$EXPECT_SIZE" || "$got_crc" != "$EXPECT_CRC32C" ]]; then
    rm -f "$tmp"
    die "downloaded checkpoint does not match: expected size ${EXPECT_SIZE} crc32c ${EXPECT_CRC32C}, got size ${got_size} crc32c ${got_crc}; eval will not start"
fi
mv -f "$tmp" "$dest"
log "downloaded $SRC_URI to $dest ($got_size bytes in $(($(date +%s) - start)) s, crc32c $got_crc)"
result_object path str "$dest" size int "$got_size" crc32c str "$got_crc" skipped bool false
