// What every fault case gets: the world, the runs of `pulumi up` so far (scanned for secrets at the end), and
// small helpers for the hosts and the stand-in workload's fault switches.
import * as fs from "fs";
import * as path from "path";
import { run, Ran } from "../cli";
import { writeConfig } from "../stackConfigs";
import { ROOT, World } from "../world";

/** One line of the suite's output: a check a case makes. */
export interface Check {
    readonly name: string;
    readonly expected: string;
    readonly ok: boolean;
    readonly observed: string;
}

/** A named fault: what it breaks, what it runs, what it expects, and how it puts the world back. */
export interface FaultCase {
    readonly name: string;
    /** Breaks something in the world (a host, a file, the bucket, the config). */
    inject?(ctx: FaultContext): Promise<void>;
    /** Runs what a user would run, and checks what they would see. */
    expect(ctx: FaultContext): Promise<Check[]>;
    /** Puts the world back for the next case, whatever `expect` found; runs even when `expect` threw. */
    restore?(ctx: FaultContext): Promise<void>;
}

/** Values a case leaves for the cases after it (the world is one timeline, as a user's would be). */
export interface Memo {
    trainConfig: Record<string, unknown>;
    trainOutputs?: TrainOutputs;
    evalOutputs?: EvalOutputs;
}

export interface TrainOutputs {
    readonly runs: Record<
        string,
        { exitCodes: number[]; checkpoints: Record<string, { uri: string; crc32c: string }> }
    >;
}
export interface EvalOutputs {
    readonly evalRuns: Record<string, { wandbUrl?: string } & Record<string, unknown>>;
}

export class FaultContext {
    /** stdout and stderr of every `pulumi` run, for the secrets scan. */
    readonly transcripts: string[] = [];
    readonly memo: Memo;
    /** Figures the cases measure (seconds, chip-hours), printed as one JSON line at the end. */
    readonly figures: Record<string, number> = {};

    constructor(readonly world: World) {
        this.memo = { trainConfig: world.trainConfig };
    }

    private keep(r: Ran): Ran {
        this.transcripts.push(r.stdout, r.stderr);
        return r;
    }

    async up(which: "train" | "eval"): Promise<Ran> {
        return this.keep(await this.world.up(which, [], true));
    }

    /** `pulumi up` with extra arguments (e.g. `--replace <urn>`, what the supervisor runs). */
    async upWith(which: "train" | "eval", extra: string[]): Promise<Ran> {
        return this.keep(await this.world.up(which, extra, true));
    }

    /**
     * `npm run supervise -- --stack <stack> --config-file <the world's stack file>`, as a user runs it (the project
     * directory is the repository; the world's stack file stays in the world's temp dir).
     */
    async supervise(which: "train" | "eval"): Promise<Ran> {
        const args = [
            path.join(ROOT, "node_modules", ".bin", "ts-node"),
            "--transpile-only",
            path.join(ROOT, "scripts", "supervise.ts"),
            "--stack",
            this.world.stacks[which],
            "--dir",
            ROOT,
            "--config-file",
            this.world.files[which],
        ];
        const echo = process.env.REHEARSE_QUIET !== "1";
        return this.keep(await run(process.execPath, args, { env: this.world.env, cwd: ROOT, echo }));
    }

    /** The URN of a stack's slice in the control-plane twin (components/localSlice.ts): what `--replace` takes. */
    sliceUrn(which: "train" | "eval"): string {
        const stack = this.world.stacks[which].split("/").pop();
        return `urn:pulumi:${stack}::tpu-sft::tpu-sft:local:LocalSlice$command:local:Command::hosts-slice`;
    }

    /** The twin's record of a slice (hosts.sh slice-up/preempt), or undefined when it does not exist. */
    sliceRecord(which: "train" | "eval"): { instance: string; zone: string; state: string } | undefined {
        const file = path.join(this.world.hostsDir, "slices", `${which}.json`);
        return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
    }

    async destroy(which: "train" | "eval"): Promise<Ran> {
        return this.keep(await this.world.destroy(which, true));
    }

    trainHost(i: number): string {
        return `train-w${i}`;
    }

    /** The address a train worker is reached at, as the stack config names it. */
    trainAddress(i: number): string {
        return this.world.hosts.train[i].host;
    }

    /** The stand-in workload reads fault switches from this file on each host (test/fixtures/standin). */
    faultFile(host: string): string {
        return path.join(this.world.hostRoot(host), ".standin-faults.env");
    }

    standinEnv(i: number): string {
        return path.join(this.world.hostRoot(this.trainHost(i)), ".tpu-standin.env");
    }

    /** Appends settings to every train worker's stand-in environment; returns what restores it. */
    tuneStandin(extra: string): () => void {
        const count = this.world.hosts.train.length;
        const originals = Array.from({ length: count }, (_, i) => fs.readFileSync(this.standinEnv(i), "utf8"));
        originals.forEach((text, i) => fs.writeFileSync(this.standinEnv(i), `${text}${extra}`));
        return () => originals.forEach((text, i) => fs.writeFileSync(this.standinEnv(i), text));
    }

    async hostsSh(...args: string[]): Promise<Ran> {
        return run("bash", [path.join(__dirname, "..", "hosts.sh"), ...args], { env: this.world.env });
    }

    writeTrainConfig(config: Record<string, unknown>): void {
        this.memo.trainConfig = config;
        writeConfig(this.world.files.train, config);
    }

    async trainOutputs(): Promise<TrainOutputs> {
        this.memo.trainOutputs = (await this.world.outputs("train")) as TrainOutputs;
        return this.memo.trainOutputs;
    }

    async evalOutputs(): Promise<EvalOutputs> {
        this.memo.evalOutputs = (await this.world.outputs("eval")) as EvalOutputs;
        return this.memo.evalOutputs;
    }
}

/** The first line of `text` that matches, for an observation; or what was missing. */
export function firstLine(text: string, pattern: RegExp, missing: string): string {
    const line = text.split("\n").find((l) => pattern.test(l));
    return line === undefined ? missing : line.trim();
}

/** The lines of a failed update that say why (errors, and what the control plane printed), for a FAIL's observed. */
export function errorLines(text: string, limit = 12): string {
    const lines = text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /error|hosts\.sh:/i.test(l));
    return lines.length ? `why: ${lines.slice(-limit).join(" | ")}` : "no error lines in the output";
}

/** A RegExp source matching `text` literally. */
export function literal(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Files under a directory, without following links; huge files are skipped. */
export function walk(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isSymbolicLink()) return [];
        if (entry.isDirectory()) return walk(full);
        return entry.isFile() && fs.statSync(full).size < 50_000_000 ? [full] : [];
    });
}

/** Polls until `found` returns a value, every half second, up to `seconds`. */
export async function pollFor<T>(
    seconds: number,
    found: () => Promise<T | undefined> | T | undefined,
): Promise<T | undefined> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
        const value = await found();
        if (value !== undefined) return value;
        await new Promise((r) => setTimeout(r, 500));
    }
    return undefined;
}

/** The run directory on a host whose job started after `since` (seconds) and has logged step 2. */
export function runDirAtStep2(runsDir: string, since: number, namePrefix = ""): string | undefined {
    if (!fs.existsSync(runsDir)) return undefined;
    return fs
        .readdirSync(runsDir)
        .filter((d) => d.startsWith(namePrefix))
        .map((d) => path.join(runsDir, d))
        .find((d) => {
            const pid = path.join(d, "pid");
            const log = path.join(d, "train.log");
            return (
                fs.existsSync(pid) &&
                fs.statSync(pid).mtimeMs / 1000 >= since &&
                fs.existsSync(log) &&
                /step=2\//.test(fs.readFileSync(log, "utf8"))
            );
        });
}
