// Pure tests of the command builders and the step-result parsers: exact strings, quoting of hostile
// values, and malformed results. No Pulumi, no shell.
import * as assert from "assert";
import { z } from "zod";
import { pickCheckpointHolder } from "../components/steps/checkpointHolder";
import {
    artifactsCommand,
    bootstrapCommand,
    calcCommand,
    downloadCommand,
    evalReportCommand,
    gcsUri,
    installedFiles,
    installedStepPath,
    launchCommand,
    locateCommand,
    stepScript,
    stepScriptsDigest,
    uploadCommand,
    waitCommand,
} from "../components/steps/remoteScripts";
import {
    bootstrapResult,
    locateResult,
    parseStepResult,
    StepResultError,
    uploadResult,
    waitResult,
} from "../components/steps/results";

const HOSTILE = "a'; rm -rf / #";
/** The guard and the run of an installed step, as every non-bootstrap command has them. */
const installed = (step: Parameters<typeof installedStepPath>[0], assignments: string) =>
    `[ -f "${installedStepPath(step)}" ] || { echo 'step scripts ${stepScriptsDigest()} are not installed on this host; the bootstrap step installs them (run pulumi up)' >&2; exit 1; }; ${assignments} bash "${installedStepPath(step)}"`;

describe("command builders", () => {
    const job = {
        runId: "office-0123456789ab",
        config: "projects/x/office.yaml",
        mode: "conda" as const,
        condaEnv: "mllm-jax",
        jobMode: "train" as const,
        processCount: 4,
    };

    it("launch: inputs as sorted, quoted environment variables, then bash <the installed launch.sh>", () => {
        assert.strictEqual(
            launchCommand(job),
            installed(
                "launch",
                "CONDA_ENV=mllm-jax ENV_MODE=conda JOB_CONFIG=projects/x/office.yaml JOB_MODE=train PROCESS_COUNT=4 RUN_ID=office-0123456789ab",
            ),
        );
        assert.match(installedStepPath("launch"), /^\$HOME\/\.tpu-sft\/steps\/[0-9a-f]{12}\/launch\.sh$/);
    });

    it("bootstrap carries lib.sh and every step's script to install, and runs its own script inline", () => {
        const boot = bootstrapCommand({
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
        });
        assert.ok(boot.includes(` STEP_SCRIPTS_DIGEST=${stepScriptsDigest()} `));
        for (const name of Object.keys(installedFiles()))
            assert.ok(boot.includes(` STEP_SCRIPT_${name.toUpperCase()}='`), name);
        assert.ok(boot.endsWith(" bootstrap"));
        assert.ok(installedFiles().wait.startsWith('source "${BASH_SOURCE[0]%/*}/lib.sh"\n'));
    });

    it("quotes a hostile value so the shell sees it as one literal word", () => {
        const cmd = launchCommand({ ...job, config: HOSTILE });
        assert.ok(
            cmd.includes(` CONDA_ENV=mllm-jax ENV_MODE=conda JOB_CONFIG='a'\\''; rm -rf / #' JOB_MODE=train `),
            cmd,
        );
        const boot = bootstrapCommand({
            mode: "conda",
            condaEnv: "mllm-jax",
            python: "3.12",
            jax: "0.9.0",
            libtpu: "0.0.34",
            minicondaUrl: "https://m/x.sh",
            jaxReleasesUrl: "https://j/",
            torchIndexUrl: "https://t/",
            mllmJax: { url: `https://h/$(touch /tmp/x)\`id\`;\n☃`, commit: "03455fc" },
            miniOneRec: { url: "https://g/m.git", commit: "81b4ba9" },
            wandbKeyOnStdin: true,
        });
        assert.ok(boot.includes(`MLLM_URL='https://h/$(touch /tmp/x)\`id\`;\n☃' `), "the URL is single-quoted whole");
        assert.ok(boot.includes(" WANDB_KEY_ON_STDIN=1 "));
    });

    it("wait: timing in seconds, the log URI, storage settings, and W&B only when asked", () => {
        const cmd = waitCommand({
            ...job,
            timing: { timeLimitMinutes: 720, pollSeconds: 60, progressSeconds: 180, graceSeconds: 30 },
            logUri: "gs://b/p/office/logs/w0.log",
            storageEnv: { CLOUDSDK_CORE_PROJECT: "p" },
        });
        assert.strictEqual(
            cmd,
            installed(
                "wait",
                "CLOUDSDK_CORE_PROJECT=p CONDA_ENV=mllm-jax ENV_MODE=conda GRACE_SECONDS=30 JOB_CONFIG=projects/x/office.yaml JOB_MODE=train LOG_URI=gs://b/p/office/logs/w0.log POLL_SECONDS=60 PROCESS_COUNT=4 PROGRESS_SECONDS=180 RUN_ID=office-0123456789ab TAIL_LINES=40 TIME_LIMIT_SECONDS=43200",
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

    it("locate, upload, download, evalreport, calc and artifacts carry exactly their inputs", () => {
        const head = (cmd: string) => cmd.slice(cmd.indexOf("}; ") + 3, cmd.lastIndexOf(" bash "));
        assert.strictEqual(
            head(locateCommand({ runId: "r-1", outputDir: "runs/o", kinds: ["best", "last"], storageEnv: {} })),
            "KINDS=best,last OUTPUT_DIR=runs/o RUN_ID=r-1",
        );
        assert.strictEqual(
            head(
                uploadCommand({
                    file: "/root/MLLM-JAX/runs/o/sft_state_best.msgpack",
                    destUri: "gs://b/p/o/sft_state_best.msgpack",
                    size: 7,
                    crc32c: "IcOvzQ==",
                    storageEnv: {},
                }),
            ),
            "DEST_URI=gs://b/p/o/sft_state_best.msgpack EXPECT_CRC32C=IcOvzQ== EXPECT_SIZE=7 FILE=/root/MLLM-JAX/runs/o/sft_state_best.msgpack",
        );
        assert.strictEqual(
            head(
                downloadCommand({
                    srcUri: "gs://b/x.msgpack",
                    config: "c.yaml",
                    kind: "last",
                    size: 9,
                    crc32c: "AAAAAA==",
                    storageEnv: {},
                }),
            ),
            "EXPECT_CRC32C=AAAAAA== EXPECT_SIZE=9 JOB_CONFIG=c.yaml KIND=last SRC_URI=gs://b/x.msgpack",
        );
        assert.strictEqual(
            head(evalReportCommand({ runId: "r-2", outputDir: "runs/e", wandbMode: "online" })),
            "OUTPUT_DIR=runs/e RUN_ID=r-2 WANDB_MODE=online",
        );
        assert.strictEqual(
            head(
                calcCommand({
                    runId: "r-2",
                    outputDir: "runs/e",
                    itemFile: "workdir/i.txt",
                    mode: "system-python",
                    condaEnv: "m",
                }),
            ),
            "CONDA_ENV=m ENV_MODE=system-python ITEM_FILE=workdir/i.txt OUTPUT_DIR=runs/e RUN_ID=r-2",
        );
        assert.strictEqual(
            head(
                artifactsCommand({
                    runId: "r-2",
                    outputDir: "runs/e",
                    itemFile: "workdir/i.txt",
                    destPrefix: "gs://b/p/eval/office",
                    storageEnv: {},
                }),
            ),
            "DEST_PREFIX=gs://b/p/eval/office ITEM_FILE=workdir/i.txt OUTPUT_DIR=runs/e RUN_ID=r-2",
        );
    });

    it("scripts go to the hosts without comment lines, and step commands stay short (state, error messages)", () => {
        assert.ok(!/^\s*#/m.test(stepScript("wait")));
        assert.ok(!/^\s*#/m.test(Object.values(installedFiles()).join("\n")));
        assert.ok(launchCommand(job).length < 600, `${launchCommand(job).length} characters`);
    });

    it("gcsUri refuses segments that would escape their folder", () => {
        assert.strictEqual(gcsUri("b", "p/q", "office", "x.msgpack"), "gs://b/p/q/office/x.msgpack");
        assert.throws(() => gcsUri("b", "p", "../x"), /invalid object path segment "\.\.\/x" under gs:\/\/b/);
        assert.throws(() => gcsUri("b", ""), /invalid object path segment ""/);
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
