#!/usr/bin/env bash
# evalrecord.sh: an eval run's record, gs://<bucket>/<prefix>/eval/<run>/result.json (schema:
# components/lifecycle/evalRecord.ts).
#   MODE=record  after the cross-check passed: check that every artifact of ENTRY_JSON is in the bucket with its size
#                and crc32c, add the entry (with recordedAt) under its run id, write the record and verify the copy.
#   MODE=recall  before the eval starts: is RUN_ID recorded, and do its artifacts still match? state complete (with
#                the entry), absent, or stale (an artifact is gone or changed: the run is evaluated again).
# Inputs: MODE, RECORD_URI, EVAL_RUN (the eval run's name), and ENTRY_JSON (record) or RUN_ID (recall).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env MODE RECORD_URI EVAL_RUN
[[ "$EVAL_RUN" =~ ^[a-z]([a-z0-9-]{0,29}[a-z0-9])?$ ]] ||
    die "input EVAL_RUN='$EVAL_RUN' is not an eval run name (a bug in the command builder)"
[[ "$RECORD_URI" =~ ^gs://[a-z0-9][a-z0-9_.-]*/.+/eval/${EVAL_RUN}/result\.json$ ]] ||
    die "input RECORD_URI='$RECORD_URI' is not gs://<bucket>/<prefix>/eval/$EVAL_RUN/result.json (a bug in the command builder)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The record tool: list an entry's objects, merge an entry into the record (python3, which every host has).
record_py() {
    python3 - "$@" <<'PY'
import json, sys, datetime
op = sys.argv[1]
if op == "objects":          # objects ENTRY_FILE
    with open(sys.argv[2]) as f:
        entry = json.load(f)
    for name, ref in sorted(entry.get("objects", {}).items()):
        print(f"{name}\t{ref['uri']}\t{ref['size']}\t{ref['crc32c']}")
elif op == "merge":          # merge ENTRY_FILE CURRENT_OR_EMPTY RUN OUT
    with open(sys.argv[2]) as f:
        entry = json.load(f)
    run = sys.argv[4]
    if sys.argv[3]:
        with open(sys.argv[3]) as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or doc.get("schemaVersion") != 1 or not isinstance(doc.get("entries"), dict):
            sys.exit(f"not a version 1 eval record (schemaVersion {doc.get('schemaVersion') if isinstance(doc, dict) else '?'})")
        if doc.get("run") != run:
            sys.exit(f"the record is for eval run {doc.get('run')}, not {run}")
    else:
        doc = {"schemaVersion": 1, "run": run, "entries": {}}
    before = dict(doc["entries"].get(entry["runId"], {}))
    recorded_at = before.pop("recordedAt", None)
    # Recording the same entry again keeps the time it was first recorded.
    entry["recordedAt"] = recorded_at if recorded_at and before == entry else datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["entries"][entry["runId"]] = entry
    with open(sys.argv[5], "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")
    print(entry["recordedAt"])
elif op == "pick":           # pick CURRENT RUN_ID OUT: the entry, or exit 3 when absent
    with open(sys.argv[2]) as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 1 or not isinstance(doc.get("entries"), dict):
        sys.exit(f"not a version 1 eval record (schemaVersion {doc.get('schemaVersion') if isinstance(doc, dict) else '?'})")
    entry = doc["entries"].get(sys.argv[3])
    if entry is None:
        sys.exit(3)
    with open(sys.argv[4], "w") as f:
        json.dump(entry, f, allow_nan=False)
else:
    sys.exit(f"unknown record operation {op}")
PY
}

# The record now in the bucket, into $work/current.json; returns 1 when there is none.
read_record() {
    [[ -n "$(object_size_crc "$RECORD_URI")" ]] || return 1
    gcs cat "$RECORD_URI" >"$work/current.json" || die "could not read $RECORD_URI"
}

case "$MODE" in
    record)
        require_env ENTRY_JSON
        printf '%s' "$ENTRY_JSON" >"$work/entry.json"
        record_py objects "$work/entry.json" >"$work/objects.tsv" || die "ENTRY_JSON is not an eval record entry (a bug in the command builder)"
        [[ -s "$work/objects.tsv" ]] || die "ENTRY_JSON lists no artifacts (a bug in the command builder)"
        mismatch="$(check_objects "$work/objects.tsv")"
        [[ -z "$mismatch" ]] || die "not recording the eval run: $mismatch"
        current=""
        if read_record; then current="$work/current.json"; fi
        recorded_at="$(record_py merge "$work/entry.json" "$current" "$EVAL_RUN" "$work/next.json")" ||
            die "could not merge the entry into $RECORD_URI (see above); fix or delete that object"
        verified="$(put_verified "$work/next.json" "$RECORD_URI")"
        size="${verified%%$'\t'*}" crc="${verified#*$'\t'}"
        entries="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["entries"]))' "$work/next.json")"
        log "recorded $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runId"])' "$work/entry.json") in $RECORD_URI ($entries entries)"
        result_object uri str "$RECORD_URI" entries int "$entries" size int "$size" crc32c str "$crc" recordedAt str "$recorded_at"
        ;;
    recall)
        require_env RUN_ID
        [[ "$RUN_ID" =~ ^${EVAL_RUN}-[0-9a-f]{12}$ ]] ||
            die "input RUN_ID='$RUN_ID' is not a run id of eval run $EVAL_RUN (a bug in the command builder)"
        recall_entry record_py "$RECORD_URI" "$RUN_ID" "$work"
        case "$RECALL_STATE" in
            complete) log "eval run $RUN_ID is complete: recorded in $RECORD_URI and its artifacts still match" ;;
            stale) log "eval run $RUN_ID is recorded in $RECORD_URI, but $RECALL_WHY: it is evaluated again" ;;
            absent) log "eval run $RUN_ID is not in $RECORD_URI: it is evaluated" ;;
        esac
        result_object state str "$RECALL_STATE" entry json "$RECALL_ENTRY" reason str "$RECALL_WHY"
        ;;
    *) die "input MODE='$MODE' is not record or recall (a bug in the command builder)" ;;
esac
