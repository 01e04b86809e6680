// The handoff step (scripts/remote/handoff.sh) run for real by bash, with the exact command strings the program
// sends, against a worker-like home and a real GCS-compatible server (the rehearsal's fake-gcs-server, from the
// cached toolchain build) reached by the real gcloud through the same storage settings the local target uses.
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
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
import { createBucket, Emulator, startEmulator } from "./rehearsal/emulator";
import { REPO_ROOT } from "./helpers/trainConfig";

const BUCKET = "handoff-test-bucket";
const URI = `gs://${BUCKET}/sft/office/${MANIFEST_FILE}`;

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

describe("handoff step on a worker-like home against a GCS emulator (real bash, real gcloud)", function () {
    this.timeout(120000);
    let work: string;
    let emulator: Emulator;
    let storageEnv: Record<string, string>;
    const home = () => path.join(work, "w0");

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
    function putObject(name: string, content: string) {
        const file = path.join(work, "upload.tmp");
        fs.writeFileSync(file, content);
        const env = { ...process.env, ...storageEnv, CLOUDSDK_CONFIG: path.join(work, "gcloud") };
        const uri = `gs://${BUCKET}/${name}`;
        execFileSync("gcloud", ["storage", "cp", file, uri], { env, stdio: "ignore" });
        const [size, crc32c] = execFileSync(
            "gcloud",
            ["storage", "objects", "describe", uri, "--format=value(size,crc32c_hash)"],
            { env, encoding: "utf8" },
        )
            .trim()
            .split("\t");
        return { uri, size: Number(size), crc32c };
    }

    function readObject(uri: string): string {
        const env = { ...process.env, ...storageEnv, CLOUDSDK_CONFIG: path.join(work, "gcloud") };
        return execFileSync("gcloud", ["storage", "cat", uri], { env, encoding: "utf8" });
    }

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
        work = fs.mkdtempSync(path.join(os.tmpdir(), "handoff-step-"));
        emulator = await startEmulator(bin, "127.0.0.1", await freePort(), path.join(work, "gcs"));
        await createBucket(emulator.endpoint, BUCKET);
        storageEnv = {
            CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `${emulator.endpoint}/`,
            CLOUDSDK_AUTH_DISABLE_CREDENTIALS: "True",
            CLOUDSDK_CORE_PROJECT: "rehearsal",
            CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_ENABLED: "False",
            CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_THRESHOLD: "0",
        };
        for (const file of stepShipment("handoff").files) {
            fs.mkdirSync(path.dirname(path.join(home(), file.remote)), { recursive: true });
            fs.copyFileSync(file.local, path.join(home(), file.remote));
        }
    });

    after(async () => {
        await emulator?.stop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
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
