/**
 * Where the supervisor reads a slice's state: the only part that differs between targets. On gcp, the TPU API
 * through `gcloud compute tpus tpu-vm describe`; on local, the rehearsal's twin of the control plane. Each reader
 * turns what it sees into a SliceState; parsing is pure and tested apart from the commands.
 */
import { execFile } from "child_process";
import { SliceState } from "./decide";

export interface SliceStateReader {
    /** What is read, for the decision log (e.g. "gcloud compute tpus tpu-vm describe mllm-jax-v6e-16-train"). */
    readonly describe: string;
    /** The Pulumi resource type of the slice, to find its URN for `up --replace`. */
    readonly resourceType: string;
    read(): Promise<SliceState>;
}

export interface CommandResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandResult>;

/** Runs a command without a shell; never rejects (a failure to start is code 127). */
export const runCommand: CommandRunner = (file, args) =>
    new Promise((resolve) => {
        execFile(file, [...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
            const code = err ? (typeof err.code === "number" ? err.code : 127) : 0;
            resolve({ code, stdout, stderr: stderr || (err && code === 127 ? err.message : "") });
        });
    });

const KNOWN: readonly SliceState[] = [
    "READY",
    "CREATING",
    "STARTING",
    "REPAIRING",
    "STOPPING",
    "STOPPED",
    "RESTARTING",
    "DELETING",
    "PREEMPTED",
    "TERMINATED",
    "MISSING",
];

function known(word: string): SliceState {
    const upper = word.trim().toUpperCase();
    return (KNOWN as readonly string[]).includes(upper) ? (upper as SliceState) : "UNKNOWN";
}

/** `gcloud compute tpus tpu-vm describe --format=json`: its `state`; NOT_FOUND is MISSING; anything else UNKNOWN. */
export function parseTpuDescribe(result: CommandResult): SliceState {
    if (result.code !== 0) {
        return /NOT_FOUND|was not found|does not exist/i.test(result.stderr) ? "MISSING" : "UNKNOWN";
    }
    try {
        const node = JSON.parse(result.stdout) as { state?: unknown };
        return typeof node.state === "string" ? known(node.state) : "UNKNOWN";
    } catch {
        return "UNKNOWN";
    }
}

export class GcpSliceStateReader implements SliceStateReader {
    readonly describe: string;
    readonly resourceType = "gcp:tpu/v2Vm:V2Vm";
    constructor(
        private readonly project: string,
        private readonly zone: string,
        private readonly name: string,
        private readonly run: CommandRunner = runCommand,
    ) {
        this.describe = `gcloud compute tpus tpu-vm describe ${name} --zone=${zone} --project=${project}`;
    }
    args(): string[] {
        return [
            "compute",
            "tpus",
            "tpu-vm",
            "describe",
            this.name,
            `--zone=${this.zone}`,
            `--project=${this.project}`,
            "--format=json",
        ];
    }
    async read(): Promise<SliceState> {
        return parseTpuDescribe(await this.run("gcloud", this.args()));
    }
}

/** The twin prints the slice's state as one word (READY, PREEMPTED, …; NOT_FOUND, as GCP says, when there is none). */
export function parseTwinState(result: CommandResult): SliceState {
    if (result.code !== 0) return "UNKNOWN";
    const word = result.stdout.split(/\s+/).find((w) => w !== "") ?? "";
    return word.toUpperCase() === "NOT_FOUND" ? "MISSING" : known(word);
}

/**
 * The rehearsal's twin: `bash <control script> slice-state <world state dir> <slice>`; the script, its arguments
 * and the slice's resource type are constructor inputs.
 */
export class LocalSliceStateReader implements SliceStateReader {
    readonly describe: string;
    constructor(
        private readonly hostsScript: string,
        private readonly world: string,
        private readonly slice: string,
        readonly resourceType: string,
        private readonly run: CommandRunner = runCommand,
    ) {
        this.describe = `bash ${hostsScript} slice-state ${world} ${slice}`;
    }
    async read(): Promise<SliceState> {
        return parseTwinState(await this.run("bash", [this.hostsScript, "slice-state", this.world, this.slice]));
    }
}
