// The evalrecord step (scripts/remote/evalrecord.sh) run for real by bash, with the exact command strings the program
// sends, against a real GCS-compatible server (the rehearsal's fake-gcs-server, from the cached toolchain build)
// reached by the real gcloud; then read back at program time as the eval stack reads it (@google-cloud/storage),
// so the writer and the reader are checked against each other.
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
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
import { stepShipment } from "../components/steps/stepScript";
import { createBucket, Emulator, startEmulator } from "./rehearsal/emulator";
import { REPO_ROOT } from "./helpers/trainConfig";

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

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

describe("evalrecord step against a GCS emulator (real bash, real gcloud), read back as the program reads it", function () {
    this.timeout(120000);
    let work: string;
    let emulator: Emulator;
    let storageEnv: Record<string, string>;
    const home = () => path.join(work, "w0");
    const gcloudEnv = () => ({ ...process.env, ...storageEnv, CLOUDSDK_CONFIG: path.join(work, "gcloud") });

    function run(command: string) {
        return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            const child = spawn("sh", ["-c", command], {
                env: { PATH: process.env.PATH, HOME: home(), CLOUDSDK_CONFIG: path.join(work, "gcloud") },
                cwd: home(),
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
    }

    /** Puts `content` at gs://BUCKET/`name` with gcloud; returns its {uri, size, crc32c} as GCS reports them. */
    function putObject(name: string, content: string): CheckpointRef {
        const file = path.join(work, "upload.tmp");
        fs.writeFileSync(file, content);
        const uri = `gs://${BUCKET}/${name}`;
        execFileSync("gcloud", ["storage", "cp", file, uri], { env: gcloudEnv(), stdio: "ignore" });
        const [size, crc32c] = execFileSync(
            "gcloud",
            ["storage", "objects", "describe", uri, "--format=value(size,crc32c_hash)"],
            { env: gcloudEnv(), encoding: "utf8" },
        )
            .trim()
            .split("\t");
        return { uri, size: Number(size), crc32c };
    }

    const readObject = (uri: string) =>
        execFileSync("gcloud", ["storage", "cat", uri], { env: gcloudEnv(), encoding: "utf8" });

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

    before(async function () {
        let bin: string;
        try {
            // Only a toolchain already built (npm test builds it first); building it here would take minutes.
            bin = execFileSync("bash", [path.join(REPO_ROOT, "test/toolchain/build.sh"), "--installed"], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "ignore"],
            })
                .trim()
                .split("\n")
                .pop()!;
        } catch {
            this.skip();
        }
        if (!fs.existsSync(path.join(bin, "fake-gcs-server"))) this.skip();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "evalrecord-step-"));
        emulator = await startEmulator(bin, "127.0.0.1", await freePort(), path.join(work, "gcs"));
        await createBucket(emulator.endpoint, BUCKET);
        storageEnv = {
            CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `${emulator.endpoint}/`,
            CLOUDSDK_AUTH_DISABLE_CREDENTIALS: "True",
            CLOUDSDK_CORE_PROJECT: "rehearsal",
            CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_ENABLED: "False",
            CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_THRESHOLD: "0",
        };
        for (const file of stepShipment("evalrecord").files) {
            fs.mkdirSync(path.dirname(path.join(home(), file.remote)), { recursive: true });
            fs.copyFileSync(file.local, path.join(home(), file.remote));
        }
        objects = {
            "eval_predictions.json": putObject("sft/eval/office/eval_predictions.json", "[]"),
            "eval.log": putObject("sft/eval/office/eval.log", "log"),
        };
    });

    after(async () => {
        await emulator?.stop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    async function status() {
        const { stat, text } = await bucketObjects({ apiEndpoint: emulator.endpoint, projectId: "rehearsal" });
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
