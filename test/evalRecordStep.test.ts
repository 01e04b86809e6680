// The evalrecord step (scripts/remote/evalrecord.sh) run for real by bash, with the exact command strings the program
// sends, against a real GCS-compatible server (the rehearsal's fake-gcs-server, from the cached toolchain build)
// reached by the real gcloud; then read back at program time as the eval stack reads it (@google-cloud/storage),
// so the writer and the reader are checked against each other.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CheckpointRef } from "../components/checkpointRef";
import { EvalRunConfig } from "../components/config/schema";
import { evalRunId } from "../components/evalRun";
import { EvalRecordEntryInput, evalRecordUri, parseEvalRecord } from "../components/lifecycle/evalRecord";
import { bucketObjects } from "../components/lifecycle/handoffStatus";
import { evalRecordStatus } from "../components/lifecycle/reclaimedEval";
import {
    evalRecallCommand,
    evalRecallResult,
    evalRecordCommand,
    evalRecordResult,
} from "../components/steps/evalrecord";
import { parseStepResult } from "../components/steps/stepResult";
import { useStepBucket } from "./helpers/stepBucket";

const BUCKET = "evalrecord-test-bucket";
const URI = evalRecordUri(BUCKET, "sft", "office");
const RUN: EvalRunConfig = {
    name: "office",
    trainRun: "office",
    checkpoint: "best",
    config: "configs/office_eval.yaml",
    outputDir: "runs/office_eval",
    itemFile: "info/Office.txt",
    topk: [1],
};
const CHECKPOINT: CheckpointRef = {
    uri: `gs://${BUCKET}/sft/office/sft_state_best.msgpack`,
    size: 9,
    crc32c: "IcOvzQ==",
};

describe("evalrecord step against a GCS emulator (real bash, real gcloud), read back as the program reads it", function () {
    this.timeout(120000);
    const { storageEnv, home, endpoint, run, putObject, readObject } = useStepBucket(BUCKET, "evalrecord");

    const idOf = (cp: CheckpointRef) => evalRunId(RUN, { slice: "x" }, "disabled", cp);
    const ID = idOf(CHECKPOINT);
    let objects: Record<string, CheckpointRef>;
    const entryFor = (runId: string, wandbUrl = ""): EvalRecordEntryInput => ({
        runId,
        n: 13,
        invalid: 0,
        k: [1],
        hr: { "1": 0.07692307692307693 },
        ndcg: { "1": 0.07692307692307693 },
        wandbUrl,
        checkpoint: CHECKPOINT,
        artifacts: Object.fromEntries(Object.entries(objects).map(([file, ref]) => [file, ref.uri])),
        agreement: {
            agree: true,
            maxAbsDiff: 3.1e-9,
            sources: ["calc.py", "metrics.json", "typescript"],
            table: "metric  calc.py\nHR@1    0.0769230800\n",
        },
        evalSeconds: 4000,
        commits: { mllmJax: "3be8272".padEnd(40, "0"), miniOneRec: "81b4ba9".padEnd(40, "0") },
        objects,
    });

    before(() => {
        objects = {
            "eval_predictions.json": putObject("sft/eval/office/eval_predictions.json", "[]"),
            "eval.log": putObject("sft/eval/office/eval.log", "log"),
        };
    });

    async function status() {
        const { stat, text } = await bucketObjects({ apiEndpoint: endpoint(), projectId: "rehearsal" });
        return evalRecordStatus({ run: RUN, source: CHECKPOINT, recordUri: URI, idOf }, stat, text);
    }

    /** The recall step on the host: what a new slice's eval run finds before it starts. */
    async function recall(runId = ID) {
        const out = await run(evalRecallCommand({ uri: URI, run: "office", runId, storageEnv }));
        assert.strictEqual(out.code, 0, out.stderr);
        return { result: parseStepResult("recall", out.stdout, evalRecallResult), stderr: out.stderr };
    }

    it("before any record, the program finds none, nor does the recall step", async () => {
        const s = await status();
        assert.deepStrictEqual(s, { state: "absent", runId: ID, reason: `no eval record at ${URI}` });
        const { result, stderr } = await recall();
        assert.deepStrictEqual(result, { state: "absent", entry: null, reason: "" });
        assert.match(stderr, new RegExp(`eval run ${ID} is not in ${URI}: it is evaluated`));
        assert.throws(
            () => evalRecallCommand({ uri: URI, run: "office", runId: "industrial-0123456789ab", storageEnv }),
            /evalrecord: run id industrial-0123456789ab is not a run id of eval run office \(a bug\)/,
        );
    });

    it("writes a version 1 record with the entry and its recordedAt, verified; the program finds it complete", async () => {
        const hostile = "https://wandb.ai/e/p/runs/x'$(touch CANARY)`touch CANARY`";
        const out = await run(evalRecordCommand({ uri: URI, run: "office", entry: entryFor(ID, hostile), storageEnv }));
        assert.strictEqual(out.code, 0, out.stderr);
        const result = parseStepResult("record", out.stdout, evalRecordResult);
        assert.deepStrictEqual([result.uri, result.entries], [URI, 1]);
        assert.ok(!fs.existsSync(path.join(home(), "CANARY")));
        const record = parseEvalRecord(URI, readObject(URI));
        assert.deepStrictEqual([record.schemaVersion, record.run], [1, "office"]);
        const { recordedAt, ...entry } = record.entries[ID];
        assert.strictEqual(recordedAt, result.recordedAt);
        assert.match(recordedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.deepStrictEqual(entry, entryFor(ID, hostile));
        const s = await status();
        assert.strictEqual(s.state, "complete");
        assert.deepStrictEqual(s.state === "complete" && s.entry, record.entries[ID]);
        // The recall step on the host finds the same entry, so a new slice does not evaluate the run again.
        const recalled = (await recall()).result;
        assert.deepStrictEqual(recalled, { state: "complete", entry: record.entries[ID], reason: "" });
        assert.deepStrictEqual((await recall("office-cccccccccccc")).result.state, "absent");
    });

    it("recording the same entry again keeps its recordedAt; another id is added next to it", async () => {
        const first = parseEvalRecord(URI, readObject(URI)).entries[ID].recordedAt;
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const hostile = "https://wandb.ai/e/p/runs/x'$(touch CANARY)`touch CANARY`";
        const again = await run(
            evalRecordCommand({ uri: URI, run: "office", entry: entryFor(ID, hostile), storageEnv }),
        );
        assert.strictEqual(again.code, 0, again.stderr);
        assert.strictEqual(parseStepResult("record", again.stdout, evalRecordResult).recordedAt, first);
        const other = await run(
            evalRecordCommand({ uri: URI, run: "office", entry: entryFor("office-aaaaaaaaaaaa"), storageEnv }),
        );
        assert.strictEqual(other.code, 0, other.stderr);
        assert.strictEqual(parseStepResult("record", other.stdout, evalRecordResult).entries, 2);
        assert.deepStrictEqual(
            Object.keys(parseEvalRecord(URI, readObject(URI)).entries).sort(),
            [ID, "office-aaaaaaaaaaaa"].sort(),
        );
    });

    it("refuses an entry whose artifact does not match the bucket, and leaves the record as it was", async () => {
        const before = readObject(URI);
        objects = { ...objects, "eval.log": { ...objects["eval.log"], crc32c: "AAAAAA==" } };
        const out = await run(
            evalRecordCommand({ uri: URI, run: "office", entry: entryFor("office-bbbbbbbbbbbb"), storageEnv }),
        );
        assert.strictEqual(out.code, 1);
        assert.match(
            out.stderr,
            /ERROR: not recording the eval run: eval\.log gs:\/\/evalrecord-test-bucket\/sft\/eval\/office\/eval\.log: recorded 3 bytes, crc32c AAAAAA==; the bucket has 3\t/,
        );
        assert.strictEqual(readObject(URI), before);
    });

    it("an artifact replaced after the record makes the program and the recall step see the run as stale", async () => {
        putObject("sft/eval/office/eval.log", "another log");
        const s = await status();
        assert.strictEqual(s.state, "stale");
        assert.match(
            s.reason,
            /^artifact eval\.log gs:\/\/evalrecord-test-bucket\/sft\/eval\/office\/eval\.log: recorded size 3 /,
        );
        const { result, stderr } = await recall();
        assert.deepStrictEqual([result.state, result.entry], ["stale", null]);
        assert.match(
            result.reason,
            /^eval\.log gs:\/\/evalrecord-test-bucket\/sft\/eval\/office\/eval\.log: recorded 3 bytes, crc32c \S+; the bucket has 11\t/,
        );
        assert.match(stderr, /it is evaluated again/);
    });
});
