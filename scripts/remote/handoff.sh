#!/usr/bin/env bash
# handoff.sh: the run's handoff manifest, gs://<bucket>/<prefix>/<run>/handoff.json (schema:
# components/lifecycle/manifest.ts).
#   MODE=record  after the uploads: check that every checkpoint of ENTRY_JSON is in the bucket with its size and
#                crc32c, add the entry (with recordedAt) under its run id, write the manifest and verify the copy.
#   MODE=recall  before a launch: is RUN_ID recorded, and do its objects still match? state complete (with the
#                entry), absent, or stale (an object is gone or changed: the run must be trained again).
#   MODE=latest  on the eval host: the most recently recorded entry with a KIND checkpoint, verified (its object
#                still matches); an error when there is none.
# Inputs: MODE, HANDOFF_URI, and ENTRY_JSON (record), RUN_ID (recall) or KIND (latest).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env MODE HANDOFF_URI
[[ "$HANDOFF_URI" =~ ^gs://[a-z0-9][a-z0-9_.-]*/.+/handoff\.json$ ]] ||
    die "input HANDOFF_URI='$HANDOFF_URI' is not gs://<bucket>/<prefix>/<run>/handoff.json (a bug in the command builder)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The manifest now in the bucket, into $work/current.json; returns 1 when there is none.
read_manifest() {
    [[ -n "$(object_size_crc "$HANDOFF_URI")" ]] || return 1
    gcs cat "$HANDOFF_URI" >"$work/current.json" || die "could not read $HANDOFF_URI"
}

# The manifest tool: validate, merge and pick entries (python3, which every host has).
manifest_py() {
    python3 - "$@" <<'PY'
import json, sys, datetime
op = sys.argv[1]
def load(path):
    with open(path) as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 1 or not isinstance(doc.get("entries"), dict):
        sys.exit(f"{path}: not a version 1 handoff manifest (schemaVersion {doc.get('schemaVersion') if isinstance(doc, dict) else '?'})")
    return doc
def lines(entry):
    for kind, ref in sorted(entry.get("checkpoints", {}).items()):
        print(f"{kind} checkpoint\t{ref['uri']}\t{ref['size']}\t{ref['crc32c']}")
if op == "objects":          # objects ENTRY_FILE
    with open(sys.argv[2]) as f:
        lines(json.load(f))
elif op == "merge":          # merge ENTRY_FILE CURRENT_OR_EMPTY OUT
    with open(sys.argv[2]) as f:
        entry = json.load(f)
    doc = load(sys.argv[3]) if sys.argv[3] else {"schemaVersion": 1, "run": entry["run"], "entries": {}}
    if doc["run"] != entry["run"]:
        sys.exit(f"the manifest is for run {doc['run']}, not {entry['run']}")
    before = dict(doc["entries"].get(entry["runId"], {}))
    recorded_at = before.pop("recordedAt", None)
    # Recording the same entry again (a recalled run) keeps the time it was first recorded.
    entry["recordedAt"] = recorded_at if before == entry else datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["entries"][entry["runId"]] = entry
    with open(sys.argv[4], "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
elif op == "pick":           # pick CURRENT RUN_ID OUT: the entry, or exit 3 when absent
    entry = load(sys.argv[2])["entries"].get(sys.argv[3])
    if entry is None:
        sys.exit(3)
    with open(sys.argv[4], "w") as f:
        json.dump(entry, f)
elif op == "latest":         # latest CURRENT KIND OUT: the newest entry with that checkpoint, or exit 3
    entries = [e for e in load(sys.argv[2])["entries"].values() if sys.argv[3] in e.get("checkpoints", {})]
    if not entries:
        sys.exit(3)
    entry = max(entries, key=lambda e: (e.get("recordedAt", ""), e.get("finishedAt", 0)))
    with open(sys.argv[4], "w") as f:
        json.dump(entry, f)
else:
    sys.exit(f"unknown manifest operation {op}")
PY
}

case "$MODE" in
    record)
        require_env ENTRY_JSON
        printf '%s' "$ENTRY_JSON" >"$work/entry.json"
        manifest_py objects "$work/entry.json" >"$work/objects.tsv" || die "ENTRY_JSON is not a manifest entry (a bug in the command builder)"
        mismatch="$(check_objects "$work/objects.tsv")"
        [[ -z "$mismatch" ]] || die "not recording the run: $mismatch"
        current=""
        if read_manifest; then current="$work/current.json"; fi
        manifest_py merge "$work/entry.json" "$current" "$work/next.json" ||
            die "could not merge the entry into $HANDOFF_URI (its content is shown above); fix or delete that object"
        verified="$(put_verified "$work/next.json" "$HANDOFF_URI")"
        size="${verified%%$'\t'*}" crc="${verified#*$'\t'}"
        entries="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["entries"]))' "$work/next.json")"
        log "recorded $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runId"])' "$work/entry.json") in $HANDOFF_URI ($entries entries)"
        result_object uri str "$HANDOFF_URI" entries int "$entries" size int "$size" crc32c str "$crc"
        ;;
    recall)
        require_env RUN_ID
        recall_entry manifest_py "$HANDOFF_URI" "$RUN_ID" "$work"
        case "$RECALL_STATE" in
            complete) log "run $RUN_ID is complete: recorded in $HANDOFF_URI and its checkpoints still match" ;;
            stale) log "run $RUN_ID is recorded in $HANDOFF_URI, but $RECALL_WHY: it runs again" ;;
            absent) log "run $RUN_ID is not in $HANDOFF_URI: it runs" ;;
        esac
        result_object state str "$RECALL_STATE" entry json "$RECALL_ENTRY" reason str "$RECALL_WHY"
        ;;
    latest)
        require_env KIND
        [[ "$KIND" =~ ^(best|last)$ ]] || die "input KIND='$KIND' is not best or last (a bug in the command builder)"
        read_manifest ||
            die "no handoff manifest at $HANDOFF_URI: the train stack has not handed this run off yet (run it first: npm run supervise -- --stack train), or eval.handoff names another bucket or prefix"
        rc=0
        manifest_py latest "$work/current.json" "$KIND" "$work/entry.json" || rc=$?
        ((rc != 3)) || die "$HANDOFF_URI records no run with a '$KIND' checkpoint; add $KIND to the train run's checkpoints, or evaluate another kind"
        ((rc == 0)) || die "could not read $HANDOFF_URI (see above); fix or delete that object"
        manifest_py objects "$work/entry.json" | grep -P "^${KIND}\t" >"$work/objects.tsv" || true
        why="$(check_objects "$work/objects.tsv")"
        [[ -z "$why" ]] || die "the latest entry of $HANDOFF_URI no longer matches the bucket: $why; run the train stack again to hand it off anew"
        log "using $(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["runId"], "recorded", e["recordedAt"])' "$work/entry.json") from $HANDOFF_URI"
        result_object state str complete entry json "$(json_file "$work/entry.json")" reason str ""
        ;;
    *) die "input MODE='$MODE' is not record, recall or latest (a bug in the command builder)" ;;
esac
