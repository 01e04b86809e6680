// The handoff step (scripts/remote/handoff.sh) run for real by bash, with the exact command strings the program
// sends, against a worker-like home and a real GCS-compatible server (the rehearsal's fake-gcs-server, from the
// cached toolchain build) reached by the real gcloud through the same storage settings the local target uses.
import * as assert from "assert";
import { latestEntry, MANIFEST_FILE, ManifestEntryInput, parseManifest } from "../components/lifecycle/manifest";
import {
    handoffLatestCommand,
    handoffLatestResult,
    handoffRecallCommand,
    handoffRecallResult,
    handoffRecordCommand,
    handoffRecordResult,
} from "../components/steps/handoff";
import { parseStepResult } from "../components/steps/stepResult";
import { stepShipment } from "../components/steps/stepScript";
import { useStepBucket } from "./helpers/stepBucket";

const BUCKET = "handoff-test-bucket";
const URI = `gs://${BUCKET}/sft/office/${MANIFEST_FILE}`;

describe("handoff step on a worker-like home against a GCS emulator (real bash, real gcloud)", function () {
    this.timeout(120000);
    const { storageEnv, run, putObject, readObject } = useStepBucket(BUCKET, "handoff");

    const entryFor = (runId: string, best: { uri: string; size: number; crc32c: string }): ManifestEntryInput => ({
        run: "office",
        runId,
        commits: { mllmJax: "03455fc".padEnd(40, "0"), miniOneRec: "81b4ba9".padEnd(40, "0") },
        config: "projects/minionerec/sft/configs/office.yaml",
        checkpoints: { best },
        exitCodes: [0, 0, 0, 0],
        process0Worker: 2,
        acceleratorType: "v6e-16",
        chips: 16,
        startedAt: 1000,
        finishedAt: 4600,
        chipHours: 16,
    });

    it("builds commands that quote the entry and refuse a URI outside <bucket>/<prefix>/<run>/handoff.json", () => {
        const best = { uri: `gs://${BUCKET}/sft/office/sft_state_best.msgpack`, size: 5, crc32c: "IcOvzQ==" };
        const command = handoffRecordCommand({
            uri: URI,
            entry: entryFor("office-0123456789ab", best),
            storageEnv: {},
        });
        const script = stepShipment("handoff").script;
        assert.strictEqual(
            command,
            `[ -f "$HOME/${script}" ] || { echo '~/${script} is missing on this host: its copy never reached it (a replaced VM?)' >&2; exit 1; }; ` +
                `ENTRY_JSON='${JSON.stringify(entryFor("office-0123456789ab", best))}' HANDOFF_URI=${URI} MODE=record STEP_LIMIT_SECONDS=600 bash "$HOME/${script}"`,
        );
        assert.throws(
            () =>
                handoffRecallCommand({ uri: `gs://${BUCKET}/handoff.json`, runId: "office-0123456789ab", storageEnv }),
            /^Error: handoff\.uri must be gs:\/\/<bucket>\/<prefix>\/<run>\/handoff\.json; got "gs:\/\/handoff-test-bucket\/handoff\.json"/,
        );
        assert.throws(
            () => handoffRecallCommand({ uri: URI, runId: "office; rm -rf /", storageEnv }),
            /^Error: handoff\.runId must be a run id such as office-0123456789ab/,
        );
    });

    it("recall: a run id with no manifest is absent", async () => {
        const out = await run(handoffRecallCommand({ uri: URI, runId: "office-0123456789ab", storageEnv }));
        assert.strictEqual(out.code, 0, out.stderr);
        assert.deepStrictEqual(parseStepResult("recall", out.stdout, handoffRecallResult), {
            state: "absent",
            entry: null,
            reason: "",
        });
    });

    it("record: writes a version 1 manifest with the entry and its recordedAt, verified in the bucket", async () => {
        const best = putObject("sft/office/sft_state_best.msgpack", "checkpoint one");
        const out = await run(
            handoffRecordCommand({ uri: URI, entry: entryFor("office-0123456789ab", best), storageEnv }),
        );
        assert.strictEqual(out.code, 0, out.stderr);
        const result = parseStepResult("record", out.stdout, handoffRecordResult);
        assert.strictEqual(result.uri, URI);
        assert.strictEqual(result.entries, 1);
        const manifest = parseManifest(URI, readObject(URI));
        assert.strictEqual(manifest.schemaVersion, 1);
        assert.strictEqual(manifest.run, "office");
        const { recordedAt, ...entry } = manifest.entries["office-0123456789ab"];
        assert.match(recordedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.deepStrictEqual(entry, entryFor("office-0123456789ab", best));
    });

    it("record: a second run id is added next to the first", async () => {
        const best = putObject("sft/office/other/sft_state_best.msgpack", "checkpoint two");
        const out = await run(
            handoffRecordCommand({ uri: URI, entry: entryFor("office-aaaaaaaaaaaa", best), storageEnv }),
        );
        assert.strictEqual(out.code, 0, out.stderr);
        assert.strictEqual(parseStepResult("record", out.stdout, handoffRecordResult).entries, 2);
        assert.deepStrictEqual(Object.keys(parseManifest(URI, readObject(URI)).entries).sort(), [
            "office-0123456789ab",
            "office-aaaaaaaaaaaa",
        ]);
    });

    it("recall: a recorded run whose objects still match is complete, with its entry", async () => {
        const out = await run(handoffRecallCommand({ uri: URI, runId: "office-0123456789ab", storageEnv }));
        assert.strictEqual(out.code, 0, out.stderr);
        const result = parseStepResult("recall", out.stdout, handoffRecallResult);
        assert.strictEqual(result.state, "complete");
        assert.deepStrictEqual(result.entry, parseManifest(URI, readObject(URI)).entries["office-0123456789ab"]);
        const other = await run(handoffRecallCommand({ uri: URI, runId: "office-bbbbbbbbbbbb", storageEnv }));
        assert.strictEqual(parseStepResult("recall", other.stdout, handoffRecallResult).state, "absent");
    });

    it("recall: a recorded run whose checkpoint changed in the bucket is stale, saying which object", async () => {
        const changed = putObject("sft/office/sft_state_best.msgpack", "another checkpoint");
        const out = await run(handoffRecallCommand({ uri: URI, runId: "office-0123456789ab", storageEnv }));
        assert.strictEqual(out.code, 0, out.stderr);
        const result = parseStepResult("recall", out.stdout, handoffRecallResult);
        assert.strictEqual(result.state, "stale");
        assert.strictEqual(
            result.reason,
            `best checkpoint ${changed.uri}: recorded 14 bytes, crc32c ${parseManifest(URI, readObject(URI)).entries["office-0123456789ab"].checkpoints.best!.crc32c}; the bucket has ${changed.size}\t${changed.crc32c}`,
        );
    });

    it("latest: with no manifest, fails naming the URI and what to run", async () => {
        const uri = `gs://${BUCKET}/sft/industrial/${MANIFEST_FILE}`;
        const out = await run(handoffLatestCommand({ uri, kind: "best", storageEnv }));
        assert.strictEqual(out.code, 1);
        assert.match(
            out.stderr,
            /ERROR: no handoff manifest at gs:\/\/handoff-test-bucket\/sft\/industrial\/handoff\.json: the train stack has not handed this run off yet/,
        );
    });

    it("latest: the newest entry with that checkpoint kind, verified; none of that kind is an error", async () => {
        // office-aaaaaaaaaaaa was recorded after office-0123456789ab, and its object still matches.
        const out = await run(handoffLatestCommand({ uri: URI, kind: "best", storageEnv }));
        assert.strictEqual(out.code, 0, out.stderr);
        const result = parseStepResult("latest", out.stdout, handoffLatestResult);
        assert.deepStrictEqual(result.entry, parseManifest(URI, readObject(URI)).entries["office-aaaaaaaaaaaa"]);
        // The eval stack makes the same pick at program time (tpu.reclaim after-eval).
        assert.deepStrictEqual(latestEntry(parseManifest(URI, readObject(URI)), "best"), result.entry);
        const none = await run(handoffLatestCommand({ uri: URI, kind: "last", storageEnv }));
        assert.strictEqual(none.code, 1);
        assert.match(none.stderr, /records no run with a 'last' checkpoint; add last to the train run's checkpoints/);
    });

    it("record: refuses an entry whose checkpoint does not match the bucket, and leaves the manifest as it was", async () => {
        const before = readObject(URI);
        const best = { uri: `gs://${BUCKET}/sft/office/sft_state_best.msgpack`, size: 14, crc32c: "IcOvzQ==" };
        const out = await run(
            handoffRecordCommand({ uri: URI, entry: entryFor("office-cccccccccccc", best), storageEnv }),
        );
        assert.strictEqual(out.code, 1);
        assert.match(
            out.stderr,
            /ERROR: not recording the run: best checkpoint gs:\/\/handoff-test-bucket\/sft\/office\/sft_state_best\.msgpack: recorded 14 bytes, crc32c IcOvzQ==; the bucket has 18\t/,
        );
        assert.strictEqual(readObject(URI), before);
    });
});
