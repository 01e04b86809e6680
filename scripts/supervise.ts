/**
 * Runs `pulumi up` unattended and recovers from what real TPU work throws at it, on the Automation API:
 *
 *   npm run supervise -- --stack train|eval [--dir <project dir>]
 *   npm run pipeline [-- --dir <project dir>]          (train, then eval)
 *
 * On a failed update it reads the evidence (the update's error text, and the slice's state from the TPU API, or
 * from the rehearsal's twin on target local) and decides (scripts/supervise/decide.ts): replace a preempted,
 * terminated or missing slice (runs already in the handoff manifest are not trained again); move to the next zone
 * of tpu.zones when a zone has no capacity or quota; retry a failed workload up to train/eval.maxAttempts; stop at
 * once on bad config, credentials or permissions. Bounded by supervisor.maxRecoveries with capped exponential
 * backoff. Every decision is printed with a timestamp and its evidence, then a summary.
 *
 * Once every run is done, a stack whose tpu.reclaim deletes its slice gets one more `up` at once (the program then
 * declares no slice; the outputs come from the records in the bucket), so the slice does not stand idle.
 *
 * Exit codes: 0 done; 1 the workload failed (maxAttempts reached); 2 bad config, credentials or permissions (also
 * bad arguments); 3 gave up (maxRecoveries reached, or every zone tried); 4 done, but the slice could not be
 * deleted (it still bills).
 *
 * On target local the twin is read with `bash <local.slice.control> slice-state <local.slice.stateDir> <role>`,
 * the same control-plane script and world the stack's LocalSlice creates the slice with.
 */
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { loadConfig, StackConfig } from "../components/config/loadConfig";
import { readStackFile } from "./preflight/stackFile";
import { EXIT } from "./supervise/decide";
import { formatSummary, supervise, Summary, UpFailure, StackDriver } from "./supervise/loop";
import { GcpSliceStateReader, LocalSliceStateReader, SliceStateReader } from "./supervise/sliceState";

const execFileAsync = promisify(execFile);

/** The twin's slice, as its URN names it (components/localSlice.ts: a local.Command inside a LocalSlice). */
const LOCAL_SLICE_TYPE = "tpu-sft:local:LocalSlice$command:local:Command";

const USAGE =
    "usage: supervise --stack train|eval [--dir <pulumi project dir>] [--config-file <stack file>] | supervise --pipeline [--dir <dir>]";

export interface SuperviseArgs {
    readonly stacks: readonly string[];
    readonly dir: string;
    /** The stack's config file when it is not Pulumi.<stack>.yaml in `dir` (as `pulumi up --config-file`). */
    readonly configFile?: string;
}

export function parseArgs(argv: readonly string[], cwd: string): SuperviseArgs {
    let stack: string | undefined;
    let dir = cwd;
    let configFile: string | undefined;
    let pipeline = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "--pipeline") {
            pipeline = true;
            continue;
        }
        const match = /^--(stack|dir|config-file)(?:=(.*))?$/s.exec(arg);
        if (!match) throw new Error(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
        const value = match[2] ?? argv[++i];
        if (!value) throw new Error(`--${match[1]} needs a value; ${USAGE}`);
        if (match[1] === "stack") stack = value;
        else if (match[1] === "dir") dir = value;
        else configFile = path.resolve(value);
    }
    if (pipeline === (stack !== undefined)) throw new Error(`give --stack or --pipeline (one of them); ${USAGE}`);
    if (pipeline && configFile) throw new Error(`--config-file names one stack's file: use it with --stack; ${USAGE}`);
    return {
        stacks: pipeline ? ["train", "eval"] : [stack as string],
        dir: path.resolve(dir),
        ...(configFile ? { configFile } : {}),
    };
}

/**
 * The engine's parallelism for a slice of `hosts` workers. Every worker's wait step must run at once: a wait is what
 * notices its worker's failure and tells the peers (scripts/remote/wait.sh), and a worker whose wait is queued
 * behind the others (the engine's default is 4 per CPU: 8 on a 2-core runner) would leave its peers hanging in their
 * collectives. Twice the hosts covers the waits plus the copies and checks around them.
 */
export function engineParallelism(hosts: number): number {
    return Math.max(16, 2 * hosts);
}

class AutomationDriver implements StackDriver {
    constructor(
        private readonly stack: Stack,
        private readonly configFile: string | undefined,
        private readonly parallel: number,
    ) {}
    async up(replace: readonly string[]): Promise<Record<string, unknown>> {
        try {
            const result = await this.stack.up({
                onOutput: (out) => process.stdout.write(out),
                replace: replace.length ? [...replace] : undefined,
                color: "never",
                configFile: this.configFile,
                parallel: this.parallel,
            });
            return Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
        } catch (err) {
            throw new UpFailure((err as Error).message);
        }
    }
    async sliceUrn(type: string): Promise<string | undefined> {
        const state = await this.stack.exportStack();
        const resources =
            (state.deployment as { resources?: { type: string; urn: string; external?: boolean }[] }).resources ?? [];
        // A type, or the qualified type a URN carries (parent types joined with `$`) when the type alone is ambiguous;
        // never a read of the node (`V2Vm.get`, external in the state): replacing a read replaces nothing.
        return resources.find((r) => !r.external && (r.type === type || r.urn.split("::")[2] === type))?.urn;
    }
    async setActiveZone(zone: string): Promise<void> {
        if (this.configFile) {
            // The Automation API's setConfig writes Pulumi.<stack>.yaml; the CLI can write another file.
            const workspace = this.stack.workspace;
            await execFileAsync(
                workspace.pulumiCommand.command,
                [
                    "config",
                    "set",
                    "--stack",
                    this.stack.name,
                    "--config-file",
                    this.configFile,
                    "tpu-sft:activeZone",
                    zone,
                ],
                { cwd: workspace.workDir, env: { ...process.env, ...workspace.envVars } },
            );
            return;
        }
        await this.stack.setConfig("tpu-sft:activeZone", { value: zone });
    }
}

function readerFor(config: StackConfig): (zone: string) => SliceStateReader {
    if (config.target === "gcp") {
        return (zone) => new GcpSliceStateReader(config.gcpProject, zone, config.vmName);
    }
    const twin = config.local.slice;
    if (!twin) {
        throw new Error(
            "supervise on target local needs local.slice (the control-plane twin): fixed local.hosts cannot be replaced",
        );
    }
    return () => new LocalSliceStateReader(twin.control, twin.stateDir, config.role, LOCAL_SLICE_TYPE);
}

async function superviseStack(stackName: string, dir: string, configFile?: string): Promise<Summary | number> {
    let config: StackConfig;
    try {
        config = loadConfig(readStackFile(dir, stackName, configFile));
    } catch (err) {
        console.error(`supervise ${stackName}: ${(err as Error).message}`);
        // A stack file that is missing or invalid is fixed by hand, like any bad config.
        return EXIT.badConfig;
    }
    const stack = await LocalWorkspace.selectStack({ stackName, workDir: dir });
    const role = config.role === "train" ? config.train : config.eval;
    const driver = new AutomationDriver(stack, configFile, engineParallelism(config.shape.hosts));
    const summary = await supervise(driver, {
        stack: stackName,
        limits: { ...config.supervisor, maxAttempts: role.maxAttempts },
        zones: config.tpu.zones,
        zone: config.tpu.zone,
        readerFor: readerFor(config),
        chips: config.shape.chips,
        provisioning: config.tpu.provisioning,
        prices: config.tpu.prices,
        log: (line) => console.log(line),
        sleep: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
        now: () => Date.now(),
    });
    console.log(formatSummary(summary, config.tpu.provisioning));
    return summary;
}

async function main(): Promise<void> {
    let args: SuperviseArgs;
    try {
        args = parseArgs(process.argv.slice(2), process.cwd());
    } catch (err) {
        console.error((err as Error).message);
        process.exitCode = EXIT.badConfig;
        return;
    }
    for (const stack of args.stacks) {
        const result = await superviseStack(stack, args.dir, args.configFile);
        const code = typeof result === "number" ? result : result.exitCode;
        if (code !== EXIT.done) {
            process.exitCode = code;
            return;
        }
    }
    process.exitCode = EXIT.done;
}

if (require.main === module) {
    main().catch((err: unknown) => {
        console.error(`supervise: ${(err as Error).stack ?? String(err)}`);
        process.exitCode = EXIT.gaveUp;
    });
}
