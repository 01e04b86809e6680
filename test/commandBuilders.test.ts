// Pure tests of the step contracts: the command builders (exact strings, quoting of hostile values, the
// checks they make on their inputs), what is shipped to a host and its digest, the step-result parsers, and
// the identity check. No Pulumi, no shell.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { checkpointRefSchema, crc32cSchema, gcsUri } from "../components/checkpointRef";
import { explicitCheckpointSchema } from "../components/config/schema";
import { runId, stableJson } from "../components/runIdentity";
import { artifactsCommand, artifactsResult } from "../components/steps/artifacts";
import { bootstrapCommand, BootstrapInputs, bootstrapResult } from "../components/steps/bootstrap";
import { calcCommand } from "../components/steps/calc";
import { pickCheckpointHolder } from "../components/steps/checkpointHolder";
import { downloadCommand } from "../components/steps/download";
import { evalReportCommand } from "../components/steps/evalreport";
import { checkWorkerIdentity, identifyCommand } from "../components/steps/identify";
import { launchCommand } from "../components/steps/launch";
import { locateCommand, locateResult } from "../components/steps/locate";
import { parseStepResult, StepResultError } from "../components/steps/stepResult";
import {
    bundleOf,
    REMOTE_SCRIPT_DIR,
    shipmentOf,
    STAGE_ROOT,
    STEP_NAMES,
    StepBundle,
    stepBundle,
    StepName,
    stepShipment,
} from "../components/steps/stepScript";
import { uploadCommand, uploadResult } from "../components/steps/upload";
import { waitCommand, waitResult } from "../components/steps/wait";

const HOSTILE = "a'; rm -rf / #";

/** The whole command of a step: the guard on its copied script, then its inputs and `bash <script>`. */
function expected(step: StepName, assignments: string): string {
    const script = stepShipment(step).script;
    return (
        `[ -f "$HOME/${script}" ] || { echo '~/${script} is missing on this host: its copy never reached it (a replaced VM?)' >&2; exit 1; }; ` +
        `${assignments} bash "$HOME/${script}"`
    );
}

/** The `NAME=value …` words of a command, between the guard and `bash`. */
const inputsOf = (cmd: string) => cmd.slice(cmd.indexOf("}; ") + 3, cmd.lastIndexOf(" bash "));

const BOOT: BootstrapInputs = {
    mode: "conda",
    condaEnv: "mllm-jax",
    python: "3.12",
    jax: "0.9.0",
    libtpu: "0.0.34",
    minicondaUrl: "https://m/x.sh",
    jaxReleasesUrl: "https://j/",
    torchIndexUrl: "https://t/",
    mllmJax: { url: "https://g/x.git", commit: "03455fc" },
    miniOneRec: { url: "https://g/m.git", commit: "81b4ba9" },
    wandbKeyOnStdin: false,
};

describe("step scripts as shipped to a host", () => {
    it("each step is its own file with a shebang, sourcing lib.sh from its own directory, shipped as it is", () => {
        for (const step of STEP_NAMES) {
            const shipment = stepShipment(step);
            assert.match(shipment.digest, /^[0-9a-f]{12}$/);
            assert.deepStrictEqual(shipment.files, [
                {
                    local: path.join(REMOTE_SCRIPT_DIR, "lib.sh"),
                    remote: `.tpu-sft/steps/${step}-${shipment.digest}/lib.sh`,
                },
                {
                    local: path.join(REMOTE_SCRIPT_DIR, `${step}.sh`),
                    remote: `.tpu-sft/steps/${step}-${shipment.digest}/${step}.sh`,
                },
            ]);
            assert.strictEqual(shipment.script, `.tpu-sft/steps/${step}-${shipment.digest}/${step}.sh`);
            const text = fs.readFileSync(shipment.files[1].local, "utf8");
            assert.ok(text.startsWith("#!/usr/bin/env bash\n"), step);
            assert.match(text, /^source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/lib\.sh"$/m, step);
        }
        assert.strictEqual(new Set(STEP_NAMES.map((s) => stepShipment(s).digest)).size, STEP_NAMES.length);
    });

    it("a step's digest changes when its own script or lib.sh changes, and no other step's does", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-digest-"));
        try {
            for (const f of fs.readdirSync(REMOTE_SCRIPT_DIR))
                fs.copyFileSync(path.join(REMOTE_SCRIPT_DIR, f), path.join(dir, f));
            const digests = () => Object.fromEntries(STEP_NAMES.map((s) => [s, shipmentOf(s, dir).digest]));
            const before = digests();
            assert.deepStrictEqual(before, Object.fromEntries(STEP_NAMES.map((s) => [s, stepShipment(s).digest])));
            fs.appendFileSync(path.join(dir, "wait.sh"), "# a comment\n");
            const afterWait = digests();
            assert.deepStrictEqual(
                STEP_NAMES.filter((s) => afterWait[s] !== before[s]),
                ["wait"],
            );
            fs.appendFileSync(path.join(dir, "lib.sh"), "# a comment\n");
            const afterLib = digests();
            assert.deepStrictEqual(
                STEP_NAMES.filter((s) => afterLib[s] === afterWait[s]),
                [],
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    /** Every file under `dir`, relative, with its bytes. */
    const tree = (dir: string): Record<string, string> =>
        Object.fromEntries(
            (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
                .filter((e) => e.isFile())
                .map((e) => {
                    const file = path.join(e.parentPath, e.name);
                    return [path.relative(dir, file), fs.readFileSync(file, "hex")];
                }),
        );

    it("a bundle stages its steps' shipments in one directory named steps, laid out as the hosts' ~/.tpu-sft/steps", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-bundle-"));
        try {
            const bundle = bundleOf(["bootstrap", "wait", "launch", "wait"], REMOTE_SCRIPT_DIR, root);
            assert.deepStrictEqual(bundle.steps, ["bootstrap", "wait", "launch"]);
            assert.match(bundle.digest, /^[0-9a-f]{12}$/);
            assert.strictEqual(bundle.dir, path.join(root, bundle.digest, "steps"));
            assert.strictEqual(bundle.remotePath, ".tpu-sft");
            // Copied into `.tpu-sft`, the directory `steps` puts each file exactly where its shipment says.
            const shipped = bundle.steps.flatMap((step) => stepShipment(step).files);
            assert.deepStrictEqual(
                Object.keys(tree(bundle.dir))
                    .map((rel) => `${bundle.remotePath}/steps/${rel.split(path.sep).join("/")}`)
                    .sort(),
                shipped.map((f) => f.remote).sort(),
            );
            assert.deepStrictEqual(bundle.files.map((f) => f.remote).sort(), shipped.map((f) => f.remote).sort());
            for (const f of bundle.files) {
                const source = shipped.find((s) => s.remote === f.remote)!;
                assert.ok(fs.readFileSync(f.local).equals(fs.readFileSync(source.local)), f.remote);
            }
            assert.deepStrictEqual(fs.readdirSync(root), [bundle.digest], "nothing but the bundle is left in the root");

            // Staged again: the same directory, left as it was (the copy's archive hash is unchanged: no diff).
            const stat = (f: string) => fs.statSync(f, { bigint: true });
            const before = bundle.files.map((f) => [stat(f.local).ino, stat(f.local).mtimeNs]);
            const again = bundleOf(["bootstrap", "wait", "launch"], REMOTE_SCRIPT_DIR, root);
            assert.deepStrictEqual(again, bundle);
            assert.deepStrictEqual(
                bundle.files.map((f) => [stat(f.local).ino, stat(f.local).mtimeNs]),
                before,
            );
            // The same steps in another order are the same bundle; another set of steps is another.
            assert.strictEqual(
                bundleOf(["launch", "bootstrap", "wait"], REMOTE_SCRIPT_DIR, root).digest,
                bundle.digest,
            );
            assert.notStrictEqual(bundleOf(["identify"], REMOTE_SCRIPT_DIR, root).digest, bundle.digest);

            // A staged copy that was edited or added to is put back before it is shipped.
            const staged = tree(bundle.dir);
            fs.appendFileSync(bundle.files[0].local, "echo injected\n");
            fs.writeFileSync(path.join(bundle.dir, "extra.sh"), "echo extra\n");
            bundleOf(["bootstrap", "wait", "launch"], REMOTE_SCRIPT_DIR, root);
            assert.deepStrictEqual(tree(bundle.dir), staged);
            assert.deepStrictEqual(
                fs.readdirSync(root).filter((d) => d.startsWith(".")),
                [],
                "no staging directory is left behind",
            );
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("a changed step script makes a new bundle (so its copy is made again) in which only that step's directory is renamed", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-bundle-scripts-"));
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-bundle-"));
        try {
            for (const f of fs.readdirSync(REMOTE_SCRIPT_DIR))
                fs.copyFileSync(path.join(REMOTE_SCRIPT_DIR, f), path.join(dir, f));
            const steps: StepName[] = ["bootstrap", "launch", "wait", "locate"];
            const before = bundleOf(steps, dir, root);
            const identify = bundleOf(["identify"], dir, root);
            fs.appendFileSync(path.join(dir, "wait.sh"), "# a comment\n");
            const after = bundleOf(steps, dir, root);
            assert.notStrictEqual(after.digest, before.digest);
            assert.notStrictEqual(after.dir, before.dir);
            const dirs = (b: StepBundle) => fs.readdirSync(b.dir).sort();
            assert.deepStrictEqual(
                dirs(after).filter((d) => !dirs(before).includes(d)),
                [`wait-${shipmentOf("wait", dir).digest}`],
            );
            assert.deepStrictEqual(
                dirs(before).filter((d) => !dirs(after).includes(d)),
                [`wait-${stepShipment("wait").digest}`],
            );
            // A bundle without the changed step is the same bundle as before.
            assert.strictEqual(bundleOf(["identify"], dir, root).digest, identify.digest);
            // The bundle staged for this checkout ships exactly the scripts the step commands run.
            const mine = stepBundle(steps);
            for (const step of steps) assert.ok(mine.files.some((f) => f.remote === stepShipment(step).script));
            assert.strictEqual(path.dirname(path.dirname(mine.dir)), STAGE_ROOT);
            assert.deepStrictEqual(mine.steps, before.steps);
            assert.strictEqual(mine.digest, before.digest);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("command builders", () => {
    const job = {
        runId: "office-0123456789ab",
        config: "projects/x/office.yaml",
        mode: "conda" as const,
        condaEnv: "mllm-jax",
        jobMode: "train" as const,
        processCount: 4,
    };

    it("launch: inputs as sorted, quoted environment variables with its time limit, then bash <its copied script>", () => {
        assert.strictEqual(
            launchCommand(job),
            expected(
                "launch",
                "CONDA_ENV=mllm-jax ENV_MODE=conda JOB_CONFIG=projects/x/office.yaml JOB_MODE=train PROCESS_COUNT=4 RUN_ID=office-0123456789ab STEP_LIMIT_SECONDS=600",
            ),
        );
        assert.ok(launchCommand(job).length < 450, `${launchCommand(job).length} characters`);
        assert.match(launchCommand({ ...job, limitSeconds: 42 }), / STEP_LIMIT_SECONDS=42 bash /);
    });

    it("identify: the sshd port and a two-minute limit", () => {
        assert.strictEqual(identifyCommand(), expected("identify", "SSH_PORT=22 STEP_LIMIT_SECONDS=120"));
        assert.strictEqual(
            identifyCommand({ sshPort: 2222, limitSeconds: 5 }),
            expected("identify", "SSH_PORT=2222 STEP_LIMIT_SECONDS=5"),
        );
    });

    it("bootstrap: exactly its inputs and a 90-minute limit; the W&B key never, only whether stdin carries it", () => {
        assert.strictEqual(
            bootstrapCommand(BOOT),
            expected(
                "bootstrap",
                "CONDA_ENV=mllm-jax ENV_MODE=conda JAX_RELEASES_URL=https://j/ JAX_VERSION=0.9.0 LIBTPU_VERSION=0.0.34 " +
                    "MINICONDA_URL=https://m/x.sh MINI_COMMIT=81b4ba9 MINI_URL=https://g/m.git MLLM_COMMIT=03455fc " +
                    "MLLM_URL=https://g/x.git PYTHON_VERSION=3.12 STEP_LIMIT_SECONDS=5400 TORCH_INDEX_URL=https://t/ WANDB_KEY_ON_STDIN=0",
            ),
        );
        assert.match(bootstrapCommand({ ...BOOT, wandbKeyOnStdin: true }), / WANDB_KEY_ON_STDIN=1 bash /);
    });

    it("quotes a hostile value so the shell sees it as one literal word", () => {
        const cmd = launchCommand({ ...job, config: HOSTILE });
        assert.ok(
            cmd.includes(` CONDA_ENV=mllm-jax ENV_MODE=conda JOB_CONFIG='a'\\''; rm -rf / #' JOB_MODE=train `),
            cmd,
        );
        const boot = bootstrapCommand({
            ...BOOT,
            mllmJax: { url: `https://h/$(touch /tmp/x)\`id\`;\n☃`, commit: "03455fc" },
        });
        assert.ok(boot.includes(` MLLM_URL='https://h/$(touch /tmp/x)\`id\`;\n☃' `), "the URL is single-quoted whole");
    });

    it("wait: timing in seconds, the log URI, storage settings, W&B only when asked, and a limit of the job's plus slack", () => {
        const cmd = waitCommand({
            ...job,
            timing: { timeLimitMinutes: 720, pollSeconds: 60, progressSeconds: 180, graceSeconds: 30 },
            logUri: "gs://b/p/office/logs/w0.log",
            storageEnv: { CLOUDSDK_CORE_PROJECT: "p" },
        });
        assert.strictEqual(
            cmd,
            expected(
                "wait",
                "CLOUDSDK_CORE_PROJECT=p CONDA_ENV=mllm-jax ENV_MODE=conda GRACE_SECONDS=30 JOB_CONFIG=projects/x/office.yaml JOB_MODE=train LOG_URI=gs://b/p/office/logs/w0.log POLL_SECONDS=60 PROCESS_COUNT=4 PROGRESS_SECONDS=180 RUN_ID=office-0123456789ab STEP_LIMIT_SECONDS=43890 TAIL_LINES=40 TIME_LIMIT_SECONDS=43200",
            ),
        );
        assert.ok(
            waitCommand({
                ...job,
                timing: { timeLimitMinutes: 1, pollSeconds: 1, progressSeconds: 1, graceSeconds: 1 },
                logUri: "",
                storageEnv: {},
                requireWandb: true,
            }).includes(" REQUIRE_WANDB=1 "),
        );
    });

    it("wait on a multi-host slice: the worker index and the attempts folder; a folder without a trailing / is refused", () => {
        const timing = { timeLimitMinutes: 1, pollSeconds: 1, progressSeconds: 1, graceSeconds: 1 };
        const cmd = waitCommand({
            ...job,
            timing,
            logUri: "",
            storageEnv: {},
            slice: { worker: 3, signalUri: "gs://b/p/office/attempts/office-0123456789ab/" },
        });
        assert.ok(cmd.includes(" SIGNAL_URI=gs://b/p/office/attempts/office-0123456789ab/ "), cmd);
        assert.ok(cmd.includes(" WORKER_INDEX=3 "), cmd);
        assert.ok(!waitCommand({ ...job, timing, logUri: "", storageEnv: {} }).includes("SIGNAL_URI"));
        assert.throws(
            () =>
                waitCommand({
                    ...job,
                    timing,
                    logUri: "",
                    storageEnv: {},
                    slice: { worker: 0, signalUri: "gs://b/p/office/attempts/x" },
                }),
            /wait\.slice\.signalUri must be a gs:\/\/<bucket>\/<folder>\/ URI ending in "\/"; got "gs:\/\/b\/p\/office\/attempts\/x"/,
        );
    });

    it("locate, upload, download, evalreport, calc and artifacts carry exactly their inputs and their limits", () => {
        assert.strictEqual(
            inputsOf(
                locateCommand({
                    runId: "office-0123456789ab",
                    outputDir: "runs/o",
                    kinds: ["best", "last"],
                    storageEnv: {},
                }),
            ),
            "KINDS=best,last OUTPUT_DIR=runs/o RUN_ID=office-0123456789ab STEP_LIMIT_SECONDS=1200",
        );
        assert.strictEqual(
            inputsOf(
                uploadCommand({
                    file: "/root/MLLM-JAX/runs/o/sft_state_best.msgpack",
                    destUri: "gs://b/p/o/sft_state_best.msgpack",
                    size: 7,
                    crc32c: "IcOvzQ==",
                    storageEnv: {},
                }),
            ),
            "DEST_URI=gs://b/p/o/sft_state_best.msgpack EXPECT_CRC32C=IcOvzQ== EXPECT_SIZE=7 FILE=/root/MLLM-JAX/runs/o/sft_state_best.msgpack STEP_LIMIT_SECONDS=3600",
        );
        assert.strictEqual(
            inputsOf(
                downloadCommand({
                    checkpoint: { uri: "gs://b/x.msgpack", size: 9, crc32c: "AAAAAA==" },
                    config: "c.yaml",
                    kind: "last",
                    storageEnv: {},
                }),
            ),
            "EXPECT_CRC32C=AAAAAA== EXPECT_SIZE=9 JOB_CONFIG=c.yaml KIND=last SRC_URI=gs://b/x.msgpack STEP_LIMIT_SECONDS=3600",
        );
        assert.strictEqual(
            inputsOf(evalReportCommand({ runId: "office-0123456789ab", outputDir: "runs/e", wandbMode: "online" })),
            "OUTPUT_DIR=runs/e RUN_ID=office-0123456789ab STEP_LIMIT_SECONDS=300 WANDB_MODE=online",
        );
        assert.strictEqual(
            inputsOf(
                calcCommand({
                    runId: "office-0123456789ab",
                    outputDir: "runs/e",
                    itemFile: "workdir/i.txt",
                    mode: "system-python",
                    condaEnv: "m",
                }),
            ),
            "CONDA_ENV=m ENV_MODE=system-python ITEM_FILE=workdir/i.txt OUTPUT_DIR=runs/e RUN_ID=office-0123456789ab STEP_LIMIT_SECONDS=1800",
        );
        assert.strictEqual(
            inputsOf(
                artifactsCommand({
                    runId: "office-0123456789ab",
                    outputDir: "runs/e",
                    itemFile: "workdir/i.txt",
                    destPrefix: "gs://b/p/eval/office",
                    storageEnv: {},
                }),
            ),
            "DEST_PREFIX=gs://b/p/eval/office ITEM_FILE=workdir/i.txt OUTPUT_DIR=runs/e RUN_ID=office-0123456789ab STEP_LIMIT_SECONDS=1800",
        );
    });

    it("refuse non-integer counts, malformed ids, option-like values and bad limits before any shell sees them", () => {
        const refused = (why: string) =>
            new RegExp(
                `^Error: ${why.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(the command builders refuse it before any shell sees it\\)$`,
            );
        assert.throws(
            () => launchCommand({ ...job, processCount: 2.5 }),
            refused("launch.processCount must be an integer from 1 to 4096; got 2.5"),
        );
        assert.throws(
            () => launchCommand({ ...job, runId: "office; rm -rf /" }),
            refused('launch.runId must be a run id such as office-0123456789ab; got "office; rm -rf /"'),
        );
        assert.throws(
            () => launchCommand({ ...job, config: "-c/x.yaml" }),
            refused(
                `launch.config must be a path relative to the checkout, without '..' and not starting with '-'; got "-c/x.yaml"`,
            ),
        );
        assert.throws(
            () => launchCommand({ ...job, condaEnv: "--prefix" }),
            refused(
                `launch.condaEnv must be letters, digits, '_', '.', '+' or '-', not starting with '-'; got "--prefix"`,
            ),
        );
        assert.throws(
            () => bootstrapCommand({ ...BOOT, mllmJax: { url: "https://g/x.git", commit: "main" } }),
            refused('bootstrap.mllmJax.commit must be a commit SHA (7 to 40 hex digits); got "main"'),
        );
        assert.throws(
            () => bootstrapCommand({ ...BOOT, miniOneRec: { url: "--upload-pack=touch /tmp/x", commit: "81b4ba9" } }),
            refused(
                `bootstrap.miniOneRec.url must be non-empty and not starting with '-'; got "--upload-pack=touch /tmp/x"`,
            ),
        );
        assert.throws(
            () => uploadCommand({ file: "/f", destUri: "gs://b/o", size: -1, crc32c: "IcOvzQ==", storageEnv: {} }),
            refused("upload.size must be an integer ≥ 0; got -1"),
        );
        assert.throws(
            () => uploadCommand({ file: "/f", destUri: "gs://b/o", size: 1, crc32c: "zz", storageEnv: {} }),
            refused(`upload.crc32c must be a base64 crc32c as GCS reports it, e.g. 'IcOvzQ=='; got "zz"`),
        );
        assert.throws(
            () => locateCommand({ runId: "office-0123456789ab", outputDir: "../x", kinds: ["best"], storageEnv: {} }),
            /^Error: locate\.outputDir must be a path relative to the checkout/,
        );
        assert.throws(
            () => launchCommand({ ...job, limitSeconds: 0 }),
            refused("launch time limit (seconds) must be an integer ≥ 1; got 0"),
        );
        assert.throws(
            () =>
                waitCommand({
                    ...job,
                    timing: { timeLimitMinutes: 1.5, pollSeconds: 1, progressSeconds: 1, graceSeconds: 1 },
                    logUri: "",
                    storageEnv: {},
                }),
            refused("wait.timing.timeLimitMinutes must be an integer ≥ 1; got 1.5"),
        );
    });

    it("gcsUri refuses segments that would escape their folder", () => {
        assert.strictEqual(gcsUri("b", "p/q", "office", "x.msgpack"), "gs://b/p/q/office/x.msgpack");
        assert.throws(() => gcsUri("b", "p", "../x"), /invalid object path segment "\.\.\/x" under gs:\/\/b/);
        assert.throws(() => gcsUri("b", ""), /invalid object path segment ""/);
    });
});

describe("one checkpoint reference and one run identity", () => {
    it("the config's explicit checkpoints, upload results and artifacts use the one crc32c rule and reference schema", () => {
        assert.strictEqual(explicitCheckpointSchema.shape.crc32c, crc32cSchema);
        assert.strictEqual(checkpointRefSchema.shape.crc32c, crc32cSchema);
        assert.strictEqual(uploadResult.shape.crc32c, crc32cSchema);
        assert.strictEqual(artifactsResult.shape["eval.log"], checkpointRefSchema);
        assert.deepStrictEqual(checkpointRefSchema.parse({ uri: "gs://b/o", size: 0, crc32c: "AAAAAA==" }), {
            uri: "gs://b/o",
            size: 0,
            crc32c: "AAAAAA==",
        });
        assert.strictEqual(
            checkpointRefSchema.safeParse({ uri: "s3://b/o", size: 1, crc32c: "AAAAAA==" }).success,
            false,
        );
    });

    it("a run id is the name and 12 hex digits of its inputs, the same for equal inputs in any key order", () => {
        const a = runId({ name: "office", config: "c.yaml" }, { repos: { a: 1, b: 2 } });
        assert.match(a, /^office-[0-9a-f]{12}$/);
        assert.strictEqual(runId({ config: "c.yaml", name: "office" }, { repos: { b: 2, a: 1 } }), a);
        assert.notStrictEqual(runId({ name: "office", config: "d.yaml" }, { repos: { a: 1, b: 2 } }), a);
        assert.strictEqual(stableJson({ b: [1, { d: 1, c: undefined }], a: null }), '{"a":null,"b":[1,{"d":1}]}');
    });
});

describe("checkWorkerIdentity", () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAbc";
    const hosts = (...names: string[]) => names.map((host) => ({ host, hostKey: key }));

    it("accepts a slice whose workers are <prefix><id>-w-<index> of one VM", () => {
        checkWorkerIdentity("bootstrap", "t1v-n-", hosts("t1v-n-3f2a9c1d-w-0", "t1v-n-3f2a9c1d-w-1"));
        checkWorkerIdentity("bootstrap", "t1v-n-", hosts("t1v-n-rehearsal-train-w-0", "t1v-n-rehearsal-train-w-1"));
    });

    it("refuses another machine, a worker out of place, or workers of two VMs, naming each and the fix", () => {
        assert.throws(
            () => checkWorkerIdentity("bootstrap", "t1v-n-", hosts("t1v-n-3f2a9c1d-w-0", "mail-server")),
            (e: Error) =>
                e.message ===
                "bootstrap: the hosts at the slice's addresses are not its workers, so nothing secret is sent to them: worker 1 answers as host 'mail-server', not t1v-n-<id>-w-1. " +
                    "An address may have been recycled to another machine. Fix: run `pulumi up --refresh` so the program reads the VM's current addresses, and check the VM with `gcloud compute tpus tpu-vm describe`.",
        );
        assert.throws(
            () => checkWorkerIdentity("bootstrap", "t1v-n-", hosts("t1v-n-a-w-1", "t1v-n-a-w-0")),
            /worker 0 answers as host 't1v-n-a-w-1', not t1v-n-<id>-w-0; worker 1 answers as host 't1v-n-a-w-0', not t1v-n-<id>-w-1\./,
        );
        assert.throws(
            () => checkWorkerIdentity("bootstrap", "t1v-n-", hosts("t1v-n-aaaa-w-0", "t1v-n-bbbb-w-1")),
            /the workers belong to different VMs: worker 0 is 't1v-n-aaaa-w-0', worker 1 is 't1v-n-bbbb-w-1'\./,
        );
    });
});

describe("step-result parsers", () => {
    const line = (v: unknown) => `noise\nTPU_SFT_RESULT ${JSON.stringify(v)}\n`;
    const upload = { uri: "gs://b/o", size: 3, crc32c: "IcOvzQ==", skipped: false };

    it("takes the last result line and validates it", () => {
        assert.deepStrictEqual(
            parseStepResult("upload", `${line({ ...upload, size: 1 })}${line(upload)}`, uploadResult),
            upload,
        );
    });

    it("names the step and the problem when the output is malformed", () => {
        assert.throws(
            () => parseStepResult("upload office", "no result here", uploadResult),
            (e: Error) =>
                e instanceof StepResultError && /^upload office: no TPU_SFT_RESULT line in the output/.test(e.message),
        );
        assert.throws(
            () => parseStepResult("upload", "TPU_SFT_RESULT {not json", uploadResult),
            /upload: its result is not JSON/,
        );
        assert.throws(
            () => parseStepResult("upload", line({ ...upload, crc32c: "zz" }), uploadResult),
            /upload: its result does not have the expected shape \(crc32c: must be a base64 crc32c/,
        );
        assert.throws(
            () => parseStepResult("wait on worker 2", line({ host: "h", exitCode: 3 }), waitResult),
            /wait on worker 2: its result does not have the expected shape \(exitCode/,
        );
        assert.throws(
            () => parseStepResult("bootstrap", line({ host: "h", mllmJaxCommit: "03455fc" }), bootstrapResult),
            /mllmJaxCommit/,
        );
        assert.throws(() => parseStepResult("locate", undefined, z.object({})), /locate: it has not run yet/);
    });
});

describe("pickCheckpointHolder", () => {
    const file = (fresh: boolean) => ({ path: "/p", size: 1, crc32c: "IcOvzQ==", fresh });
    const report = (host: string, processIndex: number | null, files: Record<string, ReturnType<typeof file>>) =>
        locateResult.parse({ host, processIndex, files });

    it("picks the one worker with fresh files, wherever process 0 ran", () => {
        const holder = pickCheckpointHolder(
            "office",
            ["best"],
            [
                report("w0", 3, {}),
                report("w1", null, {}),
                report("w2", 0, { best: file(true) }),
                report("w3", 2, { best: file(false) }),
            ],
        );
        assert.strictEqual(holder.worker, 2);
        assert.strictEqual(holder.host, "w2");
    });

    it("fails naming every worker's view when no worker or several hold them", () => {
        assert.throws(
            () =>
                pickCheckpointHolder(
                    "office",
                    ["best", "last"],
                    [report("w0", 0, { best: file(true) }), report("w1", 1, { best: file(false), last: file(false) })],
                ),
            /run office: no worker holds fresh best and last checkpoint\(s\) written by this run; expected exactly one \(JAX process 0\)\. Seen: worker 0 \(w0, process 0\): best=fresh last=missing; worker 1 \(w1, process 1\): best=stale last=stale/,
        );
        assert.throws(
            () =>
                pickCheckpointHolder(
                    "office",
                    ["best"],
                    [report("w0", 1, { best: file(true) }), report("w1", 2, { best: file(true) })],
                ),
            /2 workers hold fresh best/,
        );
        assert.strictEqual(
            pickCheckpointHolder(
                "office",
                ["best"],
                [report("w0", 1, { best: file(true) }), report("w1", 0, { best: file(true) })],
            ).worker,
            1,
        );
    });
});
