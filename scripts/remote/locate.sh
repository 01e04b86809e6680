#!/usr/bin/env bash
# locate.sh: report which checkpoints of the run this worker holds. Only JAX process 0 writes them, and
# process 0 can be on any worker, so every worker answers and the program picks the holder.
# Inputs: RUN_ID, OUTPUT_DIR (relative to the checkout), KINDS (comma-separated: best,last).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env RUN_ID OUTPUT_DIR KINDS
started="$(cat "$RUN_DIR/started_at" 2>/dev/null || echo 0)"
process="$(grep -aoE 'process=[0-9]+/[0-9]+' "$RUN_DIR/train.log" 2>/dev/null | head -n 1 | sed -E 's/process=([0-9]+)\/.*/\1/' || true)"
files=()
IFS=',' read -r -a kind_list <<<"$KINDS"
for kind in "${kind_list[@]}"; do
    [[ "$kind" =~ ^(best|last)$ ]] || die "unknown checkpoint kind '$kind'"
    path="$REPO_DIR/$OUTPUT_DIR/sft_state_${kind}.msgpack"
    [[ -f "$path" ]] || continue
    mtime="$(stat -c %Y "$path")"
    # A checkpoint older than this run's start is a leftover of an earlier run, not this run's output.
    fresh=false
    if ((mtime >= started)); then fresh=true; fi
    size="$(file_size "$path")"
    crc="$(file_crc32c "$path")" || die "could not hash $path"
    file="$(json_object path str "$path" size int "$size" crc32c str "$crc" fresh bool "$fresh")"
    files+=("$kind" json "$file")
    log "found $kind checkpoint $path ($size bytes, crc32c $crc, fresh=$fresh)"
done
found="$(json_object "${files[@]}")"
result_object host str "$HOST_SHORT" processIndex int-or-null "$process" files json "$found"
