// `npm run bench`: evaluates the train stack under mocks in fresh processes (the harness in test/bench, run as a
// child process, never imported) and prints medians of
// wall time and peak memory, for sub-module imports of @pulumi/gcp (what the program does) against the
// whole package, with and without type-checking, beside the bare start-up cost of the same command.
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Sample {
    ms: number;
    maxRssKb: number;
}

function runOnce(register: string, entry: string, env: Record<string, string>): Sample {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, ["-r", register, entry], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        encoding: "utf8",
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (child.status !== 0) {
        throw new Error(`${entry} failed (${child.status}): ${child.stderr.slice(-2000)}`);
    }
    const line = child.stdout.trim().split("\n").pop() ?? "{}";
    const reported = JSON.parse(line) as Partial<Sample>;
    return { ms: wallMs, maxRssKb: reported.maxRssKb ?? 0 };
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(label: string, register: string, entry: string, env: Record<string, string> = {}) {
    const samples = Array.from({ length: RUNS }, () => runOnce(register, entry, env));
    const result = {
        label,
        ms: median(samples.map((s) => s.ms)),
        rssMb: median(samples.map((s) => s.maxRssKb)) / 1024,
    };
    console.log(
        `${label.padEnd(58)} ${result.ms.toFixed(0).padStart(7)} ms  ${result.rssMb.toFixed(0).padStart(5)} MiB peak`,
    );
    return result;
}

const transpile = "ts-node/register/transpile-only";
const typecheck = "ts-node/register";
const evalEntry = "test/bench/evalTrainStack.ts";
console.log(`median of ${RUNS} fresh processes each (node ${process.version})`);
const bare = measure("command overhead: node + ts-node, empty program", transpile, "test/bench/empty.ts");
const sub = measure("train stack, gcp sub-modules, transpile-only (pulumi up)", transpile, evalEntry);
const whole = measure("train stack, gcp whole package, transpile-only", transpile, evalEntry, { BENCH_GCP: "whole" });
const subChecked = measure("train stack, gcp sub-modules, type-checked", typecheck, evalEntry);
const wholeChecked = measure(
    "train stack, gcp whole package, type-checked",
    typecheck,
    "test/bench/wholeGcpTypecheck.ts",
);
const ratio = (a: { ms: number; rssMb: number }, b: { ms: number; rssMb: number }) =>
    `${(a.ms / b.ms).toFixed(2)}x time, ${(a.rssMb / b.rssMb).toFixed(2)}x memory`;
console.log(`whole/sub-modules, transpile-only: ${ratio(whole, sub)}`);
console.log(`whole type-checked / what pulumi up runs: ${ratio(wholeChecked, sub)}`);
console.log(`sub-modules type-checked / what pulumi up runs: ${ratio(subChecked, sub)}`);
console.log(`program cost above the command's own overhead: ${(sub.ms - bare.ms).toFixed(0)} ms`);
console.log(JSON.stringify({ runs: RUNS, bare, sub, whole, subChecked, wholeChecked }));

// With --rehearsal: the real engine's figures, from one `npm run rehearse` (root; builds the toolchain if needed).
if (process.argv.includes("--rehearsal")) {
    const toolchain = spawnSync("bash", ["test/toolchain/build.sh"], { cwd: ROOT, encoding: "utf8" });
    const warmStarted = process.hrtime.bigint();
    spawnSync("bash", ["test/toolchain/build.sh"], { cwd: ROOT, encoding: "utf8" });
    const warmSeconds = Number(process.hrtime.bigint() - warmStarted) / 1e9;
    if (toolchain.status !== 0) throw new Error(`test/toolchain/build.sh failed: ${toolchain.stderr.slice(-2000)}`);
    const rehearsal = spawnSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", "test/rehearsal/rehearse.ts"],
        {
            cwd: ROOT,
            env: { ...process.env, REHEARSE_QUIET: "1" },
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        },
    );
    const last = rehearsal.stdout.trim().split("\n").pop() ?? "{}";
    const { seconds, steps } = JSON.parse(last) as {
        seconds: {
            total: number;
            phases: Record<string, number>;
            setup?: Record<string, number>;
            workload: number;
            toolchain: number;
            orchestration: number;
        };
        steps: Record<string, Record<string, { count: number; totalSeconds: number; maxSeconds: number }>>;
    };
    console.log(
        `\nrehearsal (real engine, exit ${rehearsal.status}): ${rehearsal.stdout.trim().split("\n").slice(-2, -1)[0]}`,
    );
    console.log(`toolchain build, warm (cached): ${warmSeconds.toFixed(2)} s`);
    const row = (label: string, value: number) =>
        console.log(`  ${label.padEnd(34)} ${value.toFixed(1).padStart(7)} s`);
    for (const [part, value] of Object.entries(seconds.setup ?? {})) row(`setup: ${part}`, value);
    for (const [phase, value] of Object.entries(seconds.phases)) row(phase, value);
    row("total", seconds.total);
    row("stand-in workload", seconds.workload);
    row("toolchain set-up", seconds.toolchain);
    row("orchestration overhead", seconds.orchestration);
    console.log("\nper step (engine event log: create or update to outputs, whole seconds), per phase:");
    for (const [phase, byStep] of Object.entries(steps)) {
        console.log(`  ${phase}`);
        const sorted = Object.entries(byStep).sort((a, b) => b[1].totalSeconds - a[1].totalSeconds);
        for (const [step, t] of sorted) {
            console.log(
                `    ${step.padEnd(22)} ${String(t.count).padStart(3)} ran  ${t.totalSeconds.toFixed(0).padStart(5)} s summed  ${t.maxSeconds.toFixed(0).padStart(4)} s longest`,
            );
        }
    }
    console.log(JSON.stringify({ rehearsal: seconds, steps, toolchainWarmSeconds: warmSeconds }));
}
