// `npm run bench:scale [-- --json <path>] [--types v6e-16,v6e-32,v6e-64] [--parallel <n>] [--verbose]` (root):
// how the train stack's orchestration time grows with the slice. One rehearsal world (test/rehearsal/world.ts:
// hosts, emulator, real engine); the train stack keeps only its first run; for each accelerator type (4, 8 and 16
// hosts on the twin) one `pulumi up --event-log` from an empty stack, then `pulumi destroy`, so every size is
// measured from the same start: a fresh slice, a fresh bootstrap and a run that has never been in the bucket (the
// run id includes the accelerator type). Prints a table of the total, the slice create, the bootstrap, the job's
// own train time and the overhead (total − job) with its growth relative to 4 hosts; `--json <path>` also writes
// the figures as JSON.
// `--parallel <n>` passes `--parallel <n>` to each `pulumi up` (the engine's limit on resource operations at once;
// its default on this machine is printed), to tell the program's own growth from waves queued behind that limit.
// A benchmark, not a test: no thresholds. It exits non-zero, with the engine's error, if an up or destroy fails.
import * as fs from "fs";
import * as os from "os";
import { parseAcceleratorType, RUNTIMES_BY_GENERATION } from "../../components/config/accelerators";
import { writeConfig } from "../rehearsal/stackConfigs";
import { readStepTimings } from "../rehearsal/stepTimings";
import { Json, setUpWorld, World } from "../rehearsal/world";
import { machineBusySeconds, sampleOperatorCpu } from "./operatorCpu";
import { ratios, renderTable, SizeFigures, sizeFigures } from "./scaleFigures";

const DEFAULT_TYPES = ["v6e-16", "v6e-32", "v6e-64"];

const say = (text: string) => process.stderr.write(`[bench:scale] ${new Date().toISOString().slice(11, 19)} ${text}\n`);

interface Options {
    readonly json?: string;
    readonly types: string[];
    /** Passed to `pulumi up --parallel`; the engine's default when absent. */
    readonly parallel?: number;
    readonly verbose: boolean;
}

const USAGE = "usage: bench:scale [--json <path>] [--types a,b] [--parallel <n>] [--verbose]";

function parseArgs(argv: readonly string[]): Options {
    let json: string | undefined;
    let types = DEFAULT_TYPES;
    let verbose = false;
    let parallel: number | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--json" && argv[i + 1] !== undefined) json = argv[++i];
        else if (arg === "--types" && argv[i + 1] !== undefined) types = argv[++i].split(",").filter((t) => t);
        else if (arg === "--parallel" && argv[i + 1] !== undefined) {
            const value = argv[++i];
            if (!/^[1-9][0-9]*$/.test(value))
                throw new Error(`--parallel: ${JSON.stringify(value)} is not a positive integer; ${USAGE}`);
            parallel = Number(value);
        } else if (arg === "--verbose") verbose = true;
        else throw new Error(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
    }
    for (const type of types) {
        if (!parseAcceleratorType(type))
            throw new Error(`--types: ${JSON.stringify(type)} is not a known accelerator type`);
    }
    return { json, types, parallel, verbose };
}

/**
 * The train config for one size: the world's, with only its first run and the slice's type set. Config validation
 * (components/config/sliceRelations.ts) ties only the runtime to the type on the local target (zones are checked on
 * gcp only, and the twin's host count follows the type): every v6e type keeps v6e-ubuntu-2404; another generation
 * gets its first runtime.
 */
function sizedConfig(base: Record<string, Json>, type: string): Record<string, Json> {
    const train = base["tpu-sft:train"];
    const tpu = base["tpu-sft:tpu"];
    const runtimes = RUNTIMES_BY_GENERATION[parseAcceleratorType(type)!.generation];
    return {
        ...base,
        "tpu-sft:tpu": {
            ...tpu,
            acceleratorType: type,
            runtimeVersion: runtimes.includes(tpu.runtimeVersion) ? tpu.runtimeVersion : runtimes[0],
            // Only a label on the twin; it follows the type as the checked-in name does (mllm-jax-v6e-16-sft).
            name: `mllm-jax-${type}-sft`,
        },
        "tpu-sft:train": { ...train, runs: [train.runs[0]] },
    };
}

async function measure(world: World, type: string, runName: string, parallel?: number): Promise<SizeFigures> {
    const hosts = parseAcceleratorType(type)!.hosts;
    writeConfig(world.files.train, sizedConfig(world.trainConfig, type));
    say(`${type}: pulumi up (${hosts} host${hosts === 1 ? "" : "s"}${parallel ? `, --parallel ${parallel}` : ""})`);
    const cpu = sampleOperatorCpu();
    const busyBefore = machineBusySeconds();
    const up = await world.up("train", parallel ? ["--parallel", String(parallel)] : []);
    const machineCpuSeconds = machineBusySeconds() - busyBefore;
    const operatorCpu = cpu.stop();
    const operatorCpuSeconds = operatorCpu.seconds;
    const outputs = await world.outputs("train");
    const run = outputs.runs?.[runName];
    // What was measured must be what was asked for: the slice's size, every worker's job, none recalled.
    if (outputs.tpu?.hosts !== hosts || outputs.tpu?.acceleratorType !== type) {
        throw new Error(`${type}: the stack reports ${JSON.stringify(outputs.tpu)}, not ${hosts} hosts of ${type}`);
    }
    if (
        !run ||
        run.recalled !== false ||
        run.exitCodes?.length !== hosts ||
        run.exitCodes.some((c: number) => c !== 0)
    ) {
        throw new Error(`${type}: run ${runName} did not train on every worker: ${JSON.stringify(run)}`);
    }
    const timings = readStepTimings(world.eventLogs[world.eventLogs.length - 1], [runName]);
    const figures = sizeFigures(type, hosts, up.seconds, run.trainSeconds, timings);
    say(
        `${type}: up ${figures.totalSeconds.toFixed(1)} s (operator CPU ${operatorCpuSeconds.toFixed(1)} s), job ${figures.jobSeconds.toFixed(1)} s, overhead ${figures.overheadSeconds.toFixed(1)} s; destroy`,
    );
    const destroyed = await world.destroy("train");
    return {
        ...figures,
        destroySeconds: destroyed.seconds,
        operatorCpuSeconds,
        operatorCpuByProcess: operatorCpu.byProcess,
        machineCpuSeconds,
        cores: os.cpus().length,
    };
}

/**
 * The engine's default `--parallel` on this machine (how many resource operations run at once; the bench passes
 * none), read from `pulumi up --help`: it decides how many workers' steps run side by side.
 */
async function engineParallel(world: World): Promise<number | undefined> {
    const help = await world.pulumi("up --help", ["up", "--help"], { allowFailure: true });
    const match = /--parallel\b.*\(default (\d+)\)/.exec(help.stdout);
    return match ? Number(match[1]) : undefined;
}

async function main(): Promise<number> {
    const options = parseArgs(process.argv.slice(2));
    const started = Date.now();
    const loadStart = os.loadavg();
    const sizes: SizeFigures[] = [];
    let world: World | undefined;
    let failure: Error | undefined;
    let runName = "";
    let setupSeconds: Record<string, number> | undefined;
    let teardownSeconds: number | undefined;
    let parallel: number | undefined;
    try {
        say("setting up the world (toolchain, hosts bridge, emulator, stacks)");
        world = await setUpWorld("scale", { echo: options.verbose });
        setupSeconds = world.setupSeconds;
        runName = world.trainConfig["tpu-sft:train"].runs[0].name;
        parallel = await engineParallel(world);
        for (const type of options.types) sizes.push(await measure(world, type, runName, options.parallel));
    } catch (err) {
        failure = err as Error;
        say(`FAILED: ${failure.message}`);
        // The stack may hold a slice: delete it through the engine while the world still exists.
        if (world) await world.destroy("train", true);
    } finally {
        if (world) {
            const t0 = Date.now();
            await world.teardown();
            teardownSeconds = (Date.now() - t0) / 1000;
        }
    }
    const benchSeconds = (Date.now() - started) / 1000;
    if (sizes.length > 0) console.log(renderTable(sizes, runName));
    console.log(
        `bench: ${benchSeconds.toFixed(0)} s in all (set-up ${Object.values(setupSeconds ?? {})
            .reduce((a, b) => a + b, 0)
            .toFixed(1)} s, teardown ${teardownSeconds?.toFixed(1) ?? "-"} s); load average ${loadStart
            .map((l) => l.toFixed(1))
            .join(" ")} at the start, ${os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(" ")} at the end, ${os.cpus().length} cores; engine --parallel ${
            options.parallel === undefined
                ? `${parallel ?? "?"} (its default here)`
                : `${options.parallel} on each up (its default here: ${parallel ?? "?"})`
        }`,
    );
    if (options.json) {
        const report = {
            run: runName,
            sizes,
            ratios: ratios(sizes),
            seconds: { bench: benchSeconds, setup: setupSeconds, teardown: teardownSeconds },
            machine: { cores: os.cpus().length, loadAverageStart: loadStart, loadAverageEnd: os.loadavg() },
            engineParallel: parallel,
            upParallel: options.parallel ?? null,
            error: failure?.message,
        };
        fs.writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
        say(`wrote ${options.json}`);
    }
    if (failure) {
        console.error(failure.message);
        return 1;
    }
    return 0;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
