/**
 * The stand-in TPU workload (test/fixtures/standin): small git repos shaped like
 * demon2036/MLLM-JAX (branch test) and AkaliKong/MiniOneRec (main) whose scripts
 * behave like the real ones where our automation depends on them.
 *
 * These tests run the stand-in the way the SOP runs the real thing: four
 * "workers" (HOME=<tmp>/wN, repo at $HOME/MLLM-JAX, MiniOneRec cloned to
 * workdir/MiniOneRec) talking over 127.0.0.1, then a separate single-host
 * "v6e-8" home for eval.
 *
 * What they do NOT prove: that the real MLLM-JAX behaves like this. The contract
 * here is taken from shared/notes/seed-repo-facts.md and the SOP; where those are
 * silent (exact peer-failure wording, summary_json format) the stand-in picked one.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./helpers/stepBucket";

const STANDIN_DIR = path.join(__dirname, "fixtures", "standin");
const MAKE_REPOS = path.join(STANDIN_DIR, "make-repos.sh");
const CALC_SOURCE = process.env.STANDIN_CALC_PY ?? path.join(__dirname, "fixtures", "minionerec", "calc.py");

const CONFIGS = "projects/minionerec/sft/configs";
const OFFICE_TRAIN_NAME = "sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32";
const INDUSTRIAL_TRAIN_NAME = "sid_sft_jax_qwen25_1p5b_base_industrial_v6e16_full_best_rightpad_mu_fp32";
const OFFICE_EVAL_NAME = "sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32";
const INDUSTRIAL_EVAL_NAME = "sid_sft_jax_qwen25_1p5b_base_industrial_v6e16_eval_from_last_rightpad_mu_fp32";
const cfg = (name: string): string => `${CONFIGS}/${name}.yaml`;

const OFFICE_DATA = "workdir/MiniOneRec/data/Amazon";
const OFFICE_BASE = "Office_Products_5_2016-10-2018-11";
const CHECKPOINT_BYTES = 3 * 1024 * 1024;
const WORKERS = [0, 1, 2, 3];
const LOCALHOSTS = WORKERS.map(() => "127.0.0.1").join(",");
// Shorter steps for runs that are not about the default timing (machine may be loaded).
const FAST_STEPS: NodeJS.ProcessEnv = { STANDIN_STEP_SECONDS: "0.15" };
// Generous bounds: "within a couple of seconds" must hold on a busy 2-CPU box too.
const PEER_FAILURE_MS = 3000;
const WANDB_URL_LINE =
    /^wandb: 🚀 View run (\S+) at: (https:\/\/wandb\.ai\/standin-entity\/minionerec-sid-sft\/runs\/([a-z0-9]{8}))$/m;

// A real interpreter path: the pyenv shim does not work once HOME points elsewhere,
// and `bash -lc` in the nohup launcher must find the same Python.
const PYTHON = execFileSync("python3", ["-c", "import sys; print(sys.executable)"]).toString().trim();

interface RepoInfo {
    url: string;
    commit: string;
}
interface Repos {
    mllmJax: RepoInfo;
    miniOneRec: RepoInfo;
}
interface Result {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    /** stdout and stderr interleaved in arrival order, as in a nohup log */
    output: string;
    ms: number;
    endedAt: number;
}
interface Proc {
    child: ChildProcess;
    result: Promise<Result>;
    output: () => string;
}
interface Home {
    home: string;
    repo: string;
}
interface Prediction {
    output: string;
    predict: string[];
}
interface Metrics {
    hr: Record<string, number>;
    ndcg: Record<string, number>;
    topk: number[];
    n_samples: number;
    n_beams: number;
    invalid_prediction_count: number;
}

const running = new Set<ChildProcess>();

function start(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Proc {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
        stdout += d.toString();
        output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        output += d.toString();
    });
    // Backstop so a wedged stand-in cannot hang the suite.
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const result = new Promise<Result>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            running.delete(child);
            const endedAt = Date.now();
            resolve({ code, signal, stdout, stderr, output, ms: endedAt - t0, endedAt });
        });
    });
    return { child, result, output: () => output };
}

function git(args: string[], cwd?: string): string {
    return execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "pipe"] })
        .toString()
        .trim();
}

function makeRepos(dest: string): Repos {
    const out = execFileSync("bash", [MAKE_REPOS, dest], { stdio: ["ignore", "pipe", "pipe"] }).toString();
    const lines = out.trim().split("\n");
    assert.equal(lines.length, 1, `make-repos.sh must print exactly one line, got:\n${out}`);
    return JSON.parse(lines[0]) as Repos;
}

/** Environment without anything the stand-in reads, so the caller's shell cannot leak in. */
function baseEnv(home: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
        if (!/^(TPU_|STANDIN_|WANDB_|REQUIRE_|FAIL_|HANG_|BAD_METRICS|PYTHON)/.test(key)) env[key] = value;
    }
    return { ...env, HOME: home, PYTHON, PYTHONDONTWRITEBYTECODE: "1" };
}

function workerEnv(h: Home, worker: number, port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
        ...baseEnv(h.home),
        TPU_WORKER_ID: String(worker),
        TPU_WORKER_HOSTNAMES: LOCALHOSTS,
        STANDIN_COORDINATOR_PORT: String(port),
        REQUIRE_JAX_PROCESS_COUNT: "4",
        ...extra,
    };
}

function runSidSft(h: Home, env: NodeJS.ProcessEnv, args: string[], timeoutMs?: number): Proc {
    return start("./scripts/run_sid_sft.sh", args, h.repo, env, timeoutMs);
}

function sha256(file: string): string {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function readJson<T>(file: string): T {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

function countLines(text: string, re: RegExp): number {
    return text.split("\n").filter((l) => re.test(l)).length;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/** Same derivation as wandb_standin.derive_run_id: base36 digits of sha256's first 8 bytes. */
function deriveRunId(entity: string, project: string, name: string): string {
    let value = crypto.createHash("sha256").update(`${entity}/${project}/${name}`).digest().readBigUInt64BE(0);
    let id = "";
    for (let i = 0; i < 8; i++) {
        id += "0123456789abcdefghijklmnopqrstuvwxyz"[Number(value % 36n)];
        value /= 36n;
    }
    return id;
}

/** Catalog as calc.py builds it: first tab column of every line, stripped. */
function readCatalog(file: string): Set<string> {
    const lines = fs.readFileSync(file, "utf8").split(/\r\n|\r|\n/);
    if (lines[lines.length - 1] === "") lines.pop();
    return new Set(lines.map((l) => l.split("\t")[0].trim()));
}

/** item_sid is the last CSV column and never contains commas or quotes. */
function readTargets(csvFile: string): string[] {
    const lines = fs
        .readFileSync(csvFile, "utf8")
        .split("\n")
        .filter((l) => l !== "");
    assert.ok(lines[0].endsWith(",item_sid"), `unexpected header ${lines[0]}`);
    return lines.slice(1).map((l) => l.slice(l.lastIndexOf(",") + 1));
}

/** HR@K / NDCG@K exactly as upstream calc.py defines them (shared/notes/calc-spec.md). */
function calcMetrics(records: Prediction[], catalog: Set<string>): Metrics {
    const nBeam = records[0].predict.length;
    const ks = [1, 3, 5, 10, 20, 50].filter((k) => k <= nBeam);
    const hr = new Map(ks.map((k) => [k, 0]));
    const ndcg = new Map(ks.map((k) => [k, 0]));
    let invalid = 0;
    for (const rec of records) {
        const target = rec.output.replace(/^[ \n"]+|[ \n"]+$/g, "");
        let rank0 = -1;
        for (let i = 0; i < rec.predict.length; i++) {
            const p = rec.predict[i].replace(/^["\n]+|["\n]+$/g, "").trim();
            if (!catalog.has(p)) invalid++;
            if (p === target) {
                rank0 = i;
                break;
            }
        }
        if (rank0 < 0) continue;
        for (const k of ks) {
            if (rank0 < k) {
                ndcg.set(k, (ndcg.get(k) ?? 0) + 1 / Math.log(rank0 + 2));
                hr.set(k, (hr.get(k) ?? 0) + 1);
            }
        }
    }
    const n = records.length;
    return {
        hr: Object.fromEntries(ks.map((k) => [String(k), (hr.get(k) ?? 0) / n])),
        ndcg: Object.fromEntries(ks.map((k) => [String(k), (ndcg.get(k) ?? 0) / n / (1 / Math.log(2))])),
        topk: ks,
        n_samples: n,
        n_beams: nBeam,
        invalid_prediction_count: invalid,
    };
}

function assertMetricsClose(actual: Metrics, expected: Metrics, tolerance: number): void {
    assert.deepEqual(actual.topk, expected.topk);
    assert.equal(actual.n_samples, expected.n_samples);
    assert.equal(actual.n_beams, expected.n_beams);
    assert.equal(actual.invalid_prediction_count, expected.invalid_prediction_count);
    for (const kind of ["hr", "ndcg"] as const) {
        assert.deepEqual(Object.keys(actual[kind]), Object.keys(expected[kind]));
        for (const k of Object.keys(expected[kind])) {
            const diff = Math.abs(actual[kind][k] - expected[kind][k]);
            assert.ok(diff <= tolerance, `${kind}@${k}: ${actual[kind][k]} vs ${expected[kind][k]}`);
        }
    }
}

describe("stand-in MLLM-JAX + MiniOneRec workload", function () {
    let tmp = "";
    let repos: Repos;
    const homes: Home[] = [];
    let evalHome: Home;
    const bestHashes: Record<string, string> = {};

    function cloneHome(name: string): Home {
        const home = path.join(tmp, name);
        const repo = path.join(home, "MLLM-JAX");
        fs.mkdirSync(home, { recursive: true });
        git(["clone", "-q", repos.mllmJax.url, repo]);
        git(["checkout", "-q", repos.mllmJax.commit], repo);
        const mini = path.join(repo, "workdir", "MiniOneRec");
        git(["clone", "-q", repos.miniOneRec.url, mini]);
        git(["checkout", "-q", repos.miniOneRec.commit], mini);
        return { home, repo };
    }

    const trainDir = (h: Home, name = OFFICE_TRAIN_NAME): string => path.join(h.repo, "runs", name);
    const clearRuns = (): void =>
        homes.forEach((h) => fs.rmSync(path.join(h.repo, "runs"), { recursive: true, force: true }));
    const writeAll = (file: string, text: string): void =>
        homes.forEach((h) => fs.writeFileSync(path.join(h.home, file), text));
    const removeAll = (file: string): void => homes.forEach((h) => fs.rmSync(path.join(h.home, file), { force: true }));

    async function trainAll(
        workers: number[],
        extra: NodeJS.ProcessEnv = {},
        identityFromEnv = true,
    ): Promise<Result[]> {
        const port = await freePort();
        const procs = workers.map((w) => {
            const env = identityFromEnv ? workerEnv(homes[w], w, port, extra) : { ...baseEnv(homes[w].home), ...extra };
            return runSidSft(homes[w], env, ["--config", cfg(OFFICE_TRAIN_NAME), "--run-mode", "train"]);
        });
        return Promise.all(procs.map((p) => p.result));
    }

    before(function () {
        this.timeout(60_000);
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
        repos = makeRepos(path.join(tmp, "repos"));
        for (const w of WORKERS) {
            homes.push(cloneHome(`w${w}`));
            // WANDB_API_KEY via the dotenv fallback ($HOME/.env), as /root/.env on a TPU VM.
            fs.writeFileSync(path.join(homes[w].home, ".env"), "WANDB_API_KEY=standin-key-0123456789\n");
        }
        evalHome = cloneHome("v6e8");
    });

    after(function () {
        for (const child of running) child.kill("SIGKILL");
        if (tmp && !process.env.STANDIN_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe("make-repos.sh", function () {
        it("prints the JSON contract and gives the same SHAs on a second build", function () {
            const again = makeRepos(path.join(tmp, "repos-again"));
            assert.match(repos.mllmJax.commit, /^[0-9a-f]{40}$/);
            assert.match(repos.miniOneRec.commit, /^[0-9a-f]{40}$/);
            assert.equal(again.mllmJax.commit, repos.mllmJax.commit);
            assert.equal(again.miniOneRec.commit, repos.miniOneRec.commit);
            assert.equal(repos.mllmJax.url, path.join(tmp, "repos", "MLLM-JAX.git"));
            assert.equal(repos.miniOneRec.url, path.join(tmp, "repos", "MiniOneRec.git"));
            assert.equal(git(["symbolic-ref", "HEAD"], repos.mllmJax.url), "refs/heads/test");
            assert.equal(git(["symbolic-ref", "HEAD"], repos.miniOneRec.url), "refs/heads/main");
            assert.equal(git(["rev-parse", "refs/heads/test"], repos.mllmJax.url), repos.mllmJax.commit);
            const scripts = git(["ls-tree", "HEAD", "scripts/"], repos.mllmJax.url);
            assert.match(scripts, /^100755 blob \S+\tscripts\/run_sid_sft\.sh$/m);
            assert.match(scripts, /^100644 blob \S+\tscripts\/run_sid_sft\.py$/m);
            // calc.py from the other fixture is shipped at the MiniOneRec root, unchanged.
            const shipped = execFileSync("git", ["show", "HEAD:calc.py"], { cwd: repos.miniOneRec.url });
            assert.ok(
                shipped.equals(fs.readFileSync(CALC_SOURCE)),
                "calc.py in MiniOneRec.git differs from its source",
            );
        });

        it("fails clearly when calc.py is missing", function () {
            let error: (Error & { status?: number; stderr?: Buffer }) | undefined;
            try {
                execFileSync("bash", [MAKE_REPOS, path.join(tmp, "repos-nocalc")], {
                    env: { ...process.env, STANDIN_CALC_PY: path.join(tmp, "no-such-calc.py") },
                    stdio: ["ignore", "pipe", "pipe"],
                });
            } catch (e) {
                error = e as Error & { status?: number; stderr?: Buffer };
            }
            assert.ok(error, "make-repos.sh should have failed");
            assert.equal(error.status, 1);
            assert.match(String(error.stderr), /calc\.py not found at .*no-such-calc\.py/);
            assert.ok(!fs.existsSync(path.join(tmp, "repos-nocalc", "MiniOneRec.git")));
        });
    });

    describe("v6e-16 multi-host train (4 workers on 127.0.0.1)", function () {
        it("all four exit 0, process 0 is on worker 1, and only worker 1 has the checkpoints", async function () {
            clearRuns();
            const results = await trainAll(WORKERS);
            for (const w of WORKERS) {
                const r = results[w];
                assert.equal(r.code, 0, `worker ${w} exited ${r.code}:\n${r.output}`);
                assert.match(r.stdout, new RegExp(`^backend=tpu process=${(w - 1 + 4) % 4}/4$`, "m"));
                assert.match(r.stdout, /^device_count=16 local_device_count=4$/m);
                assert.equal(countLines(r.stdout, /^step=\d+\/6 loss=\d+\.\d{4} elapsed=\d+\.\d+$/), 6);
                assert.match(r.stdout, /^step=6\/6 /m);
                assert.match(r.stdout, new RegExp(`^summary_json=runs/${OFFICE_TRAIN_NAME}/run_summary\\.json$`, "m"));
                const best = path.join(trainDir(homes[w]), "sft_state_best.msgpack");
                const last = path.join(trainDir(homes[w]), "sft_state_last.msgpack");
                assert.equal(fs.existsSync(best), w === 1, `worker ${w} best checkpoint`);
                assert.equal(fs.existsSync(last), w === 1, `worker ${w} last checkpoint`);
                assert.equal(
                    readJson<{ process_index: number }>(path.join(trainDir(homes[w]), "run_summary.json"))
                        .process_index,
                    (w + 3) % 4,
                );
                // Only process 0 initialises W&B.
                assert.equal(WANDB_URL_LINE.test(r.stderr), w === 1, `worker ${w} W&B line`);
            }
            const dir = trainDir(homes[1]);
            assert.equal(fs.statSync(path.join(dir, "sft_state_best.msgpack")).size, CHECKPOINT_BYTES);
            assert.equal(fs.statSync(path.join(dir, "sft_state_last.msgpack")).size, CHECKPOINT_BYTES);
            bestHashes.best = sha256(path.join(dir, "sft_state_best.msgpack"));
            bestHashes.last = sha256(path.join(dir, "sft_state_last.msgpack"));
            assert.notEqual(bestHashes.best, bestHashes.last);
            const wandb = WANDB_URL_LINE.exec(results[1].stderr);
            assert.ok(wandb);
            assert.match(wandb[1], /^office-sid-sft-\d{8}_\d{6}-[0-9a-f]{7}$/);
            assert.equal(wandb[3], deriveRunId("standin-entity", "minionerec-sid-sft", wandb[1]));
        });

        it("a rerun with identity from ~/.tpu-standin.env writes byte-identical checkpoints", async function () {
            clearRuns();
            const port = await freePort();
            for (const w of WORKERS) {
                fs.writeFileSync(
                    path.join(homes[w].home, ".tpu-standin.env"),
                    `TPU_WORKER_ID=${w}\nTPU_WORKER_HOSTNAMES=${LOCALHOSTS}\nSTANDIN_COORDINATOR_PORT=${port}\n`,
                );
            }
            try {
                const results = await trainAll(WORKERS, { REQUIRE_MULTIHOST: "1", ...FAST_STEPS }, false);
                results.forEach((r, w) => assert.equal(r.code, 0, `worker ${w}:\n${r.output}`));
                assert.match(results[1].stdout, /^backend=tpu process=0\/4$/m);
                const dir = trainDir(homes[1]);
                assert.equal(sha256(path.join(dir, "sft_state_best.msgpack")), bestHashes.best);
                assert.equal(sha256(path.join(dir, "sft_state_last.msgpack")), bestHashes.last);
            } finally {
                removeAll(".tpu-standin.env");
            }
        });

        it("a crash on worker 2 fails all four: its own exit code there, peer failure on the others", async function () {
            clearRuns();
            writeAll(".standin-faults.env", "FAIL_WORKER=2\nFAIL_CODE=7\nFAIL_AT_STEP=3\n");
            let results: Result[];
            try {
                results = await trainAll(WORKERS, FAST_STEPS);
            } finally {
                removeAll(".standin-faults.env");
            }
            assert.equal(results[2].code, 7, results[2].output);
            assert.match(results[2].stderr, /injected fault: worker 2 exiting with code 7 at step 3/);
            for (const w of [0, 1, 3]) {
                const r = results[w];
                assert.notEqual(r.code, 0, `worker ${w} should fail`);
                assert.match(r.stderr, /^peer failure: worker 2 /m, `worker ${w}:\n${r.output}`);
                assert.match(r.stdout, /^step=2\/6 /m);
                assert.doesNotMatch(r.stdout, /^step=3\/6 /m);
                assert.ok(
                    r.endedAt - results[2].endedAt < PEER_FAILURE_MS,
                    `worker ${w} took ${r.endedAt - results[2].endedAt} ms to notice`,
                );
            }
            assert.ok(!fs.existsSync(path.join(trainDir(homes[1]), "sft_state_last.msgpack")));
        });

        it("a hung worker stalls everyone (like a collective); killing it then fails the others", async function () {
            clearRuns();
            const port = await freePort();
            const procs = WORKERS.map((w) =>
                runSidSft(homes[w], workerEnv(homes[w], w, port, { HANG_WORKER: "3", FAIL_AT_STEP: "2" }), [
                    "--config",
                    cfg(OFFICE_TRAIN_NAME),
                    "--run-mode",
                    "train",
                ]),
            );
            const exited = WORKERS.map(() => false);
            procs.forEach((p, w) => void p.result.then(() => (exited[w] = true)));
            await waitFor(() => procs.every((p) => /^step=1\/6 /m.test(p.output())), 10_000, "step 1 on every worker");
            await new Promise((r) => setTimeout(r, 1200)); // four step lengths
            assert.deepEqual(exited, [false, false, false, false]);
            procs.forEach((p, w) =>
                assert.doesNotMatch(p.output(), /^step=2\/6 /m, `worker ${w} passed the hung step`),
            );

            const killedAt = Date.now();
            procs[3].child.kill("SIGKILL"); // e.g. a preempted host
            const results = await Promise.all(procs.map((p) => p.result));
            assert.equal(results[3].signal, "SIGKILL");
            for (const w of [0, 1, 2]) {
                assert.notEqual(results[w].code, 0);
                assert.match(results[w].stderr, /^peer failure: worker 3 /m, results[w].output);
                assert.ok(
                    results[w].endedAt - killedAt < PEER_FAILURE_MS,
                    `worker ${w} took ${results[w].endedAt - killedAt} ms`,
                );
            }
        });

        it("with worker 3 never started, workers 0-2 fail the rendezvous naming it, within the deadline", async function () {
            const results = await trainAll([0, 1, 2], { STANDIN_RENDEZVOUS_SECONDS: "3" });
            for (const [i, r] of results.entries()) {
                assert.equal(r.code, 1, r.output);
                assert.match(
                    r.stderr,
                    /^rendezvous failed: joined workers \[0, 1, 2\], missing workers \[3\]$/m,
                    `worker ${i}`,
                );
                assert.doesNotMatch(r.stdout, /backend=tpu/);
                assert.ok(r.ms >= 2500 && r.ms < 8000, `worker ${i} failed after ${r.ms} ms`);
            }
        });

        it("with the coordinator host (worker 0) never started, workers 1-3 fail naming worker 0", async function () {
            const results = await trainAll([1, 2, 3], { STANDIN_RENDEZVOUS_SECONDS: "3" });
            for (const r of results) {
                assert.equal(r.code, 1, r.output);
                assert.match(
                    r.stderr,
                    /^rendezvous failed: joined workers \[\], missing workers \[0\] \(coordinator 127\.0\.0\.1:\d+ unreachable/m,
                );
                assert.ok(r.ms >= 2500 && r.ms < 8000, `failed after ${r.ms} ms`);
            }
        });

        it("the SOP's nohup multi-host launcher leaves per-host .log/.exit/.pid files and _latest links", async function () {
            clearRuns();
            const port = await freePort();
            for (const h of homes) {
                // Minimal conda shim: the launcher sources $HOME/miniconda3/etc/profile.d/conda.sh like the real one.
                const profile = path.join(h.home, "miniconda3", "etc", "profile.d");
                fs.mkdirSync(profile, { recursive: true });
                fs.writeFileSync(
                    path.join(profile, "conda.sh"),
                    'conda() { [ "$1" = activate ] && [ "$2" = mllm-jax ]; }\n',
                );
            }
            const launches = await Promise.all(
                WORKERS.map((w) => {
                    const env = workerEnv(homes[w], w, port, FAST_STEPS);
                    delete env.REQUIRE_JAX_PROCESS_COUNT; // the launcher sets it from --require-jax-process-count
                    return start(
                        "bash",
                        [
                            "scripts/tpu_vm_start_sid_sft_from_config_multihost_nohup.sh",
                            "--env-name",
                            "mllm-jax",
                            "--config",
                            cfg(OFFICE_TRAIN_NAME),
                            "--run-mode",
                            "train",
                            "--require-jax-process-count",
                            "4",
                        ],
                        homes[w].repo,
                        env,
                    ).result;
                }),
            );
            const exitFiles: string[] = [];
            for (const [w, r] of launches.entries()) {
                assert.equal(r.code, 0, r.output);
                const field = (name: string): string => {
                    const m = new RegExp(`^${name}=(.+)$`, "m").exec(r.stdout);
                    assert.ok(m, `missing ${name}= in:\n${r.stdout}`);
                    return m[1];
                };
                assert.match(field("PID"), /^\d+$/);
                const prefix = `${homes[w].repo}/logs/nohup_sid_sft_${OFFICE_TRAIN_NAME}_train_${os.hostname().split(".")[0]}_`;
                assert.ok(
                    field("LOG_FILE").startsWith(prefix) && field("LOG_FILE").endsWith(".log"),
                    field("LOG_FILE"),
                );
                assert.equal(
                    field("LATEST_EXIT_FILE"),
                    `${homes[w].repo}/logs/nohup_sid_sft_${OFFICE_TRAIN_NAME}_train_${os.hostname().split(".")[0]}_latest.exit`,
                );
                exitFiles.push(field("EXIT_FILE"));
                assert.ok(!fs.existsSync(field("EXIT_FILE")), "the .exit file must not exist while the run is going");
            }
            await waitFor(
                () => exitFiles.every((f) => fs.existsSync(f) && fs.readFileSync(f, "utf8").endsWith("\n")),
                20_000,
                ".exit files",
            );
            for (const [w, f] of exitFiles.entries()) {
                assert.equal(fs.readFileSync(f, "utf8"), "0\n", `worker ${w} exit file`);
                const latestLog = f.replace(/_\d{8}_\d{6}\.exit$/, "_latest.log");
                const log = fs.readFileSync(latestLog, "utf8");
                assert.match(log, new RegExp(`^backend=tpu process=${(w + 3) % 4}/4$`, "m"));
                assert.equal(fs.readFileSync(f.replace(/_\d{8}_\d{6}\.exit$/, "_latest.exit"), "utf8"), "0\n");
            }
            assert.ok(fs.existsSync(path.join(trainDir(homes[1]), "sft_state_best.msgpack")));
            assert.equal(sha256(path.join(trainDir(homes[1]), "sft_state_best.msgpack")), bestHashes.best);
        });
    });

    describe("v6e-8 single-host eval", function () {
        const evalDir = (name = OFFICE_EVAL_NAME): string => path.join(evalHome.repo, "runs", name);
        const predictionsFile = (name = OFFICE_EVAL_NAME): string => path.join(evalDir(name), "eval_predictions.json");
        const metricsFile = (name = OFFICE_EVAL_NAME): string =>
            path.join(evalDir(name), "eval_predictions.metrics.json");
        // The GCS handoff: copies of worker 1's checkpoints, staged at exactly the path the eval config names.
        const stagedCheckpoints: Record<string, string> = {};
        const stage = (kind: "best" | "last"): void => {
            const dst = path.join(evalHome.repo, "runs", OFFICE_TRAIN_NAME, "sft_state_best.msgpack");
            fs.mkdirSync(path.dirname(dst), { recursive: true });
            fs.copyFileSync(stagedCheckpoints[kind], dst);
        };
        const evalEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
            ...baseEnv(evalHome.home),
            WANDB_API_KEY: "standin-key-0123456789", // as `ssh --env-file /root/.env` provides it
            ...extra,
        });
        const runEval = (name: string, extra: NodeJS.ProcessEnv = {}): Promise<Result> =>
            runSidSft(evalHome, evalEnv(extra), ["--config", cfg(name), "--run-mode", "eval"]).result;

        before(function () {
            // Keep copies of worker 1's checkpoints (the train tests above produced them).
            for (const kind of ["best", "last"]) {
                const src = path.join(trainDir(homes[1]), `sft_state_${kind}.msgpack`);
                assert.ok(fs.existsSync(src), `train checkpoint ${src} is needed by the eval tests`);
                const copy = path.join(tmp, `handoff-${kind}.msgpack`);
                fs.copyFileSync(src, copy);
                stagedCheckpoints[kind] = copy;
            }
        });

        it("writes predictions and metrics that agree (calc.py semantics) and prints the W&B URL", async function () {
            stage("best");
            const r = await runEval(OFFICE_EVAL_NAME);
            assert.equal(r.code, 0, r.output);
            assert.match(r.stdout, /^backend=tpu process=0\/1$/m);
            assert.match(r.stdout, /^device_count=8 local_device_count=8$/m);
            const url = WANDB_URL_LINE.exec(r.stderr);
            assert.ok(url, `no W&B run URL in:\n${r.stderr}`);
            assert.match(url[1], /^office-sid-sft-/);

            const records = readJson<Prediction[]>(predictionsFile());
            const targets = readTargets(path.join(evalHome.repo, OFFICE_DATA, "test", `${OFFICE_BASE}.csv`));
            const catalog = readCatalog(path.join(evalHome.repo, OFFICE_DATA, "info", `${OFFICE_BASE}.txt`));
            assert.equal(records.length, targets.length);
            assert.ok(records.length >= 60 && records.length <= 120);
            records.forEach((rec, i) => {
                assert.deepEqual(Object.keys(rec).sort(), ["output", "predict"]);
                assert.equal(rec.output, `${targets[i]}\n`);
                assert.equal(rec.predict.length, 50);
                assert.equal(new Set(rec.predict).size, 50, `row ${i}: beams are not distinct`);
                rec.predict.forEach((p) => assert.ok(catalog.has(p), `row ${i}: ${p} is not a catalog SID`));
            });
            const expected = calcMetrics(records, catalog);
            const actual = readJson<Metrics>(metricsFile());
            assertMetricsClose(actual, expected, 1e-12);
            assert.deepEqual(actual.topk, [1, 3, 5, 10, 20, 50]);
            assert.equal(actual.invalid_prediction_count, 0);
            // Some hits and some misses, so the metrics actually discriminate checkpoints.
            assert.ok(actual.hr["50"] > 0 && actual.hr["50"] < 1, `hr@50=${actual.hr["50"]}`);
        });

        it("calc.py in the MiniOneRec clone prints the same HR/NDCG (SOP step F)", async function () {
            const r = await start(
                PYTHON,
                [
                    "workdir/MiniOneRec/calc.py",
                    "--path",
                    path.relative(evalHome.repo, predictionsFile()),
                    "--item_path",
                    `${OFFICE_DATA}/info/${OFFICE_BASE}.txt`,
                ],
                evalHome.repo,
                baseEnv(evalHome.home),
            ).result;
            assert.equal(r.code, 0, r.output);
            const array = (label: string): number[] => {
                const m = new RegExp(`^${label}\\t\\[([^\\]]*)\\]`, "m").exec(r.stdout);
                assert.ok(m, `no ${label} array in:\n${r.stdout}`);
                return m[1].trim().split(/\s+/).map(Number);
            };
            const metrics = readJson<Metrics>(metricsFile());
            const lines = r.stdout.trim().split("\n");
            assert.equal(lines[0], "50");
            assert.equal(lines[1], "[1, 3, 5, 10, 20, 50]");
            assert.equal(lines[lines.length - 1], "0");
            const close = (a: number[], b: number[]): boolean =>
                a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-8);
            assert.ok(
                close(
                    array("HR"),
                    metrics.topk.map((k) => metrics.hr[String(k)]),
                ),
                r.stdout,
            );
            assert.ok(
                close(
                    array("NDCG:"),
                    metrics.topk.map((k) => metrics.ndcg[String(k)]),
                ),
                r.stdout,
            );
        });

        it("is deterministic per checkpoint and changes with the checkpoint", async function () {
            const first = fs.readFileSync(predictionsFile());
            const firstMetrics = fs.readFileSync(metricsFile());
            assert.equal((await runEval(OFFICE_EVAL_NAME)).code, 0);
            assert.ok(fs.readFileSync(predictionsFile()).equals(first), "same checkpoint, different predictions");
            assert.ok(fs.readFileSync(metricsFile()).equals(firstMetrics), "same checkpoint, different metrics");
            stage("last"); // a different checkpoint at the same path
            try {
                const r = await runEval(OFFICE_EVAL_NAME);
                assert.equal(r.code, 0, r.output);
                assert.ok(!fs.readFileSync(predictionsFile()).equals(first), "different checkpoint, same predictions");
                assert.notDeepEqual(readJson<Metrics>(metricsFile()), JSON.parse(firstMetrics.toString()));
            } finally {
                stage("best");
            }
        });

        it("BAD_METRICS=1 writes a metrics file that disagrees with the predictions by 0.01 at HR@1", async function () {
            const r = await runEval(OFFICE_EVAL_NAME, { BAD_METRICS: "1" });
            try {
                assert.equal(r.code, 0, r.output);
                const expected = calcMetrics(
                    readJson<Prediction[]>(predictionsFile()),
                    readCatalog(path.join(evalHome.repo, OFFICE_DATA, "info", `${OFFICE_BASE}.txt`)),
                );
                const actual = readJson<Metrics>(metricsFile());
                assert.ok(
                    Math.abs(Math.abs(actual.hr["1"] - expected.hr["1"]) - 0.01) < 1e-12,
                    `${actual.hr["1"]} vs ${expected.hr["1"]}`,
                );
                assert.ok(Math.abs(actual.ndcg["1"] - expected.ndcg["1"]) < 1e-12);
            } finally {
                fs.rmSync(metricsFile()); // nobody may mistake it for a good one
            }
        });

        it("a W&B init failure is printed and ignored (exit 0, no run URL)", async function () {
            const faults = path.join(evalHome.home, ".standin-faults.env");
            fs.writeFileSync(faults, "WANDB_INIT_ERROR=1\n");
            let r: Result;
            try {
                r = await runEval(OFFICE_EVAL_NAME);
            } finally {
                fs.rmSync(faults);
            }
            assert.equal(r.code, 0, r.output);
            assert.match(r.stdout, /^wandb disabled due to init error: CommError: /m);
            assert.doesNotMatch(r.output, /wandb\.ai\/.*\/runs\//);
            assert.ok(fs.existsSync(metricsFile()));

            const noKey = await runSidSft(evalHome, baseEnv(evalHome.home), [
                "--config",
                cfg(OFFICE_EVAL_NAME),
                "--run-mode",
                "eval",
            ]).result;
            assert.equal(noKey.code, 0, noKey.output);
            assert.match(noKey.stdout, /^wandb disabled due to init error: api_key not configured/m);
        });

        it("a repo-level .env shadows $HOME/.env (so the W&B key there is not read)", async function () {
            fs.writeFileSync(path.join(evalHome.home, ".env"), "WANDB_API_KEY=standin-key-0123456789\n");
            fs.writeFileSync(path.join(evalHome.repo, ".env"), "WANDB_ENTITY=repo-entity\n");
            try {
                const shadowed = await runSidSft(evalHome, baseEnv(evalHome.home), [
                    "--config",
                    cfg(OFFICE_EVAL_NAME),
                    "--run-mode",
                    "eval",
                ]).result;
                assert.equal(shadowed.code, 0, shadowed.output);
                assert.match(shadowed.stdout, new RegExp(`^dotenv_loaded=${evalHome.repo}/\\.env$`, "m"));
                assert.match(shadowed.stdout, /^wandb disabled due to init error: api_key not configured/m);
                fs.rmSync(path.join(evalHome.repo, ".env"));
                const fromHome = await runSidSft(evalHome, baseEnv(evalHome.home), [
                    "--config",
                    cfg(OFFICE_EVAL_NAME),
                    "--run-mode",
                    "eval",
                ]).result;
                assert.equal(fromHome.code, 0, fromHome.output);
                assert.match(fromHome.stdout, new RegExp(`^dotenv_loaded=${evalHome.home}/\\.env$`, "m"));
                assert.match(fromHome.stderr, WANDB_URL_LINE);
            } finally {
                fs.rmSync(path.join(evalHome.repo, ".env"), { force: true });
                fs.rmSync(path.join(evalHome.home, ".env"), { force: true });
            }
        });

        it("fails with exit 1 and a clear message when the checkpoint is missing", async function () {
            const r = await runEval(INDUSTRIAL_EVAL_NAME);
            assert.equal(r.code, 1, r.output);
            assert.match(
                r.stderr,
                new RegExp(`resume_from_checkpoint not found: runs/${INDUSTRIAL_TRAIN_NAME}/sft_state_last\\.msgpack`),
            );
            assert.ok(!fs.existsSync(predictionsFile(INDUSTRIAL_EVAL_NAME)));
        });

        it("run_sid_sft.sh defaults to train_eval; the Industrial last checkpoint then feeds eval_from_last", async function () {
            const train = await runSidSft(evalHome, evalEnv({ STANDIN_STEPS: "2", STANDIN_STEP_SECONDS: "0.01" }), [
                "--config",
                cfg(INDUSTRIAL_TRAIN_NAME),
            ]).result;
            assert.equal(train.code, 0, train.output);
            assert.match(train.stdout, /^config=\S+ run_mode=train_eval$/m);
            assert.equal(countLines(train.stdout, /^step=\d\/2 /), 2);
            const trainRun = path.join(evalHome.repo, "runs", INDUSTRIAL_TRAIN_NAME);
            for (const f of [
                "sft_state_best.msgpack",
                "sft_state_last.msgpack",
                "eval_predictions.json",
                "eval_predictions.metrics.json",
            ]) {
                assert.ok(fs.existsSync(path.join(trainRun, f)), f);
            }
            assert.match(train.stderr, /^wandb: 🚀 View run industrial-sid-sft-/m);

            const r = await runEval(INDUSTRIAL_EVAL_NAME);
            assert.equal(r.code, 0, r.output);
            const records = readJson<Prediction[]>(predictionsFile(INDUSTRIAL_EVAL_NAME));
            const catalog = readCatalog(
                path.join(evalHome.repo, OFFICE_DATA, "info", "Industrial_and_Scientific_5_2016-10-2018-11.txt"),
            );
            assertMetricsClose(
                readJson<Metrics>(metricsFile(INDUSTRIAL_EVAL_NAME)),
                calcMetrics(records, catalog),
                1e-12,
            );
        });

        it("--print-config shows the parsed YAML with $VAR expansion and exits 0", async function () {
            const custom = path.join(evalHome.repo, "projects", "minionerec", "sft", "configs", "tmp_expand.yaml");
            fs.writeFileSync(
                custom,
                "output_dir: runs/${RUN_TAG}_x\nwandb:\n  mode: $MODE\n  name:\neval:\n  topk: [1, 3]\n  lr: 3.0e-4\n  raw: 3e-4\n",
            );
            try {
                const r = await runSidSft(evalHome, { ...baseEnv(evalHome.home), RUN_TAG: "t1", MODE: "offline" }, [
                    "--config",
                    "projects/minionerec/sft/configs/tmp_expand.yaml",
                    "--print-config",
                ]).result;
                assert.equal(r.code, 0, r.output);
                const printed = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
                assert.deepEqual(printed, {
                    output_dir: "runs/t1_x",
                    wandb: { mode: "offline", name: null },
                    eval: { topk: [1, 3], lr: 0.0003, raw: "3e-4" },
                });
            } finally {
                fs.rmSync(custom);
            }
        });
    });
});
