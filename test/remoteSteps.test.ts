// The remote step scripts, run for real by bash against worker-like home directories on this machine, with the
// stand-in MLLM-JAX repository (test/fixtures/standin) doing a real 4-process rendezvous. The commands are the
// exact strings the Pulumi program sends over SSH, and each home first receives the files the program copies
// there (the staged step bundle, what remote.CopyToRemote sends); only SSH itself is left out. One tool is stood in for:
// `ssh-keyscan` in the identify test, because no sshd runs on this machine.
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { bootstrapCommand, BootstrapInputs, bootstrapResult } from "../components/steps/bootstrap";
import { pickCheckpointHolder } from "../components/steps/checkpointHolder";
import { checkWorkerIdentity, identifyCommand, identifyResult } from "../components/steps/identify";
import { JobInputs, launchCommand, launchResult } from "../components/steps/launch";
import { locateCommand, locateResult } from "../components/steps/locate";
import { parseStepResult } from "../components/steps/stepResult";
import { STEP_NAMES, stepBundle, stepShipment } from "../components/steps/stepScript";
import { waitCommand, waitResult } from "../components/steps/wait";
import { REPO_ROOT } from "./helpers/trainConfig";
import { freePort, StepRun } from "./helpers/stepBucket";

const WORKERS = 4;
const OFFICE_CONFIG =
    "projects/minionerec/sft/configs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32.yaml";
const OFFICE_OUTPUT = "runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32";
const WANDB_CANARY = "canary0wandb0key0123456789abcdef01234567";
const FAKE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyOfThisMachine000000000000000";
const HOST = execFileSync("hostname", ["-s"], { encoding: "utf8" }).trim();
const LIBTPU_LOCK = "/tmp/libtpu_lockfile";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Alive and not a zombie (an orphan waits for this machine's PID 1 to reap it, which can take seconds). */
function running(pid: number): boolean {
    try {
        return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return false;
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/**
 * identify's boot time is when PID 1 of this machine (or container) started: not before the kernel booted, not in
 * the future, and (where procps is installed) what `ps` says of PID 1's age.
 */
function assertBootTime(bootedAt: number | undefined): void {
    assert.ok(bootedAt !== undefined, "identify reports bootedAt");
    const now = Date.now() / 1000;
    assert.ok(bootedAt >= Math.floor(now - os.uptime()) - 1, `bootedAt ${bootedAt} is before the kernel's boot`);
    assert.ok(bootedAt <= now, `bootedAt ${bootedAt} is in the future`);
    let age: string | undefined;
    try {
        age = execFileSync("ps", ["-o", "etimes=", "-p", "1"], { encoding: "utf8" }).trim();
    } catch {
        age = undefined; // no ps here: the bounds above are the check
    }
    if (age)
        assert.ok(Math.abs(now - Number(age) - bootedAt) <= 2, `bootedAt ${bootedAt}, ps says PID 1 is ${age} s old`);
}

describe("remote step scripts on worker-like directories (real bash, stand-in workload)", function () {
    this.timeout(120000);
    let work: string;
    let repos: { mllmJax: { url: string; commit: string }; miniOneRec: { url: string; commit: string } };
    let port: number;
    const started: ChildProcess[] = [];
    const home = (w: number | string) => path.join(work, typeof w === "number" ? `w${w}` : w);
    const git = (dir: string, ...args: string[]) =>
        execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], {
            encoding: "utf8",
        }).trim();

    function env(h: string, w = 0): NodeJS.ProcessEnv {
        return {
            PATH: process.env.PATH,
            HOME: h,
            GIT_CONFIG_NOSYSTEM: "1",
            TPU_WORKER_ID: String(w),
            TPU_WORKER_HOSTNAMES: Array(WORKERS).fill("127.0.0.1").join(","),
            STANDIN_COORDINATOR_PORT: String(port),
            STANDIN_STEP_SECONDS: "0.2",
            STANDIN_RENDEZVOUS_SECONDS: "20",
            // Where test/fixtures/fake-gcloud keeps gs:// objects (only the slice-signal test puts it on PATH).
            FAKE_GCS_ROOT: path.join(work, "fake-gcs"),
        };
    }

    /** Runs a command as the provider would (sh -c), with a worker's home, after sending it the step files. */
    function runIn(h: string, command: string, options: { stdin?: string; w?: number; path?: string } = {}) {
        return new Promise<StepRun>((resolve) => {
            const e = env(h, options.w);
            if (options.path) e.PATH = `${options.path}:${e.PATH}`;
            const child = spawn("sh", ["-c", command], { env: e, cwd: h });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (code) => resolve({ code, stdout, stderr }));
            child.stdin.end(options.stdin ?? "");
        });
    }
    const runStep = (w: number, command: string, stdin = "") => runIn(home(w), command, { stdin, w });
    const all = (command: (w: number) => string) =>
        Promise.all(Array.from({ length: WORKERS }, (_, w) => runStep(w, command(w))));

    /**
     * What remote.CopyToRemote puts on a host: the staged bundle directory (`steps`) copied into `~/.tpu-sft`, so
     * each step's directory with its script and lib.sh (the provider's rule: StepBundle in stepScript.ts).
     */
    function shipSteps(h: string): void {
        const bundle = stepBundle(STEP_NAMES);
        fs.cpSync(bundle.dir, path.join(h, bundle.remotePath, path.basename(bundle.dir)), { recursive: true });
        for (const step of STEP_NAMES) assert.ok(fs.existsSync(path.join(h, stepShipment(step).script)), step);
    }

    const bootInputs = (overrides: Partial<BootstrapInputs> = {}): BootstrapInputs => ({
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
        ...overrides,
    });

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

    /** A long-lived process for a test; killed in `after` whatever happens. */
    function startProcess(command: string, cwd: string, extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
        const child = spawn("bash", ["-c", command], {
            cwd,
            detached: true,
            stdio: ["pipe", "ignore", "ignore"],
            // A HOME without a .bashrc: bash with a socket on stdin reads ~/.bashrc, as under sshd.
            env: { PATH: process.env.PATH, HOME: work, ...extraEnv },
        });
        started.push(child);
        return child;
    }

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
        for (let w = 0; w < WORKERS; w++) shipSteps(home(w));
        // A shared VM's ~/.env holds other people's keys, and an old W&B key.
        fs.writeFileSync(path.join(home(0), ".env"), "HF_TOKEN=hf_other\nexport WANDB_API_KEY=old\nOTHER=x y");
        port = await freePort();
        const bootstrap = bootstrapCommand(bootInputs({ wandbKeyOnStdin: true }));
        assert.ok(!bootstrap.includes(WANDB_CANARY));
        const results = await Promise.all(
            Array.from({ length: WORKERS }, (_, w) => runStep(w, bootstrap, `${WANDB_CANARY}\r\n`)),
        );
        for (const r of results) assert.strictEqual(r.code, 0, r.stderr);
    });

    after(() => {
        // Leave no job or helper process behind, whatever a failed assertion left running.
        for (const child of started) {
            try {
                process.kill(-child.pid!, "SIGKILL");
            } catch {
                // already gone
            }
        }
        execFileSync("bash", [
            "-c",
            `for f in ${work}/*/tpu-sft-runs/*/pid; do kill -9 $(cat "$f" 2>/dev/null) 2>/dev/null || true; done`,
        ]);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("identify returns this host's name and the key its sshd serves; a name that is not the expected worker is refused", async () => {
        const bin = path.join(work, "keyscan-bin");
        fs.mkdirSync(bin, { recursive: true });
        // Stands in for ssh-keyscan against this machine's sshd, which the test cannot run.
        fs.writeFileSync(
            path.join(bin, "ssh-keyscan"),
            `#!/bin/sh\necho '# 127.0.0.1:22 SSH-2.0-OpenSSH' >&2\necho "127.0.0.1 ${FAKE_HOST_KEY}"\n`,
            { mode: 0o755 },
        );
        const r = await runIn(home(0), identifyCommand(), { path: bin });
        assert.strictEqual(r.code, 0, r.stderr);
        const { bootedAt, ...identity } = parseStepResult("identify", r.stdout, identifyResult);
        assert.deepStrictEqual(identity, { host: HOST, hostKey: FAKE_HOST_KEY });
        assertBootTime(bootedAt);
        assert.throws(
            () => checkWorkerIdentity("bootstrap", "t1v-n-", [identity]),
            new RegExp(`worker 0 answers as host '${HOST}', not t1v-n-<id>-w-0\\. An address may have been recycled`),
        );
    });

    it("identify falls back to /etc/ssh's ed25519 key when ssh-keyscan gets no answer, and fails clearly without either", async () => {
        const r = await runIn(home(0), identifyCommand({ sshPort: await freePort() }));
        const file = "/etc/ssh/ssh_host_ed25519_key.pub";
        if (fs.existsSync(file)) {
            assert.strictEqual(r.code, 0, r.stderr);
            const [type, key] = fs.readFileSync(file, "utf8").split(" ");
            const { bootedAt, ...identity } = parseStepResult("identify", r.stdout, identifyResult);
            assert.deepStrictEqual(identity, { host: HOST, hostKey: `${type} ${key}` });
            assertBootTime(bootedAt);
            assert.match(r.stderr, /host key ssh-ed25519 \S+… from \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
        } else {
            assert.notStrictEqual(r.code, 0);
            assert.match(
                r.stderr,
                /ERROR: could not read this host's ed25519 SSH host key: ssh-keyscan of 127\.0\.0\.1:\d+ and \/etc\/ssh\/ssh_host_ed25519_key\.pub gave nothing/,
            );
        }
    });

    it("bootstrap checks out both repos at the pinned commits, detached, and merges the W&B key into ~/.env (mode 600, other keys kept)", async () => {
        for (let w = 0; w < WORKERS; w++) {
            assert.strictEqual(git(path.join(home(w), "MLLM-JAX"), "rev-parse", "HEAD"), repos.mllmJax.commit);
            assert.strictEqual(git(path.join(home(w), "MLLM-JAX"), "rev-parse", "--abbrev-ref", "HEAD"), "HEAD");
            assert.strictEqual(
                git(path.join(home(w), "MLLM-JAX", "workdir", "MiniOneRec"), "rev-parse", "HEAD"),
                repos.miniOneRec.commit,
            );
            const envFile = path.join(home(w), ".env");
            assert.strictEqual(
                fs.readFileSync(envFile, "utf8"),
                w === 0
                    ? `HF_TOKEN=hf_other\nOTHER=x y\nWANDB_API_KEY=${WANDB_CANARY}\n`
                    : `WANDB_API_KEY=${WANDB_CANARY}\n`,
            );
            assert.strictEqual(fs.statSync(envFile).mode & 0o777, 0o600);
        }
        assert.deepStrictEqual(
            fs.readdirSync(home(0)).filter((f) => f.startsWith(".env")),
            [".env"],
            "no temporary file is left",
        );
    });

    it("bootstrap re-runs fast and reuses the environment; an unknown commit fails clearly", async () => {
        const started = Date.now();
        const r = await runStep(0, bootstrapCommand(bootInputs()));
        assert.strictEqual(r.code, 0, r.stderr);
        const result = parseStepResult("bootstrap", r.stdout, bootstrapResult);
        assert.strictEqual(result.envReused, true);
        assert.strictEqual(result.mllmJaxCommit, repos.mllmJax.commit);
        assert.ok(Date.now() - started < 5000, `re-run took ${Date.now() - started} ms`);
        const unknown = "0123456789abcdef0123456789abcdef01234567";
        const bad = await runStep(
            0,
            bootstrapCommand(bootInputs({ mllmJax: { url: repos.mllmJax.url, commit: unknown } })),
        );
        assert.notStrictEqual(bad.code, 0);
        assert.match(
            bad.stderr,
            new RegExp(`commit ${unknown} is not in ${repos.mllmJax.url} \\(check repos\\.\\*\\.commit\\)`),
        );
        assert.doesNotMatch(bad.stdout, /TPU_SFT_RESULT/);
    });

    it("a failing git clone or fetch fails bootstrap with git's own message", async () => {
        const missing = path.join(work, "no-such-repo.git");
        const fresh = home("clone-fails");
        shipSteps(fresh);
        const clone = await runIn(
            fresh,
            bootstrapCommand(bootInputs({ mllmJax: { url: missing, commit: repos.mllmJax.commit } })),
        );
        assert.notStrictEqual(clone.code, 0);
        assert.match(
            clone.stderr,
            new RegExp(
                `ERROR: git clone of ${missing} into ${fresh}/MLLM-JAX failed \\(git exit code 128\\); git said: fatal: repository '${missing}' does not exist`,
            ),
        );
        // An existing checkout, a commit it lacks, and a remote that is gone: the fetch fails, loudly.
        const fetch = await runStep(
            1,
            bootstrapCommand(
                bootInputs({ mllmJax: { url: missing, commit: "0123456789abcdef0123456789abcdef01234567" } }),
            ),
        );
        assert.notStrictEqual(fetch.code, 0);
        assert.match(
            fetch.stderr,
            new RegExp(
                `ERROR: git fetch of ${missing} failed \\(git exit code 128\\); git said: fatal: '${missing}' does not appear to be a git repository`,
            ),
        );
        assert.doesNotMatch(fetch.stdout, /TPU_SFT_RESULT/);
        // Put worker 1's origin back for the later steps.
        const fixed = await runStep(1, bootstrapCommand(bootInputs()));
        assert.strictEqual(fixed.code, 0, fixed.stderr);
    });

    describe("checkout safety on a repository with two commits", () => {
        let tiny: string;
        let c1: string;
        let c2: string;
        let h: string;
        let checkout: string;
        const boot = (commit: string) =>
            runIn(h, bootstrapCommand(bootInputs({ mllmJax: { url: tiny, commit: commit.slice(0, 12) } })));

        before(async () => {
            const src = path.join(work, "tiny-src");
            fs.mkdirSync(src);
            git(src, "init", "-q", "-b", "main");
            fs.writeFileSync(path.join(src, "a.txt"), "a\n");
            fs.writeFileSync(path.join(src, "requirements-tpu.txt"), "fire\n");
            git(src, "add", ".");
            git(src, "commit", "-qm", "one");
            c1 = git(src, "rev-parse", "HEAD");
            fs.writeFileSync(path.join(src, "b.txt"), "b\n");
            git(src, "add", ".");
            git(src, "commit", "-qm", "two");
            c2 = git(src, "rev-parse", "HEAD");
            tiny = path.join(work, "tiny.git");
            execFileSync("git", ["clone", "-q", "--bare", src, tiny]);
            h = home("tiny");
            shipSteps(h);
            checkout = path.join(h, "MLLM-JAX");
            const first = await boot(c1);
            assert.strictEqual(first.code, 0, first.stderr);
            assert.strictEqual(git(checkout, "rev-parse", "HEAD"), c1);
        });

        it("a failing checkout fails bootstrap with git's message and leaves the old commit and the user's file", async () => {
            fs.writeFileSync(path.join(checkout, "b.txt"), "mine\n");
            const r = await boot(c2);
            assert.notStrictEqual(r.code, 0);
            assert.match(
                r.stderr,
                new RegExp(
                    `ERROR: git checkout of ${c2} in ${checkout} failed \\(git exit code 1\\); git said: error: The following untracked working tree files would be overwritten by checkout:\\s+b\\.txt`,
                ),
            );
            assert.doesNotMatch(r.stdout, /TPU_SFT_RESULT/);
            assert.strictEqual(git(checkout, "rev-parse", "HEAD"), c1);
            assert.strictEqual(fs.readFileSync(path.join(checkout, "b.txt"), "utf8"), "mine\n");
            fs.rmSync(path.join(checkout, "b.txt"));
        });

        it("after the checkout HEAD is compared with the pin: a HEAD moved elsewhere fails bootstrap", async () => {
            const hook = path.join(checkout, ".git", "hooks", "post-checkout");
            fs.writeFileSync(hook, `#!/bin/sh\ngit update-ref --no-deref HEAD ${c1}\n`, { mode: 0o755 });
            try {
                const r = await boot(c2);
                assert.notStrictEqual(r.code, 0);
                assert.match(
                    r.stderr,
                    new RegExp(
                        `ERROR: after the checkout, HEAD of ${checkout} is ${c1}, not the pinned commit ${c2.slice(0, 12)} \\(${c2}\\)`,
                    ),
                );
                assert.doesNotMatch(r.stdout, /TPU_SFT_RESULT/);
            } finally {
                fs.rmSync(hook);
                git(checkout, "reset", "-q", "--hard", c1);
            }
        });

        it("a checkout with local changes to tracked files is refused, naming the files and the fix, and nothing is discarded", async () => {
            fs.writeFileSync(path.join(checkout, "a.txt"), "edited on the VM\n");
            const r = await boot(c2);
            assert.notStrictEqual(r.code, 0);
            assert.ok(
                r.stderr.includes(
                    `ERROR: the checkout ${checkout} has local changes to 1 tracked file(s): a.txt. Bootstrap will not discard them. ` +
                        `Fix: on this worker keep them with \`git -C ${checkout} stash\` (or commit them elsewhere), or drop them with \`git -C ${checkout} checkout -- .\`; then run \`pulumi up\` again`,
                ),
                r.stderr,
            );
            assert.strictEqual(fs.readFileSync(path.join(checkout, "a.txt"), "utf8"), "edited on the VM\n");
            assert.strictEqual(git(checkout, "rev-parse", "HEAD"), c1);
            git(checkout, "checkout", "--", ".");
            const clean = await boot(c2);
            assert.strictEqual(clean.code, 0, clean.stderr);
            assert.strictEqual(git(checkout, "rev-parse", "HEAD"), c2);
        });

        it("a stale index.lock is removed; with git still working in the repository, bootstrap stops and says why", async () => {
            const lock = path.join(checkout, ".git", "index.lock");
            // A git process working in the repository (it waits for object names on stdin).
            const busy = startProcess(`exec git -C ${JSON.stringify(checkout)} cat-file --batch`, work);
            await sleep(300);
            fs.writeFileSync(lock, "");
            const stopped = await boot(c2);
            assert.notStrictEqual(stopped.code, 0);
            assert.match(
                stopped.stderr,
                new RegExp(
                    `ERROR: ${lock.replace(/\./g, "\\.")} exists and git is still working in ${checkout}: ${busy.pid} \\(git -C ${checkout} cat-file --batch \\)\\. Bootstrap stops rather than break that git`,
                ),
            );
            assert.ok(fs.existsSync(lock), "the lock of a running git is kept");
            process.kill(-busy.pid!, "SIGKILL");
            await sleep(200);
            const cleared = await boot(c2);
            assert.strictEqual(cleared.code, 0, cleared.stderr);
            assert.match(cleared.stderr, /removing stale \S+\/\.git\/index\.lock \(no git process is working in /);
            assert.ok(!fs.existsSync(lock));
        });
    });

    it("a hung step is stopped on the host at its limit, with its name and host in the error", async () => {
        // A git server that accepts the connection and never answers: git clone waits forever.
        const sockets: net.Socket[] = [];
        let closed = 0;
        const server = net.createServer((s) => {
            sockets.push(s);
            s.on("close", () => closed++);
            s.resume(); // read (and drop) what git sends, so its end of the connection is seen
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        const hungPort = (server.address() as net.AddressInfo).port;
        const h = home("hung");
        shipSteps(h);
        try {
            const t0 = Date.now();
            const r = await runIn(
                h,
                bootstrapCommand(
                    bootInputs({
                        mllmJax: { url: `git://127.0.0.1:${hungPort}/x.git`, commit: repos.mllmJax.commit },
                        limitSeconds: 3,
                    }),
                ),
            );
            const took = Date.now() - t0;
            assert.strictEqual(r.code, 1, r.stderr);
            assert.match(
                r.stderr,
                new RegExp(
                    `\\[bootstrap ${HOST}\\] ERROR: step bootstrap on ${HOST} exceeded its 3s limit and was stopped`,
                ),
            );
            assert.ok(took >= 3000 && took < 10000, `stopped after ${took} ms`);
            assert.strictEqual(sockets.length, 1, "git connected");
            await sleep(200);
            assert.strictEqual(closed, 1, "the hung git was killed with the step");
        } finally {
            sockets.forEach((s) => s.destroy());
            server.close();
        }
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
        await sleep(1500);
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

    it("one slice, one fate: a worker exits 1 while its peers hang; every wait ends within two polls, the peers' jobs are stopped, and each names the worker", async () => {
        const runId = "office-abababababab";
        const signalUri = `gs://bucket/prefix/office/attempts/${runId}/`;
        const fakeGcloud = path.join(REPO_ROOT, "test/fixtures/fake-gcloud");
        const pollSeconds = 2;
        const faults = (w: number) => path.join(home(w), ".standin-faults.env");
        // Worker 2 crashes at step 2; worker 0's coordinator tells nobody, so the others block at the barrier.
        fs.writeFileSync(faults(2), "FAIL_WORKER=2\nFAIL_CODE=1\nFAIL_AT_STEP=2\n");
        fs.writeFileSync(faults(0), "PEER_FAILURE=hang\n");
        const waitOn = (w: number) =>
            runIn(
                home(w),
                waitFor(runId, {
                    timing: { timeLimitMinutes: 2, pollSeconds, progressSeconds: 1, graceSeconds: 1 },
                    slice: { worker: w, signalUri },
                }),
                { w, path: fakeGcloud },
            );
        try {
            (await all(() => launchCommand(job(runId)))).forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
            const ended: number[] = [];
            const waits = await Promise.all(
                Array.from({ length: WORKERS }, (_, w) =>
                    waitOn(w).then((r) => {
                        ended[w] = Date.now() / 1000;
                        return r;
                    }),
                ),
            );
            const runDir = (w: number) => path.join(home(w), "tpu-sft-runs", runId);
            const failedAt = Number(fs.readFileSync(path.join(runDir(2), "finished_at"), "utf8"));
            assert.deepStrictEqual(
                waits.map((r) => r.code),
                [1, 1, 1, 1],
            );
            assert.match(
                waits[2].stderr,
                /ERROR: worker \S+: the train job exited with code 1 \(attempt 1, log \S+\/w2\/tpu-sft-runs\/office-abababababab\/train\.log\)/,
            );
            assert.match(
                waits[2].stderr,
                /told the other workers: gs:\/\/bucket\/prefix\/office\/attempts\/office-abababababab\/1\/failed-w2\.json/,
            );
            const marker = JSON.parse(
                fs.readFileSync(
                    path.join(work, "fake-gcs", "bucket/prefix/office/attempts", runId, "1/failed-w2.json"),
                    "utf8",
                ),
            );
            assert.deepStrictEqual(
                {
                    worker: marker.worker,
                    attempt: marker.attempt,
                    exitCode: marker.exitCode,
                    failedAt: marker.failedAt,
                },
                { worker: 2, attempt: 1, exitCode: 1, failedAt },
            );
            assert.match(marker.logTail, /injected fault: worker 2 exiting with code 1 at step 2/);
            // The peers hang until one of them is stopped; stopping one (worker 0 hosts the coordinator) may make the
            // others' jobs fail on their own first. Either way each wait names worker 2 as the first failure.
            const stopped = [0, 1, 3].filter((w) => waits[w].stderr.includes("stopped its train job"));
            assert.ok(stopped.length >= 1, "the hanging peers are stopped, not left to the time limit");
            for (const w of [0, 1, 3]) {
                const pid = Number(fs.readFileSync(path.join(runDir(w), "pid"), "utf8"));
                assert.ok(!running(pid), `worker ${w}'s job (pid ${pid}) is stopped`);
                if (stopped.includes(w)) {
                    assert.ok(
                        waits[w].stderr.includes(
                            `ERROR: worker ${HOST}: stopped its train job (attempt 1) because worker 2 (${HOST}) failed first: the train job exited with code 1, exit code 1.`,
                        ),
                        waits[w].stderr,
                    );
                    assert.match(
                        waits[w].stderr,
                        /injected fault: worker 2 exiting with code 1 at step 2/,
                        "the peer's log tail",
                    );
                    // The stop and the job's own failure can cross (its peers vanish as it is stopped), so an exit
                    // file may exist; it never records a success.
                    const exit = path.join(runDir(w), "exit");
                    if (fs.existsSync(exit)) {
                        assert.notStrictEqual(fs.readFileSync(exit, "utf8").trim(), "0", `worker ${w}'s job succeeded`);
                    }
                } else {
                    assert.ok(
                        waits[w].stderr.includes(
                            `ERROR: worker ${HOST}: the train job exited with code 1, after worker 2 (${HOST}) failed first: the train job exited with code 1, exit code 1 (attempt 1,`,
                        ),
                        waits[w].stderr,
                    );
                }
            }
            // Noticed on worker 2 within about a second; the peers within one more poll interval.
            const latest = Math.max(...ended) - failedAt;
            assert.ok(latest <= 2 * pollSeconds + 1.5, `the last wait ended ${latest.toFixed(1)} s after the failure`);
        } finally {
            fs.rmSync(faults(0), { force: true });
            fs.rmSync(faults(2), { force: true });
        }
        // The next `pulumi up` relaunches every worker, the stopped ones included, and the new attempt completes.
        const retried = await Promise.all(Array.from({ length: WORKERS }, (_, w) => waitOn(w)));
        retried.forEach((r) => assert.strictEqual(r.code, 0, r.stderr));
        assert.deepStrictEqual(
            retried.map((r) => parseStepResult("wait", r.stdout, waitResult).attempt),
            [2, 2, 2, 2],
        );
    });

    it("launch stops only this program's leftover jobs: a foreign process in the checkout survives, and an unheld TPU lock is removed", async () => {
        const runId = "office-eeeeeeeeeeee";
        const repo = path.join(home(0), "MLLM-JAX");
        // A leftover of an earlier run of this program: it carries the run-directory marker.
        const ours = startProcess("exec -a run_sid_sft_leftover sleep 300", repo, {
            TPU_SFT_RUN_DIR: path.join(home(0), "tpu-sft-runs", "office-000000000000"),
        });
        // Someone else's process on the shared VM, in the same checkout, with the same name.
        const foreign = startProcess("exec -a run_sid_sft_foreign sleep 300", repo);
        await sleep(300);
        fs.writeFileSync(LIBTPU_LOCK, "");
        try {
            const r = await runStep(0, launchCommand({ ...job(runId), processCount: 1 }));
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(
                r.stderr,
                new RegExp(
                    `stopping processes of this program's earlier jobs: ${ours.pid} \\(run_sid_sft_leftover 300 \\)`,
                ),
            );
            assert.match(r.stderr, /removing stale \/tmp\/libtpu_lockfile \(no process holds it\)/);
            assert.ok(!fs.existsSync(LIBTPU_LOCK));
            await sleep(300);
            assert.ok(!alive(ours.pid!), "this program's leftover is stopped");
            assert.ok(alive(foreign.pid!), "the foreign process survives launch");
            const done = await runStep(0, waitFor(runId, { processCount: 1 }));
            assert.strictEqual(done.code, 0, done.stderr);
            assert.ok(alive(foreign.pid!), "and the whole job");
        } finally {
            fs.rmSync(LIBTPU_LOCK, { force: true });
        }
    });

    it("launch refuses to start while a foreign process holds the TPU lock, naming it, and stops nothing", async () => {
        const runId = "office-ffffffffffff";
        fs.writeFileSync(LIBTPU_LOCK, "");
        const holder = startProcess(`exec 3<${LIBTPU_LOCK}; exec -a tpu_user_job sleep 300`, work);
        await sleep(300);
        try {
            const r = await runStep(0, launchCommand({ ...job(runId), processCount: 1 }));
            assert.notStrictEqual(r.code, 0);
            assert.match(
                r.stderr,
                new RegExp(
                    `ERROR: the TPU is in use: /tmp/libtpu_lockfile is held by ${holder.pid} \\(tpu_user_job 300 \\), which this program did not start\\. Stop it, or wait until it ends, then run \`pulumi up\` again`,
                ),
            );
            assert.ok(alive(holder.pid!), "the foreign TPU user survives");
            assert.ok(fs.existsSync(LIBTPU_LOCK), "its lock is kept");
            assert.ok(!fs.existsSync(path.join(home(0), "tpu-sft-runs", runId, "pid")), "no job was started");
        } finally {
            process.kill(-holder.pid!, "SIGKILL");
            fs.rmSync(LIBTPU_LOCK, { force: true });
        }
    });
});
