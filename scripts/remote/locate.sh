# locate.sh: report which checkpoints of the run this worker holds. Only JAX process 0 writes them, and
# process 0 can be on any worker, so every worker answers and the program picks the holder.
# Inputs: RUN_ID, OUTPUT_DIR (relative to the checkout), KINDS (comma-separated: best,last).
require_env RUN_ID OUTPUT_DIR KINDS
started="$(cat "$RUN_DIR/started_at" 2>/dev/null || echo 0)"
process="$(grep -aoE 'process=[0-9]+/[0-9]+' "$RUN_DIR/train.log" 2>/dev/null | head -n 1 | sed -E 's/process=([0-9]+)\/.*/\1/' || true)"
files=""
IFS=',' read -r -a kinds <<<"$KINDS"
for kind in "${kinds[@]}"; do
    [[ "$kind" =~ ^(best|last)$ ]] || die "unknown checkpoint kind '$kind'"
    path="$REPO_DIR/$OUTPUT_DIR/sft_state_${kind}.msgpack"
    [[ -f "$path" ]] || continue
    mtime="$(stat -c %Y "$path")"
    # A checkpoint older than this run's start is a leftover of an earlier run, not this run's output.
    fresh=false
    if ((mtime >= started)); then fresh=true; fi
    crc="$(file_crc32c "$path")" || die "could not hash $path"
    files+="${files:+,}$(json_str "$kind"):{\"path\":$(json_str "$path"),\"size\":$(file_size "$path"),\"crc32c\":$(json_str "$crc"),\"fresh\":$fresh}"
    log "found $kind checkpoint $path ($(file_size "$path") bytes, crc32c $crc, fresh=$fresh)"
done
result "{\"host\":$(json_str "$HOST_SHORT"),\"processIndex\":$(json_int "$process"),\"files\":{$files}}"
