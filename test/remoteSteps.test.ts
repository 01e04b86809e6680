// The remote step scripts, run for real by bash against four worker-like home directories on this machine,
// with the stand-in MLLM-JAX repository (test/fixtures/standin) doing a real 4-process rendezvous. The
// commands are the exact strings the Pulumi program sends over SSH; only SSH itself is left out here.
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { pickCheckpointHolder } from "../components/steps/checkpointHolder";
import {
    bootstrapCommand,
    JobInputs,
    launchCommand,
    locateCommand,
    waitCommand,
} from "../components/steps/remoteScripts";
import { bootstrapResult, launchResult, locateResult, parseStepResult, waitResult } from "../components/steps/results";
import { REPO_ROOT } from "./helpers/trainConfig";

const WORKERS = 4;
const OFFICE_CONFIG =
    "projects/minionerec/sft/configs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32.yaml";
const OFFICE_OUTPUT = "runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32";
const WANDB_CANARY = "canary0wandb0key0123456789abcdef01234567";

interface StepRun {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

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

describe("remote step scripts on worker-like directories (real bash, stand-in workload)", function () {
    this.timeout(120000);
    let work: string;
    let repos: { mllmJax: { url: string; commit: string }; miniOneRec: { url: string; commit: string } };
    let port: number;
    const home = (w: number) => path.join(work, `w${w}`);

    function env(w: number): NodeJS.ProcessEnv {
        return {
            PATH: process.env.PATH,
            HOME: home(w),
            TPU_WORKER_ID: String(w),
            TPU_WORKER_HOSTNAMES: Array(WORKERS).fill("127.0.0.1").join(","),
            STANDIN_COORDINATOR_PORT: String(port),
            STANDIN_STEP_SECONDS: "0.2",
            STANDIN_RENDEZVOUS_SECONDS: "20",
        };
    }

    function runStep(w: number, command: string, stdin = ""): Promise<StepRun> {
        return new Promise((resolve) => {
            const child = spawn("sh", ["-c", command], { env: env(w), cwd: home(w) });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (code) => resolve({ code, stdout, stderr }));
            child.stdin.end(stdin);
        });
    }

    const all = (command: (w: number) => string) =>
        Promise.all(Array.from({ length: WORKERS }, (_, w) => runStep(w, command(w))));

    function job(runId: string): JobInputs {
        return {
            runId,
            config: OFFICE_CONFIG,
            mode: "system-python",
            condaEnv: "mllm-jax",
            jobMode: "train",
            processCount: WORKERS,
        };
    }
    const waitFor = (runId: string, extra: Partial<Parameters<typeof waitCommand>[0]> = {}) =>
        waitCommand({
            ...job(runId),
            timing: { timeLimitMinutes: 2, pollSeconds: 1, progressSeconds: 1, graceSeconds: 1 },
            logUri: "",
            storageEnv: {},
            ...extra,
        });

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-steps-"));
        repos = JSON.parse(
            execFileSync(
                "bash",
                [path.join(REPO_ROOT, "test/fixtures/standin/make-repos.sh"), path.join(work, "repos")],
                { encoding: "utf8" },
            )
                .trim()
                .split("\n")
                .pop()!,
        );
        for (let w = 0; w < WORKERS; w++) fs.mkdirSync(home(w));
        port = await freePort();
        const bootstrap = bootstrapCommand({
            mode: "system-python",
            condaEnv: "mllm-jax",
            python: "3.12",
            jax: "0.9.0",
            libtpu: "0.0.34",
            minicondaUrl: "https://example.invalid/m.sh",
            jaxReleasesUrl: "https://example.invalid/j",
            torchIndexUrl: "https://example.invalid/t",
            mllmJax: repos.mllmJax,
            miniOneRec: repos.miniOneRec,
            wandbKeyOnStdin: true,
        });
        assert.ok(!bootstrap.includes(WANDB_CANARY));
        const results = await Promise.all(
            Array.from({ length: WORKERS }, (_, w) => runStep(w, bootstrap, `${WANDB_CANARY}\r\n`)),
        );
        for (const r of results) assert.strictEqual(r.code, 0, r.stderr);
    });

    after(() => {
        // Leave no job behind, whatever a failed assertion left running.
        execFileSync("bash", [
            "-c",
            `for f in ${work}/w*/tpu-sft-runs/*/pid; do kill -9 $(cat "$f") 2>/dev/null || true; done`,
        ]);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("bootstrap checks out both repos at the pinned commits, detached, and writes ~/.env (mode 600, no CR) from stdin", async () => {
        for (let w = 0; w < WORKERS; w++) {
            const git = (dir: string, ...args: string[]) =>
                execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
            assert.strictEqual(git(path.join(home(w), "MLLM-JAX"), "rev-parse", "HEAD"), repos.mllmJax.commit);
            assert.strictEqual(
                git(path.join(home(w), "MLLM-JAX"), "rev-parse", "--abbrev-ref", "HEAD"),
                "HEAD",
                "detached",
            );
            assert.strictEqual(
                git(path.join(home(w), "MLLM-JAX", "workdir", "MiniOneRec"), "rev-parse", "HEAD"),
                repos.miniOneRec.commit,
            );
            const envFile = path.join(home(w), ".env");
            assert.strictEqual(fs.readFileSync(envFile, "utf8"), `WANDB_API_KEY=${WANDB_CANARY}\n`);
            assert.strictEqual(fs.statSync(envFile).mode & 0o777, 0o600);
        }
    });

    it("bootstrap re-runs fast and reuses the environment; a branch name or unknown commit fails clearly", async () => {
        const again = bootstrapCommand({
            mode: "system-python",
            condaEnv: "mllm-jax",
            python: "3.12",
            jax: "0.9.0",
            libtpu: "0.0.34",
            minicondaUrl: "https://example.invalid/m.sh",
            jaxReleasesUrl: "https://example.invalid/j",
            torchIndexUrl: "https://example.invalid/t",
            mllmJax: repos.mllmJax,
            miniOneRec: repos.miniOneRec,
            wandbKeyOnStdin: false,
        });
        const started = Date.now();
        const r = await runStep(0, again);
        assert.strictEqual(r.code, 0, r.stderr);
        const result = parseStepResult("bootstrap", r.stdout, bootstrapResult);
        assert.strictEqual(result.envReused, true);
        assert.strictEqual(result.mllmJaxCommit, repos.mllmJax.commit);
        assert.ok(Date.now() - started < 5000, `re-run took ${Date.now() - started} ms`);
        const bad = await runStep(
            0,
            again.replace(
                `MLLM_COMMIT=${repos.mllmJax.commit}`,
                "MLLM_COMMIT=0123456789abcdef0123456789abcdef01234567",
            ),
        );
        assert.notStrictEqual(bad.code, 0);
        assert.match(bad.stderr, /commit 0123456789abcdef0123456789abcdef01234567 is not in /);
    });

    it("launch twice starts one job per worker; wait polls to success with progress lines; locate finds the checkpoint on worker 1", async () => {
        const runId = "office-aaaaaaaaaaaa";
        const first = await all(() => launchCommand(job(runId)));
        first.forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
        assert.deepStrictEqual(
            first.map((r) => parseStepResult("launch", r.stdout, launchResult).state),
            ["none", "none", "none", "none"],
        );
        const pids = Array.from({ length: WORKERS }, (_, w) =>
            fs.readFileSync(path.join(home(w), "tpu-sft-runs", runId, "pid"), "utf8"),
        );
        const second = await all(() => launchCommand(job(runId)));
        assert.deepStrictEqual(
            second.map((r) => parseStepResult("launch", r.stdout, launchResult).state),
            ["running", "running", "running", "running"],
        );
        assert.deepStrictEqual(
            Array.from({ length: WORKERS }, (_, w) =>
                fs.readFileSync(path.join(home(w), "tpu-sft-runs", runId, "pid"), "utf8"),
            ),
            pids,
        );
        assert.match(second[0].stderr, /already running here; not starting a second copy/);

        const waits = await all(() => waitFor(runId));
        waits.forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
        const results = waits.map((r) => parseStepResult("wait", r.stdout, waitResult));
        assert.deepStrictEqual(
            results.map((r) => r.processIndex),
            [3, 0, 1, 2],
        );
        assert.deepStrictEqual(
            results.map((r) => r.attempt),
            [1, 1, 1, 1],
        );
        assert.match(waits[0].stderr, /progress: step=\d+\/\d+ loss=[0-9.]+ elapsed=\d+m\d+s/);

        // A second wait after success returns at once: an interrupted `pulumi up` resumes without relaunching.
        const resumed = await runStep(0, waitFor(runId));
        assert.strictEqual(parseStepResult("wait", resumed.stdout, waitResult).attempt, 1);

        const locates = await all(() =>
            locateCommand({ runId, outputDir: OFFICE_OUTPUT, kinds: ["best", "last"], storageEnv: {} }),
        );
        locates.forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
        const reports = locates.map((r) => parseStepResult("locate", r.stdout, locateResult));
        const holder = pickCheckpointHolder("office", ["best", "last"], reports);
        assert.strictEqual(holder.worker, 1);
        assert.strictEqual(holder.files.best?.size, 3 * 1024 * 1024);
        assert.strictEqual(holder.files.best?.fresh, true);
        assert.match(holder.files.best!.crc32c, /^[A-Za-z0-9+/]{6}==$/);
        for (const w of [0, 2, 3]) assert.deepStrictEqual(reports[w].files, {}, `worker ${w} holds no checkpoint`);
        // A leftover checkpoint of an earlier run is stale for a run started after it.
        const later = "office-bbbbbbbbbbbb";
        fs.mkdirSync(path.join(home(1), "tpu-sft-runs", later), { recursive: true });
        fs.writeFileSync(
            path.join(home(1), "tpu-sft-runs", later, "started_at"),
            String(Math.floor(Date.now() / 1000) + 10),
        );
        const stale = parseStepResult(
            "locate",
            (
                await runStep(
                    1,
                    locateCommand({ runId: later, outputDir: OFFICE_OUTPUT, kinds: ["best"], storageEnv: {} }),
                )
            ).stdout,
            locateResult,
        );
        assert.strictEqual(stale.files.best?.fresh, false);
    });

    it("a failing worker fails its wait with its exit code and log tail; after the fix the next wait relaunches all workers", async () => {
        const runId = "office-cccccccccccc";
        const faults = path.join(home(2), ".standin-faults.env");
        fs.writeFileSync(faults, "FAIL_WORKER=2\nFAIL_CODE=3\nFAIL_AT_STEP=2\n");
        (await all(() => launchCommand(job(runId)))).forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
        const waits = await all(() => waitFor(runId));
        assert.deepStrictEqual(
            waits.map((r) => r.code === 0),
            [false, false, false, false],
        );
        assert.match(
            waits[2].stderr,
            /ERROR: worker \S+: the train job exited with code 3 \(attempt 1, log \S+\/w2\/tpu-sft-runs\/office-cccccccccccc\/train\.log\)/,
        );
        assert.match(waits[2].stderr, /--- last 40 lines of \S+train\.log on \S+ ---/);
        for (const w of [0, 1, 3]) assert.match(waits[w].stderr, /the train job exited with code [1-9]\d*/);

        fs.rmSync(faults);
        const retried = await all(() => waitFor(runId));
        retried.forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
        assert.deepStrictEqual(
            retried.map((r) => parseStepResult("wait", r.stdout, waitResult).attempt),
            [2, 2, 2, 2],
        );
        assert.ok(
            fs.existsSync(path.join(home(2), "tpu-sft-runs", runId, "attempt-1", "train.log")),
            "the failed attempt's log is kept",
        );
    });

    it("a job killed without an exit file is reported as died or preempted within a poll plus the grace period", async () => {
        const runId = "office-dddddddddddd";
        (await all(() => launchCommand(job(runId)))).forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
        const waiting = runStep(3, waitFor(runId));
        await new Promise((r) => setTimeout(r, 1500));
        const pid = Number(fs.readFileSync(path.join(home(3), "tpu-sft-runs", runId, "pid"), "utf8"));
        const killedAt = Date.now();
        // Kill the job's whole process group, as a preemption would, so no exit file is written.
        process.kill(-pid, "SIGKILL");
        const r = await waiting;
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, /the train process \d+ is gone without an exit code: it died or the VM was preempted/);
        assert.ok(Date.now() - killedAt < 6000, `reported after ${Date.now() - killedAt} ms`);
        await all(() => waitFor(runId)).catch(() => undefined);
    });

    it("launch clears a stale TPU lock file and stops a leftover process in the checkout", async () => {
        const runId = "office-eeeeeeeeeeee";
        const repo = path.join(home(0), "MLLM-JAX");
        const leftover = spawn("bash", ["-c", "exec -a run_sid_sft_leftover sleep 300"], {
            cwd: repo,
            detached: true,
            stdio: "ignore",
        });
        await new Promise((r) => setTimeout(r, 300));
        fs.writeFileSync("/tmp/libtpu_lockfile", "");
        const r = await runStep(0, launchCommand({ ...job(runId), processCount: 1 }));
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`stopping leftover processes in ${repo}: ${leftover.pid}`));
        assert.match(r.stderr, /removing stale \/tmp\/libtpu_lockfile/);
        assert.ok(!fs.existsSync("/tmp/libtpu_lockfile"));
        assert.throws(() => process.kill(leftover.pid!, 0), /ESRCH/);
        const done = await runStep(0, waitFor(runId, { processCount: 1 }));
        assert.strictEqual(done.code, 0, done.stderr);
    });
});
