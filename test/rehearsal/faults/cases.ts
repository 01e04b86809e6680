// The fault table: each case names a known TPU failure mode, injects it into the rehearsal world, runs what a user
// would run, checks what they would see, and puts the world back. Cases run in order on one timeline, as a
// user's stacks would live through them. Checks match meaning (which worker, which host and port, which hashes),
// not one implementation's wording.
import * as fs from "fs";
import * as path from "path";
import { run } from "../cli";
import { listObjects, putObject, readObjectBytes } from "../emulator";
import { switchIndustrialToBest, writeConfig } from "../stackConfigs";
import { BUCKET, Json, WANDB_CANARY } from "../world";
import {
    Check,
    errorLines,
    FaultCase,
    FaultContext,
    firstLine,
    literal,
    pollFor,
    runDirAtStep2,
    walk,
} from "./context";

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const round1 = (n: number) => Math.round(n * 10) / 10;
/** A worker's bootstrap ran in this update: created, or updated (a new connection runs the create command again). */
const BOOTSTRAP_RAN = /bootstrap-w\d+\s+(?:created|updated)\b/g;
type TrainConfig = { "tpu-sft:train": { runs: { checkpoints: string[] }[] } } & Record<string, unknown>;

/** The hostile repository location: a real clone of the stand-in MLLM-JAX at a path full of shell syntax. */
function hostileRepo(ctx: FaultContext): { dir: string; canary: string } {
    const canary = path.join(ctx.world.work, "INJECTED");
    const dir = path.join(ctx.world.work, `it's $(touch ${canary}) \`touch ${canary}\`; touch ${canary} ☃ "q"`);
    return { dir, canary };
}

const badConfigs: FaultCase = {
    name: "bad configs, before anything exists",
    async expect(ctx) {
        const samples: { what: string; mutate: (c: Record<string, Json>) => void; expect: RegExp }[] = [
            {
                what: "misspelled optional key",
                mutate: (c) => (c["tpu-sft:tpu"] = { ...c["tpu-sft:tpu"], provisoning: "on-demand" }),
                expect: /tpu-sft:tpu\.provisoning[^\n]*is not a known key \(did you mean tpu\.provisioning\?\)/,
            },
            {
                what: "nested key set without --path",
                mutate: (c) => (c["tpu-sft:tpu.zone"] = "us-east1-d"),
                expect: /tpu-sft:tpu\.zone = "us-east1-d": is a nested key set without --path/,
            },
            {
                what: "accelerator type not in its canonical spelling",
                mutate: (c) => (c["tpu-sft:tpu"] = { ...c["tpu-sft:tpu"], acceleratorType: "V6E_16" }),
                expect: /tpu-sft:tpu\.acceleratorType = "V6E_16"[^\n]*v6e-16/,
            },
            {
                what: "poll interval longer than the time limit",
                mutate: (c) => (c["tpu-sft:train"] = { ...c["tpu-sft:train"], timeLimitMinutes: 1, pollSeconds: 120 }),
                expect: /tpu-sft:train\.pollSeconds/,
            },
        ];
        const checks: Check[] = [];
        for (const sample of samples) {
            const file = path.join(ctx.world.work, "bad-config.yaml");
            fs.copyFileSync(ctx.world.files.train, file);
            const config = clone(ctx.world.trainConfig);
            sample.mutate(config);
            writeConfig(file, config);
            const result = await ctx.world.pulumi(
                `pulumi up with a bad config (${sample.what})`,
                ["up", "--yes", "--skip-preview", "--stack", ctx.world.stacks.train, "--config-file", file],
                { allowFailure: true },
            );
            const text = result.stdout + result.stderr;
            const exported = JSON.parse(
                (await ctx.world.pulumi("stack export", ["stack", "export", "--stack", ctx.world.stacks.train])).stdout,
            ) as { deployment?: { resources?: { type: string }[] } };
            // The engine records the stack itself (and a default provider) before the program runs.
            const created = (exported.deployment?.resources ?? []).filter(
                (r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"),
            );
            checks.push({
                name: `bad config: ${sample.what}`,
                expected: "pulumi up fails naming the key, the value and the fix; no resource exists",
                ok: result.code !== 0 && sample.expect.test(text) && /Fix: /.test(text) && created.length === 0,
                observed: `exit ${result.code}; ${firstLine(text, sample.expect, "expected problem not shown")}; resources in state: ${created.length}`,
            });
        }
        return checks;
    },
};

const workerFails: FaultCase = {
    name: "one worker exits non-zero",
    async inject(ctx) {
        const { dir } = hostileRepo(ctx);
        fs.mkdirSync(dir, { recursive: true });
        fs.cpSync(ctx.world.repos.mllmJax.url, path.join(dir, "MLLM-JAX.git"), { recursive: true });
        ctx.writeTrainConfig({
            ...ctx.world.trainConfig,
            "tpu-sft:repos": {
                ...ctx.world.repos,
                mllmJax: { ...ctx.world.repos.mllmJax, url: path.join(dir, "MLLM-JAX.git") },
            },
        });
    },
    async expect(ctx) {
        // The slice's hosts (with a fresh /root) exist only once this up has created them: the fault goes onto
        // worker 2 as soon as the slice is READY, seconds before bootstrap and launch.
        const upping = ctx.up("train");
        const created = await pollFor(120, () => ctx.sliceRecord("train"));
        if (created) fs.writeFileSync(ctx.faultFile(ctx.trainHost(2)), "FAIL_WORKER=2\nFAIL_CODE=3\nFAIL_AT_STEP=2\n");
        const failed = await upping;
        const text = failed.stdout + failed.stderr;
        const msgpacks = (await listObjects(ctx.world.endpoint, BUCKET)).filter((o) => o.name.endsWith(".msgpack"));
        const worker = /t1v-n-rehearsal-train-w-2\b[^\n]*\bexit(ed)? (with )?code 3\b/;
        const { canary } = hostileRepo(ctx);
        const checkout = path.join(ctx.world.hostRoot(ctx.trainHost(0)), "MLLM-JAX", ".git");
        return [
            {
                name: "worker exits non-zero",
                expected: "up fails naming the worker, exit code 3 and a log tail; nothing uploaded",
                ok:
                    failed.code !== 0 &&
                    worker.test(text) &&
                    /last \d+ lines of \S+ on t1v-n-rehearsal-train-w-2/.test(text) &&
                    msgpacks.length === 0,
                observed: `exit ${failed.code}; ${firstLine(text, worker, "no worker message")}; msgpack objects: ${msgpacks.length}`,
            },
            {
                name: "hostile config values stay literal",
                expected: "the hostile repository path is cloned; no injected command runs",
                ok: !fs.existsSync(canary) && fs.existsSync(checkout),
                observed: `canary ${fs.existsSync(canary) ? "CREATED" : "absent"}; checkout ${fs.existsSync(checkout) ? "present" : "missing"}`,
            },
        ];
    },
    async restore(ctx) {
        fs.rmSync(ctx.faultFile(ctx.trainHost(2)), { force: true });
    },
};

const relaunchAfterFix: FaultCase = {
    name: "relaunch after the fix, past a stale lock, a leftover job and a foreign process",
    async inject(ctx) {
        // A leftover of this program's (it carries the run-dir marker every job gets), a process of another TPU user
        // in the same checkout (no marker), and a lock file nobody holds.
        await ctx.world.ssh(
            ctx.trainAddress(0),
            [
                "touch /tmp/libtpu_lockfile",
                "cd /root/MLLM-JAX",
                "(TPU_SFT_RUN_DIR=/root/tpu-sft-runs/old-attempt setsid nohup bash -c 'exec -a run_sid_sft_leftover sleep 600' >/dev/null 2>&1 &)",
                "(setsid nohup bash -c 'exec -a foreign_tpu_user sleep 600' >/dev/null 2>&1 &)",
            ].join("; "),
        );
    },
    async expect(ctx) {
        const fixed = await ctx.up("train");
        const ps = async (pattern: string) =>
            (await ctx.world.ssh(ctx.trainAddress(0), `pgrep -f '${pattern}' || true`)).stdout.trim();
        const leftover = await ps("[r]un_sid_sft_leftover");
        const foreign = await ps("[f]oreign_tpu_user");
        const lock = (
            await ctx.world.ssh(ctx.trainAddress(0), "test -e /tmp/libtpu_lockfile && echo present || echo gone")
        ).stdout.trim();
        const outputs = fixed.code === 0 ? await ctx.trainOutputs() : undefined;
        const codes = JSON.stringify(outputs?.runs?.office?.exitCodes);
        const { canary } = hostileRepo(ctx);
        return [
            {
                name: "relaunch after the fix",
                expected: "the next up relaunches and completes",
                ok: fixed.code === 0 && codes === JSON.stringify(ctx.world.hosts.train.map(() => 0)),
                observed: `exit ${fixed.code}; office exit codes ${codes}`,
            },
            {
                name: "stale TPU lock and leftover job",
                expected: "this program's leftover job is stopped and the unheld lock removed before launch",
                ok: lock === "gone" && leftover === "",
                observed: `lock ${lock}; leftover pids '${leftover}'`,
            },
            {
                name: "a foreign process on a shared VM",
                expected: "a process this program did not start survives the launch",
                ok: foreign !== "",
                observed: `foreign pids '${foreign}'`,
            },
            {
                name: "hostile values after success",
                expected: "still no injected command",
                ok: !fs.existsSync(canary),
                observed: fs.existsSync(canary) ? "CREATED" : "absent",
            },
        ];
    },
    async restore(ctx) {
        await ctx.world.ssh(ctx.trainAddress(0), "pkill -f '[f]oreign_tpu_user' || true");
    },
};

let originalCheckpoint: { name: string; bytes: Buffer } | undefined;
const checkpointCorrupted: FaultCase = {
    name: "checkpoint corrupted in the bucket",
    async inject(ctx) {
        const uri = ctx.memo.trainOutputs?.runs.office.checkpoints.best.uri;
        if (!uri) throw new Error("no office best checkpoint in the train outputs (an earlier case failed)");
        const name = uri.replace(`gs://${BUCKET}/`, "");
        const bytes = await readObjectBytes(ctx.world.endpoint, BUCKET, name);
        originalCheckpoint = { name, bytes };
        await putObject(
            ctx.world.endpoint,
            BUCKET,
            name,
            Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from("!")]),
        );
    },
    async expect(ctx) {
        const corrupted = await ctx.up("eval");
        const text = corrupted.stdout + corrupted.stderr;
        const runs = (
            await ctx.world.ssh(ctx.world.hosts.eval[0].host, "ls /root/tpu-sft-runs 2>/dev/null || true")
        ).stdout.trim();
        const expectedCrc = ctx.memo.trainOutputs?.runs.office.checkpoints.best.crc32c ?? "?";
        // Both hashes: the one the train stack recorded and a different one the bucket now has.
        const hashes: string[] = text.match(/[A-Za-z0-9+/]{6}==/g) ?? [];
        return [
            {
                name: "checkpoint corrupted in the bucket",
                expected: "download fails showing both hashes; eval never starts",
                ok:
                    corrupted.code !== 0 &&
                    hashes.includes(expectedCrc) &&
                    hashes.some((h) => h !== expectedCrc) &&
                    runs === "",
                observed: `exit ${corrupted.code}; ${firstLine(text, new RegExp(literal(expectedCrc)), "recorded crc32c not shown")}; eval run dirs: '${runs}'`,
            },
        ];
    },
    async restore(ctx) {
        if (originalCheckpoint)
            await putObject(ctx.world.endpoint, BUCKET, originalCheckpoint.name, originalCheckpoint.bytes);
    },
};

const wandbInitError: FaultCase = {
    name: "W&B online but its init fails",
    async inject(ctx) {
        fs.writeFileSync(ctx.faultFile("eval-w0"), "WANDB_INIT_ERROR=1\n");
    },
    async expect(ctx) {
        const wandb = await ctx.up("eval");
        const text = wandb.stdout + wandb.stderr;
        return [
            {
                name: "W&B init error",
                expected: "eval fails quoting the runner's wandb init error line",
                ok: wandb.code !== 0 && /wandb disabled due to init error/.test(text),
                observed: `exit ${wandb.code}; ${firstLine(text, /wandb disabled due to init error/, "no W&B message")}`,
            },
        ];
    },
    async restore(ctx) {
        fs.rmSync(ctx.faultFile("eval-w0"), { force: true });
    },
};

const wandbFixed: FaultCase = {
    name: "eval after the W&B fix",
    async expect(ctx) {
        const fixed = await ctx.up("eval");
        const outputs = fixed.code === 0 ? await ctx.evalOutputs() : undefined;
        const url = outputs?.evalRuns?.office?.wandbUrl ?? "";
        return [
            {
                name: "eval re-runs after the W&B fix",
                expected: "the next up relaunches eval and records a W&B URL",
                ok: fixed.code === 0 && /^https:\/\/wandb\.ai\//.test(url),
                observed: `exit ${fixed.code}; office URL ${url}`,
            },
        ];
    },
};

const metricsDisagree: FaultCase = {
    name: "the evaluator's metrics disagree with its predictions",
    async inject(ctx) {
        fs.writeFileSync(ctx.faultFile("eval-w0"), "BAD_METRICS=1\n");
        writeConfig(ctx.world.files.eval, switchIndustrialToBest(ctx.world.evalConfig));
    },
    async expect(ctx) {
        const bad = await ctx.up("eval");
        const text = bad.stdout + bad.stderr;
        const before = JSON.stringify(ctx.memo.evalOutputs?.evalRuns?.industrial);
        const after = JSON.stringify((await ctx.world.outputs("eval")).evalRuns?.industrial);
        return [
            {
                name: "metrics disagree",
                expected: "cross-check fails with the side-by-side table; outputs keep no wrong metrics",
                ok:
                    bad.code !== 0 &&
                    /industrial/.test(firstLine(text, /disagree/, "")) &&
                    /calc\.py +metrics\.json +typescript/.test(text) &&
                    before === after,
                observed: `exit ${bad.code}; ${firstLine(text, /HR@1:? /, "no table")}; industrial outputs unchanged: ${before === after}`,
            },
        ];
    },
    async restore(ctx) {
        fs.rmSync(ctx.faultFile("eval-w0"), { force: true });
    },
};

let restoreStandin: (() => void) | undefined;
const preemption: FaultCase = {
    name: "a worker's job killed without an exit file (a preemption)",
    async inject(ctx) {
        restoreStandin = ctx.tuneStandin("STANDIN_STEP_SECONDS=2\n");
        const config = clone(ctx.memo.trainConfig) as TrainConfig;
        config["tpu-sft:train"].runs[0].checkpoints = ["best", "last"];
        ctx.writeTrainConfig(config);
    },
    async expect(ctx) {
        const since = Date.now() / 1000;
        const upping = ctx.up("train");
        // While steps run, what every host's process list shows (ps sees other sessions' command lines).
        let sampling = true;
        const processLists: string[] = [];
        const sampler = (async () => {
            while (sampling) {
                for (const host of [...ctx.world.hosts.train, ...ctx.world.hosts.eval])
                    processLists.push((await ctx.world.ssh(host.host, "ps -eo args")).stdout);
                await new Promise((r) => setTimeout(r, 300));
            }
        })();
        const runsDir = path.join(ctx.world.hostRoot(ctx.trainHost(3)), "tpu-sft-runs");
        const victim = await pollFor(150, () => runDirAtStep2(runsDir, since));
        let killedAt = 0;
        if (victim) {
            await ctx.world.ssh(
                ctx.trainAddress(3),
                `kill -9 -- -$(cat /root/tpu-sft-runs/${path.basename(victim)}/pid)`,
            );
            killedAt = Date.now();
        }
        const preempted = await upping;
        const reportedAfter = (Date.now() - killedAt) / 1000;
        if (killedAt) ctx.figures.jobKilledToUpFailedSeconds = round1(reportedAfter);
        sampling = false;
        await sampler;
        const text = preempted.stdout + preempted.stderr;
        const sawSteps = processLists.some((list) => /\.tpu-sft\/steps\//.test(list) || /run_sid_sft/.test(list));
        const keyLine = ctx.world.privateKey.split("\n")[1];
        const leaked = processLists.some((list) => list.includes(WANDB_CANARY) || list.includes(keyLine));
        const worker = /t1v-n-rehearsal-train-w-3\b[^\n]*\b(gone|vanished|died|preempted)\b/;
        return [
            {
                name: "secrets not in process lists",
                expected: "while steps run, no host's ps shows the W&B key or the private key",
                ok: sawSteps && !leaked,
                observed: `${processLists.length} ps snapshots, steps seen: ${sawSteps}, secrets seen: ${leaked}`,
            },
            {
                name: "job killed without an exit file (preemption)",
                expected: "reported as died or preempted, naming the worker, within seconds, not at the time limit",
                ok: killedAt > 0 && preempted.code !== 0 && worker.test(text) && reportedAfter < 30,
                observed: `killed ${killedAt ? "yes" : "never"}; up exit ${preempted.code} ${reportedAfter.toFixed(1)} s after the kill; ${firstLine(text, worker, "no worker message")}`,
            },
        ];
    },
    async restore() {
        restoreStandin?.();
    },
};

const relaunchAfterPreemption: FaultCase = {
    name: "relaunch after a preemption",
    async expect(ctx) {
        const resumed = await ctx.up("train");
        const text = resumed.stdout + resumed.stderr;
        return [
            {
                name: "relaunch after a preemption",
                expected: "the next up starts a new attempt and completes",
                ok: resumed.code === 0 && /new attempt/.test(text),
                observed: `exit ${resumed.code}; ${firstLine(text, /new attempt/, "no new attempt")}`,
            },
        ];
    },
};

const hostUnreachable: FaultCase = {
    name: "a worker unreachable at launch",
    async inject(ctx) {
        restoreStandin = ctx.tuneStandin("STANDIN_RENDEZVOUS_SECONDS=8\n");
        await ctx.hostsSh("cut-net", ctx.world.hostsDir, ctx.trainHost(3));
        const config = clone(ctx.memo.trainConfig) as TrainConfig;
        config["tpu-sft:train"].runs[0].checkpoints = ["last"];
        ctx.writeTrainConfig(config);
    },
    async expect(ctx) {
        const started = Date.now();
        const unreachable = await ctx.up("train");
        const seconds = (Date.now() - started) / 1000;
        const text = unreachable.stdout + unreachable.stderr;
        const address = new RegExp(`\\b${literal(ctx.trainAddress(3))}:22\\b`);
        return [
            {
                name: "host unreachable at launch",
                expected: "a bounded wait, then an error naming the host and port",
                ok: unreachable.code !== 0 && address.test(text) && seconds < 180,
                observed: `exit ${unreachable.code} after ${seconds.toFixed(0)} s; ${firstLine(text, address, "host:port not named")}`,
            },
            {
                name: "not every worker joins the rendezvous",
                expected: "the other workers fail naming the missing worker",
                ok: /missing workers \[3\]/.test(text),
                observed: firstLine(text, /rendezvous/, "no rendezvous message"),
            },
        ];
    },
    async restore(ctx) {
        await ctx.hostsSh("restore-net", ctx.world.hostsDir, ctx.trainHost(3));
        restoreStandin?.();
    },
};

let dropped: { dir?: string } = {};
const sshDrop: FaultCase = {
    name: "the SSH sessions to a waiting worker drop",
    async inject(ctx) {
        restoreStandin = ctx.tuneStandin("STANDIN_STEP_SECONDS=2\n");
        const config = clone(ctx.memo.trainConfig) as TrainConfig;
        config["tpu-sft:train"].runs[0].checkpoints = ["best", "last"];
        config["tpu-sft:train"].runs[1].checkpoints = ["last"];
        ctx.writeTrainConfig(config);
    },
    async expect(ctx) {
        const since = Date.now() / 1000;
        const upping = ctx.up("train");
        const runsDir = path.join(ctx.world.hostRoot(ctx.trainHost(1)), "tpu-sft-runs");
        dropped = { dir: await pollFor(150, () => runDirAtStep2(runsDir, since, "industrial-")) };
        // Kill worker 1's SSH sessions (not its listener) from outside, as a dropped connection would end them.
        await run(
            "bash",
            [
                "-c",
                `for p in $(ip netns pids "$0"); do if tr '\\0' ' ' </proc/$p/cmdline | grep -q '^sshd: root@'; then kill -9 $p; fi; done`,
                ctx.world.hosts.train[1].netns,
            ],
            { env: ctx.world.env },
        );
        const result = await upping;
        const text = result.stdout + result.stderr;
        const dir = dropped.dir;
        const pid = dir ? fs.readFileSync(path.join(dir, "pid"), "utf8").trim() : "";
        const job = (
            await ctx.world.ssh(
                ctx.trainAddress(1),
                `kill -0 ${pid || 0} 2>/dev/null && echo alive || (test -f /root/tpu-sft-runs/${dir ? path.basename(dir) : "x"}/exit && echo finished) || echo gone`,
            )
        ).stdout.trim();
        return [
            {
                name: "SSH drops while waiting",
                expected: "the interrupted up fails naming worker 1's wait step; the training keeps running",
                ok:
                    !!dir &&
                    result.code !== 0 &&
                    /industrial-wait-w1/.test(text) &&
                    (job === "alive" || job === "finished"),
                observed: `up exit ${result.code}; error names industrial-wait-w1: ${/industrial-wait-w1/.test(text)}; job after the drop: ${job}`,
            },
        ];
    },
};

const resumeAfterDrop: FaultCase = {
    name: "resume after the SSH drop",
    async expect(ctx) {
        const resumed = await ctx.up("train");
        const text = resumed.stdout + resumed.stderr;
        const attempt = dropped.dir ? fs.readFileSync(path.join(dropped.dir, "attempt"), "utf8").trim() : "?";
        const outputs = resumed.code === 0 ? await ctx.trainOutputs() : undefined;
        const crc = outputs?.runs?.industrial?.checkpoints?.last?.crc32c;
        return [
            {
                name: "resume after the SSH drop",
                expected: "the next up resumes waiting on the same attempt and completes with the checkpoint",
                ok:
                    resumed.code === 0 &&
                    attempt === "1" &&
                    !/industrial-wait-w\d[^\n]*new attempt/.test(text) &&
                    !!crc,
                observed: `exit ${resumed.code}; attempt on worker 1: ${attempt}; industrial last ${crc}`,
            },
        ];
    },
    async restore() {
        restoreStandin?.();
    },
};

const TRAIN_POLL_SECONDS = 5; // test/rehearsal/stackConfigs.ts: how often a wait looks for its peers' markers
/** A peer's wait lists the markers and reads the first one with two gcloud calls (~1 s each on this machine). */
const GCLOUD_SLACK_SECONDS = 3;

let restorePeers: (() => void) | undefined;
const peersHang: FaultCase = {
    name: "one worker exits 1 while its peers hang",
    async inject(ctx) {
        restorePeers = ctx.tuneStandin("STANDIN_STEP_SECONDS=2\n");
        fs.writeFileSync(ctx.faultFile(ctx.trainHost(2)), "FAIL_WORKER=2\nFAIL_CODE=1\nFAIL_AT_STEP=2\n");
        // Worker 0 hosts the coordinator: with this switch it tells nobody, and the others block at the barrier.
        fs.writeFileSync(ctx.faultFile(ctx.trainHost(0)), "PEER_FAILURE=hang\n");
        const config = clone(ctx.memo.trainConfig) as TrainConfig;
        // A run id no earlier case has used, so the run launches.
        config["tpu-sft:train"].runs[0].checkpoints = ["last", "best"];
        ctx.writeTrainConfig(config);
    },
    async expect(ctx) {
        const since = Date.now() / 1000;
        const failed = await ctx.up("train");
        const text = failed.stdout + failed.stderr;
        const dirOf = (w: number) => {
            const runs = path.join(ctx.world.hostRoot(ctx.trainHost(w)), "tpu-sft-runs");
            return fs
                .readdirSync(runs)
                .map((d) => path.join(runs, d))
                .find((d) => d.includes("/office-") && fs.statSync(path.join(d, "started_at")).mtimeMs / 1000 >= since);
        };
        const failedDir = dirOf(2);
        const failedAt = failedDir ? Number(fs.readFileSync(path.join(failedDir, "finished_at"), "utf8")) : NaN;
        const peers = [0, 1, 3].map((w) => {
            const dir = dirOf(w);
            // A peer's job is either stopped by its wait, or fails on its own once a stopped peer is gone.
            const stopped = dir ? path.join(dir, "stopped") : "";
            const ended = stopped && fs.existsSync(stopped) ? fs.statSync(stopped).mtimeMs / 1000 : NaN;
            const finished = dir ? path.join(dir, "finished_at") : "";
            return {
                w,
                how: Number.isNaN(ended) ? "failed" : "stopped",
                endedAfter:
                    (Number.isNaN(ended) && finished && fs.existsSync(finished)
                        ? Number(fs.readFileSync(finished, "utf8"))
                        : ended) - failedAt,
                pid: dir ? fs.readFileSync(path.join(dir, "pid"), "utf8").trim() : "0",
                names: new RegExp(
                    `worker t1v-n-rehearsal-train-w-${w}: [^\\n]*worker 2 \\(t1v-n-rehearsal-train-w-2\\) failed first: the train job exited with code 1`,
                ).test(text),
            };
        });
        const alive: string[] = [];
        for (const p of peers) {
            const r = await ctx.world.ssh(
                ctx.trainAddress(p.w),
                `kill -0 ${p.pid} 2>/dev/null && echo alive || echo gone`,
            );
            if (r.stdout.trim() !== "gone") alive.push(`w${p.w}`);
        }
        const latest = Math.max(...peers.map((p) => p.endedAfter));
        ctx.figures.workerFailedToPeersStoppedSeconds = round1(latest);
        return [
            {
                name: "one worker exits 1 while its peers hang",
                expected: `the attempt ends on every worker within two polls (${2 * TRAIN_POLL_SECONDS} s, plus ${GCLOUD_SLACK_SECONDS} s for gcloud), the peers' jobs are stopped, the error names worker 2 and exit code 1`,
                ok:
                    failed.code !== 0 &&
                    /t1v-n-rehearsal-train-w-2\b[^\n]*exited with code 1\b/.test(text) &&
                    peers.every((p) => p.names) &&
                    peers.some((p) => p.how === "stopped") &&
                    latest <= 2 * TRAIN_POLL_SECONDS + GCLOUD_SLACK_SECONDS &&
                    alive.length === 0,
                observed: `exit ${failed.code} after ${failed.seconds.toFixed(0)} s; after worker 2 failed: ${peers.map((p) => `w${p.w} ${p.how} +${p.endedAfter.toFixed(1)} s${p.names ? " naming worker 2" : ""}`).join(", ")}; peer jobs still alive: ${alive.join(",") || "none"}`,
            },
        ];
    },
    async restore(ctx) {
        fs.rmSync(ctx.faultFile(ctx.trainHost(2)), { force: true });
        fs.rmSync(ctx.faultFile(ctx.trainHost(0)), { force: true });
        restorePeers?.();
    },
};

const preemptedSlice: FaultCase = {
    name: "plain pulumi up on a preempted slice",
    async inject(ctx) {
        await ctx.hostsSh("preempt", ctx.world.hostsDir, "train");
    },
    async expect(ctx) {
        const preempted = await ctx.up("train");
        ctx.figures.plainUpOnPreemptedSliceSeconds = round1(preempted.seconds);
        const text = preempted.stdout + preempted.stderr;
        const recovery = new RegExp(
            `npm run supervise -- --stack \\S+[^\\n]*pulumi up --replace '${literal(ctx.sliceUrn("train"))}'`,
        );
        return [
            {
                name: "plain up on a preempted slice",
                expected: "fails within 60 s saying the slice was preempted and naming the recovery commands",
                ok: preempted.code !== 0 && preempted.seconds < 60 && /was preempted/.test(text) && recovery.test(text),
                observed: `exit ${preempted.code} after ${preempted.seconds.toFixed(1)} s; ${firstLine(text, /was preempted/, "no preemption message")}`,
            },
        ];
    },
};

const replacedSlice: FaultCase = {
    name: "pulumi up --replace <slice> after the preemption",
    async expect(ctx) {
        const before = ctx.sliceRecord("train");
        const replaced = await ctx.upWith("train", ["--replace", ctx.sliceUrn("train")]);
        const text = replaced.stdout + replaced.stderr;
        const after = ctx.sliceRecord("train");
        const outputs = replaced.code === 0 ? await ctx.trainOutputs() : undefined;
        const codes = JSON.stringify(outputs?.runs?.office?.exitCodes);
        const fresh = ctx.world.hosts.train.map((_, i) =>
            fs.existsSync(path.join(ctx.world.hostRoot(ctx.trainHost(i)), "MLLM-JAX", ".git")),
        );
        const bootstrapped = (text.match(BOOTSTRAP_RAN) ?? []).length;
        return [
            {
                name: "replace the preempted slice",
                expected: "a new slice instance, READY; bootstrap runs on every fresh host; the run completes",
                ok:
                    replaced.code === 0 &&
                    before?.state === "PREEMPTED" &&
                    after?.state === "READY" &&
                    after.instance !== before.instance &&
                    fresh.every(Boolean) &&
                    bootstrapped === ctx.world.hosts.train.length &&
                    codes === JSON.stringify(ctx.world.hosts.train.map(() => 0)),
                observed: `exit ${replaced.code} after ${replaced.seconds.toFixed(0)} s; slice ${before?.instance}/${before?.state} → ${after?.instance}/${after?.state}; bootstrap ran on ${bootstrapped} hosts; checkouts ${fresh.join(",")}; office exit codes ${codes}${replaced.code === 0 ? "" : `; ${errorLines(text)}`}`,
            },
        ];
    },
};

const zoneWithoutCapacity: FaultCase = {
    name: "a zone without capacity",
    async inject(ctx) {
        await ctx.hostsSh("zone-capacity", ctx.world.hostsDir, "us-east1-d", "none");
        const config = clone(ctx.memo.trainConfig) as TrainConfig & { "tpu-sft:tpu": Record<string, unknown> };
        config["tpu-sft:tpu"] = { ...config["tpu-sft:tpu"], zone: "us-east1-d" };
        ctx.writeTrainConfig(config);
    },
    async expect(ctx) {
        const stockout = await ctx.up("train");
        const text = stockout.stdout + stockout.stderr;
        const wording =
            /There is no more capacity in the zone "us-east1-d"; you can try in another zone where Cloud TPU Nodes are offered/;
        const state = (await ctx.hostsSh("slice-state", ctx.world.hostsDir, "train")).stdout.trim();
        return [
            {
                name: "zone without capacity",
                expected: "creating the slice fails with GCP's stockout wording, naming the zone",
                ok: stockout.code !== 0 && wording.test(text) && state === "NOT_FOUND",
                observed: `exit ${stockout.code} after ${stockout.seconds.toFixed(0)} s; ${firstLine(text, wording, "no stockout message")}; slice ${state}`,
            },
        ];
    },
    async restore(ctx) {
        await ctx.hostsSh("zone-capacity", ctx.world.hostsDir, "us-east1-d", "ok");
        const config = clone(ctx.memo.trainConfig) as TrainConfig & { "tpu-sft:tpu": Record<string, unknown> };
        config["tpu-sft:tpu"] = { ...config["tpu-sft:tpu"], zone: "us-east5-b" };
        ctx.writeTrainConfig(config);
    },
};

const backInCapacity: FaultCase = {
    name: "the slice is created again in a zone with capacity",
    async expect(ctx) {
        const back = await ctx.up("train");
        const record = ctx.sliceRecord("train");
        const outputs = back.code === 0 ? await ctx.trainOutputs() : undefined;
        const codes = JSON.stringify(outputs?.runs?.office?.exitCodes);
        return [
            {
                name: "slice recreated where there is capacity",
                expected: "the next up creates the slice in us-east5-b and the runs complete",
                ok:
                    back.code === 0 &&
                    record?.zone === "us-east5-b" &&
                    record.state === "READY" &&
                    codes === "[0,0,0,0]",
                observed: `exit ${back.code} after ${back.seconds.toFixed(0)} s; slice in ${record?.zone} ${record?.state}; office exit codes ${codes}`,
            },
        ];
    },
};

/** A train config from the case's starting point with `change` applied (and short supervisor backoffs). */
/** The world's eval config taking its checkpoints from the handoff manifests (no trainStack), with `reclaim`. */
function writeEvalFromManifests(ctx: FaultContext, reclaim: "after-eval" | "keep"): void {
    const config = clone(ctx.world.evalConfig) as Record<string, Json>;
    delete config["tpu-sft:eval"].trainStack;
    config["tpu-sft:tpu"] = { ...config["tpu-sft:tpu"], reclaim };
    writeConfig(ctx.world.files.eval, config);
}

function supervisedTrainConfig(ctx: FaultContext, change: (c: Record<string, Json>) => void): Record<string, Json> {
    const config = clone(ctx.memo.trainConfig) as Record<string, Json>;
    config["tpu-sft:supervisor"] = { maxRecoveries: 3, backoffSeconds: 1, maxBackoffSeconds: 2 };
    change(config);
    return config;
}

/** The supervisor's summary lines (from `supervise <stack>: done|stopped` on). */
function summaryOf(text: string): string {
    const at = text.search(/^supervise \S+: (done|stopped) \(exit/m);
    return at < 0 ? "no summary" : text.slice(at).split("\n").slice(0, 7).join(" | ");
}

/** Seconds since the epoch of the supervisor's first log line matching `pattern`. */
function stampOf(text: string, pattern: RegExp): number | undefined {
    const line = text.split("\n").find((l) => pattern.test(l));
    const stamp = line && /^\[([0-9T:.Z-]+)\]/.exec(line);
    return stamp ? Date.parse(stamp[1]) / 1000 : undefined;
}

const supervisedPreemption: FaultCase = {
    name: "the supervisor: the slice is preempted during the second run",
    async inject(ctx) {
        // The case needs the first run complete in its manifest; the cases before leave it so (run alone, with
        // FAULTS_ONLY, the world is fresh: one plain up makes it so).
        const objects = (await listObjects(ctx.world.endpoint, BUCKET)).map((o) => o.name);
        if (!objects.some((name) => /\/office\/handoff\.json$/.test(name))) await ctx.up("train");
        // Office is complete in its manifest; the second run is new in this world (a name never trained here, so
        // its id has no entry whatever the cases before did): it trains, and is preempted while it does.
        ctx.writeTrainConfig(
            supervisedTrainConfig(ctx, (c) => {
                c["tpu-sft:train"].runs[1] = { ...c["tpu-sft:train"].runs[1], name: "second", checkpoints: ["last"] };
            }),
        );
    },
    async expect(ctx) {
        const since = Date.now() / 1000;
        const supervising = ctx.supervise("train");
        // Slow steps, so the preemption lands mid-run. The slice is created by the supervisor's first update (the
        // stacks were destroyed before): tune its fresh hosts once they exist, before bootstrap ends.
        const created = await pollFor(90, () => (ctx.sliceRecord("train")?.state === "READY" ? true : undefined));
        if (created) ctx.tuneStandin("STANDIN_STEP_SECONDS=1\n");
        const runsDir = path.join(ctx.world.hostRoot(ctx.trainHost(0)), "tpu-sft-runs");
        const victim = await pollFor(150, () => runDirAtStep2(runsDir, since, "second-"));
        const before = ctx.sliceRecord("train");
        let preemptedAt = 0;
        if (victim) {
            // The preemption starts when the call does: the twin reports PREEMPTED first, then stops the hosts.
            preemptedAt = Date.now() / 1000;
            await ctx.hostsSh("preempt", ctx.world.hostsDir, "train");
        }
        const supervised = await supervising;
        const text = supervised.stdout + supervised.stderr;
        const after = ctx.sliceRecord("train");
        const outputs = supervised.code === 0 ? ((await ctx.trainOutputs()) as Json) : undefined;
        const office = outputs?.runs?.office;
        const second = outputs?.runs?.second;
        const decidedAt = stampOf(text, /decision replace-slice/);
        const relaunch = fs.existsSync(runsDir)
            ? fs
                  .readdirSync(runsDir)
                  .filter((d) => d.startsWith("second-") && fs.existsSync(path.join(runsDir, d, "pid")))
                  .map((d) => fs.statSync(path.join(runsDir, d, "pid")).mtimeMs / 1000)
                  .filter((t) => t > preemptedAt)
            : [];
        const relaunchedAt = relaunch.length ? Math.min(...relaunch) : undefined;
        if (preemptedAt && decidedAt) ctx.figures.preemptionDetectionSeconds = round1(decidedAt - preemptedAt);
        if (preemptedAt && relaunchedAt) ctx.figures.preemptionRecoverySeconds = round1(relaunchedAt - preemptedAt);
        // Bootstrap on the fresh hosts: in the updates after the decision to replace the slice.
        const afterReplace = text.slice(Math.max(0, text.search(/decision replace-slice/)));
        const bootstrapped = (afterReplace.match(BOOTSTRAP_RAN) ?? []).length;
        return [
            {
                name: "supervisor recovers a preempted slice",
                expected:
                    "the first run is not retrained, the slice is recreated, bootstrap runs on the fresh hosts, the second run completes, the outputs are complete",
                ok:
                    preemptedAt > 0 &&
                    supervised.code === 0 &&
                    /decision replace-slice: the slice is PREEMPTED/.test(text) &&
                    before?.instance !== undefined &&
                    after?.state === "READY" &&
                    after.instance !== before.instance &&
                    bootstrapped === ctx.world.hosts.train.length &&
                    office?.recalled === true &&
                    second?.recalled === false &&
                    JSON.stringify(second?.exitCodes) === JSON.stringify(ctx.world.hosts.train.map(() => 0)) &&
                    typeof second?.checkpoints?.last?.crc32c === "string" &&
                    /preemptions 1\b/.test(text),
                observed: `preempted ${preemptedAt ? "yes" : "never (no step 2 of the second run seen)"}; supervise exit ${supervised.code} after ${supervised.seconds.toFixed(0)} s; slice ${before?.instance} → ${after?.instance}/${after?.state}; bootstrap ran on ${bootstrapped} fresh hosts; office recalled ${office?.recalled}; second run recalled ${second?.recalled}, exit codes ${JSON.stringify(second?.exitCodes)}; detection ${ctx.figures.preemptionDetectionSeconds} s, relaunch ${ctx.figures.preemptionRecoverySeconds} s after the preemption; ${summaryOf(text)}${supervised.code === 0 ? "" : `; ${errorLines(text)}`}`,
            },
        ];
    },
};

const supervisedZoneFallback: FaultCase = {
    name: "the supervisor: the first zone has no capacity",
    async inject(ctx) {
        await ctx.hostsSh("zone-capacity", ctx.world.hostsDir, "us-east1-d", "none");
        ctx.writeTrainConfig(
            supervisedTrainConfig(ctx, (c) => {
                const tpu = { ...c["tpu-sft:tpu"], zones: ["us-east1-d", "us-east5-b"] };
                delete tpu.zone;
                c["tpu-sft:tpu"] = tpu;
            }),
        );
    },
    async expect(ctx) {
        const supervised = await ctx.supervise("train");
        const text = supervised.stdout + supervised.stderr;
        const record = ctx.sliceRecord("train");
        const active = /tpu-sft:activeZone: (\S+)/.exec(fs.readFileSync(ctx.world.files.train, "utf8"))?.[1];
        const outputs = supervised.code === 0 ? ((await ctx.trainOutputs()) as Json) : undefined;
        const codes = Object.values(outputs?.runs ?? {}).map((r) => JSON.stringify((r as Json).exitCodes));
        return [
            {
                name: "supervisor moves to the next zone",
                expected: "the slice is created in us-east5-b after us-east1-d has no capacity, and the runs complete",
                ok:
                    supervised.code === 0 &&
                    /decision next-zone: no capacity for the slice in us-east1-d: moving to us-east5-b/.test(text) &&
                    record?.zone === "us-east5-b" &&
                    record.state === "READY" &&
                    active === "us-east5-b" &&
                    codes.length === 2 &&
                    codes.every((c) => c === JSON.stringify(ctx.world.hosts.train.map(() => 0))),
                observed: `supervise exit ${supervised.code} after ${supervised.seconds.toFixed(0)} s; ${firstLine(text, /decision next-zone/, "no next-zone decision")}; slice ${record?.zone} ${record?.state}; activeZone ${active}; exit codes ${codes.join(" ")}; ${summaryOf(text)}${supervised.code === 0 ? "" : `; ${errorLines(text)}`}`,
            },
        ];
    },
    async restore(ctx) {
        await ctx.hostsSh("zone-capacity", ctx.world.hostsDir, "us-east1-d", "ok");
    },
};

const supervisorGivesUp: FaultCase = {
    name: "the supervisor gives up after supervisor.maxRecoveries",
    async inject(ctx) {
        for (const zone of ["us-east1-d", "us-east5-b"])
            await ctx.hostsSh("zone-capacity", ctx.world.hostsDir, zone, "none");
        // Back to the first zone, then nowhere to go: one recovery allowed.
        ctx.writeTrainConfig(
            supervisedTrainConfig(ctx, (c) => {
                const tpu = { ...c["tpu-sft:tpu"], zones: ["us-east1-d", "us-east5-b"] };
                delete tpu.zone;
                c["tpu-sft:tpu"] = tpu;
                c["tpu-sft:supervisor"].maxRecoveries = 1;
            }),
        );
    },
    async expect(ctx) {
        const supervised = await ctx.supervise("train");
        const text = supervised.stdout + supervised.stderr;
        return [
            {
                name: "supervisor gives up",
                expected: "after 1 recovery (maxRecoveries 1) it stops with exit 3 and prints its summary",
                ok:
                    supervised.code === 3 &&
                    /supervise \S+: stopped \(exit 3\): gave up after 1 recoveries \(supervisor\.maxRecoveries = 1\)/.test(
                        text,
                    ) &&
                    /zones tried: us-east1-d, us-east5-b/.test(text) &&
                    /attempts 2, recoveries 1/.test(text),
                observed: `supervise exit ${supervised.code} after ${supervised.seconds.toFixed(0)} s; ${summaryOf(text)}`,
            },
        ];
    },
    async restore(ctx) {
        for (const zone of ["us-east1-d", "us-east5-b"])
            await ctx.hostsSh("zone-capacity", ctx.world.hostsDir, zone, "ok");
    },
};

const reclaimAfterHandoff: FaultCase = {
    name: "tpu.reclaim after-handoff, then eval from the manifest, supervised, with tpu.reclaim after-eval",
    async inject(ctx) {
        // A run id never trained here (the second run with best alone), so the stack trains, hands off, then reclaims.
        ctx.writeTrainConfig(
            supervisedTrainConfig(ctx, (c) => {
                const tpu = { ...c["tpu-sft:tpu"], zone: "us-east5-b", reclaim: "after-handoff" };
                delete tpu.zones;
                c["tpu-sft:tpu"] = tpu;
                delete c["tpu-sft:activeZone"];
                c["tpu-sft:train"].runs[1].checkpoints = ["best"];
            }),
        );
        // The eval stack reads the handoff manifests (no StackReference): it must work with the train slice gone.
        // It reclaims its own slice once every eval run is recorded (eval/<run>/result.json).
        writeEvalFromManifests(ctx, "after-eval");
    },
    async expect(ctx) {
        const supervised = await ctx.supervise("train");
        const text = supervised.stdout + supervised.stderr;
        const state = (await ctx.hostsSh("slice-state", ctx.world.hostsDir, "train")).stdout.trim();
        const outputs = supervised.code === 0 ? ((await ctx.trainOutputs()) as Json) : undefined;
        const idle = /idle after work: ([0-9.]+) chip-hours/.exec(text);
        const idleSeconds = /reclaimed ([0-9.]+) s after the work ended/.exec(text);
        if (idle) ctx.figures.idleAfterWorkChipHours = Number(idle[1]);
        if (idleSeconds) ctx.figures.idleAfterWorkSeconds = Number(idleSeconds[1]);
        // The reclaimed stack's cost output, rebuilt from the manifest entries: work and each run's slice share.
        const cost = outputs?.cost;
        if (typeof cost?.sliceChipHours === "number") {
            ctx.figures.trainRecordedSliceChipHours = cost.sliceChipHours;
            ctx.figures.trainRecordedIdleChipHours = cost.idleChipHours;
        }
        const aliveHosts = (await ctx.hostsSh("status", ctx.world.hostsDir)).stdout;
        const evaluated = await ctx.supervise("eval");
        const evalText = evaluated.stdout + evaluated.stderr;
        const evalState = (await ctx.hostsSh("slice-state", ctx.world.hostsDir, "eval")).stdout.trim();
        const evalOutputs = evaluated.code === 0 ? ((await ctx.evalOutputs()) as Json) : undefined;
        const evalRuns = Object.entries(evalOutputs?.evalRuns ?? {}) as [string, Json][];
        const hr = evalRuns.map(([, r]) => r.hr?.["1"]);
        // HR@K and NDCG@K for every K of both runs, as numbers.
        const metrics = evalRuns.map(
            ([run, r]) =>
                `${run} ${(r.k ?? []).length} K: ${(r.k ?? []).every((k: number) => typeof r.hr?.[String(k)] === "number" && typeof r.ndcg?.[String(k)] === "number") ? "HR/NDCG ok" : "missing"}`,
        );
        const evalIdle = /reclaimed ([0-9.]+) s after the work ended/.exec(evalText);
        if (evalIdle) ctx.figures.evalIdleAfterWorkSeconds = Number(evalIdle[1]);
        return [
            {
                name: "reclaim after handoff",
                expected:
                    "the run trains and hands off, the next update deletes the slice (hosts gone), the outputs stay complete with each run's slice share in the cost output, idle chip-hours after the work near 0",
                ok:
                    supervised.code === 0 &&
                    /decision reclaim/.test(text) &&
                    state === "NOT_FOUND" &&
                    outputs?.lifecycle?.slice === "reclaimed" &&
                    outputs?.runs?.second?.recalled === true &&
                    typeof outputs?.runs?.second?.checkpoints?.best?.crc32c === "string" &&
                    typeof outputs?.runs?.office?.checkpoints?.best?.crc32c === "string" &&
                    idle !== null &&
                    Number(idle[1]) < 0.5 &&
                    typeof cost?.sliceChipHours === "number" &&
                    cost.unmeasuredRuns === 0 &&
                    cost.sliceChipHours >= cost.workChipHours &&
                    /recorded by the runs \(cost output\): work /.test(text),
                observed: `supervise exit ${supervised.code} after ${supervised.seconds.toFixed(0)} s; slice ${state}; lifecycle ${JSON.stringify(outputs?.lifecycle?.slice)}; second run best ${outputs?.runs?.second?.checkpoints?.best?.crc32c}; cost work ${cost?.workChipHours}, slice ${cost?.sliceChipHours}, idle ${cost?.idleChipHours}, unmeasured ${cost?.unmeasuredRuns}; ${summaryOf(text)}${supervised.code === 0 ? "" : `; ${errorLines(text)}`}`,
            },
            {
                name: "eval from the manifest after the train slice is gone",
                expected: "the eval stack takes its checkpoints from the handoff manifests and completes",
                ok:
                    state === "NOT_FOUND" &&
                    evaluated.code === 0 &&
                    hr.length === 2 &&
                    hr.every((v) => typeof v === "number"),
                observed: `train slice ${state}; hosts: ${aliveHosts.replace(/\s+/g, " ").slice(0, 200)}; eval supervise exit ${evaluated.code} after ${evaluated.seconds.toFixed(0)} s; HR@1 ${JSON.stringify(hr)}${evaluated.code === 0 ? "" : `; ${errorLines(evalText)}`}`,
            },
            {
                name: "reclaim after eval",
                expected:
                    "the supervised eval records both runs, the next update deletes the eval slice (NOT_FOUND), the outputs still hold HR@K and NDCG@K for both runs",
                ok:
                    evaluated.code === 0 &&
                    /decision reclaim/.test(evalText) &&
                    evalState === "NOT_FOUND" &&
                    evalOutputs?.lifecycle?.slice === "reclaimed" &&
                    evalRuns.length === 2 &&
                    metrics.every((m) => m.endsWith("HR/NDCG ok") && !m.includes(" 0 K")),
                observed: `supervise exit ${evaluated.code}; eval slice ${evalState}; lifecycle ${JSON.stringify(evalOutputs?.lifecycle?.slice)}; ${metrics.join("; ") || "no eval runs"}; ${summaryOf(evalText)}${evaluated.code === 0 ? "" : `; ${errorLines(evalText)}`}`,
            },
        ];
    },
};

const evalRecallOnNewSlice: FaultCase = {
    name: "a new eval slice after every eval run is recorded (tpu.reclaim keep), supervised",
    async inject(ctx) {
        // The case before evaluated both runs from the manifests and reclaimed the eval slice; keeping the slice
        // declares it again, on fresh hosts, with the same eval run ids.
        writeEvalFromManifests(ctx, "keep");
    },
    async expect(ctx) {
        const before = ctx.memo.evalOutputs as Json | undefined;
        const supervised = await ctx.supervise("eval");
        const text = supervised.stdout + supervised.stderr;
        const state = (await ctx.hostsSh("slice-state", ctx.world.hostsDir, "eval")).stdout.trim();
        const outputs = supervised.code === 0 ? ((await ctx.evalOutputs()) as Json) : undefined;
        const runs = Object.keys(outputs?.evalRuns ?? {}).sort();
        // Every eval step of every run says it does not run again; no eval job starts on the fresh host.
        const recalledSteps = runs.map(
            (run) =>
                new Set(
                    [
                        ...text.matchAll(
                            new RegExp(`([a-z-]+): eval run ${run}-[0-9a-f]{12} is complete \\(recorded`, "g"),
                        ),
                    ].map((m) => m[1]),
                ).size,
        );
        const evalRunsDir = path.join(ctx.world.hostRoot("eval-w0"), "tpu-sft-runs");
        const jobsStarted = fs.existsSync(evalRunsDir) ? fs.readdirSync(evalRunsDir).length : 0;
        const same = runs.every(
            (run) => JSON.stringify(outputs?.evalRuns?.[run]?.hr) === JSON.stringify(before?.evalRuns?.[run]?.hr),
        );
        return [
            {
                name: "eval runs recalled on a new slice",
                expected:
                    "the slice is created again and bootstrapped; each run's recall finds its record, its eval steps only say so, no eval job starts, and the outputs are the recorded ones",
                ok:
                    supervised.code === 0 &&
                    state === "READY" &&
                    runs.length === 2 &&
                    recalledSteps.every((n) => n >= 7) &&
                    jobsStarted === 0 &&
                    same,
                observed: `supervise exit ${supervised.code} after ${supervised.seconds.toFixed(0)} s; eval slice ${state}; recalled steps per run ${JSON.stringify(Object.fromEntries(runs.map((r, i) => [r, recalledSteps[i]])))}; eval jobs on the fresh host ${jobsStarted}; HR as recorded ${same}${supervised.code === 0 ? "" : `; ${errorLines(text)}`}`,
            },
        ];
    },
};

const destroyWithHostGone: FaultCase = {
    name: "destroy while a host is gone",
    async inject(ctx) {
        await ctx.hostsSh("cut-net", ctx.world.hostsDir, ctx.trainHost(1));
    },
    async expect(ctx) {
        const before = (await listObjects(ctx.world.endpoint, BUCKET)).map((o) => o.name).sort();
        const destroyEval = await ctx.destroy("eval");
        const destroyTrain = await ctx.destroy("train");
        const after = (await listObjects(ctx.world.endpoint, BUCKET)).map((o) => o.name).sort();
        return [
            {
                name: "destroy with a host gone",
                expected: "completes; no bucket data deleted",
                ok:
                    destroyEval.code === 0 &&
                    destroyTrain.code === 0 &&
                    JSON.stringify(before) === JSON.stringify(after) &&
                    before.length > 0,
                observed: `destroy exits ${destroyEval.code}/${destroyTrain.code}; objects ${before.length} → ${after.length}`,
            },
        ];
    },
    async restore(ctx) {
        await ctx.hostsSh("restore-net", ctx.world.hostsDir, ctx.trainHost(1));
    },
};

const secretsAtRest: FaultCase = {
    name: "secrets at rest",
    async expect(ctx) {
        const keyBody = ctx.world.privateKey.split("\n")[1];
        const leaks: string[] = [];
        const scan = (label: string, content: string) => {
            if (content.includes(WANDB_CANARY)) leaks.push(`${label}: W&B key`);
            if (content.includes(keyBody)) leaks.push(`${label}: SSH private key`);
        };
        ctx.transcripts.forEach((t, i) => scan(`pulumi output #${i}`, t));
        for (const file of walk(path.join(ctx.world.work, "state"))) scan(file, fs.readFileSync(file, "latin1"));
        for (const file of [ctx.world.files.train, ctx.world.files.eval]) scan(file, fs.readFileSync(file, "utf8"));
        const hostFiles = walk(path.join(ctx.world.hostsDir, "hosts")).filter((f) =>
            fs.readFileSync(f, "latin1").includes(WANDB_CANARY),
        );
        const envFiles = hostFiles.filter((f) => f.endsWith("/root/.env") && (fs.statSync(f).mode & 0o777) === 0o600);
        const hosts = ctx.world.hosts.train.length + ctx.world.hosts.eval.length;
        return [
            {
                name: "secrets never in plain text",
                expected:
                    "no W&B key or private key in state, config files or pulumi output; on hosts only in /root/.env (mode 600)",
                ok: leaks.length === 0 && hostFiles.length === envFiles.length && envFiles.length === hosts,
                observed: `leaks: ${leaks.join("; ") || "none"}; host files with the key: ${hostFiles.map((f) => path.relative(ctx.world.hostsDir, f)).join(", ")}`,
            },
        ];
    },
};

export const FAULT_CASES: readonly FaultCase[] = [
    badConfigs,
    workerFails,
    relaunchAfterFix,
    checkpointCorrupted,
    wandbInitError,
    wandbFixed,
    metricsDisagree,
    preemption,
    relaunchAfterPreemption,
    hostUnreachable,
    sshDrop,
    resumeAfterDrop,
    peersHang,
    preemptedSlice,
    replacedSlice,
    zoneWithoutCapacity,
    backInCapacity,
    destroyWithHostGone,
    supervisedPreemption,
    supervisedZoneFallback,
    supervisorGivesUp,
    reclaimAfterHandoff,
    evalRecallOnNewSlice,
    secretsAtRest,
];

export type { Check };
