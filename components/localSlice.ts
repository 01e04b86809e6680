/**
 * The `local` target's twin of a TPU VM slice (the rehearsal). A real resource: its create starts the slice's
 * hosts (namespaced hosts with sshd, each with a fresh /root and a new host key, like a new VM) and its delete
 * stops them, through the control-plane script that `local.slice.control` names (test/rehearsal/hosts.sh). The
 * create prints the slice (instance id, zone, state, one SSH endpoint per worker); the workers' endpoints come
 * from it. Before any step uses the endpoints, the slice's state is read again: a PREEMPTED slice fails the
 * deployment at once, naming the command that recovers, instead of every step dialing dead hosts.
 */
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import { z } from "zod";
import { shellQuote } from "./shell/quote";
import { DEAD_SLICE_STATES, sliceNotReadyMessage } from "./sliceState";
import { checkEndpointCount, WorkerHosts } from "./workerHosts";

export interface LocalSliceArgs {
    /** A label standing in for the VM name, for messages. */
    readonly label: string;
    /** Which of the twin's slices: `train` or `eval` (the stack's role). */
    readonly slice: "train" | "eval";
    readonly zone: string;
    readonly acceleratorType: string;
    /** Hosts the accelerator type implies; the twin starts exactly this many. */
    readonly expectedHosts: number;
    /** The control-plane script (absolute path). */
    readonly control: string;
    /** The world's state dir the script keeps its hosts and slices in (absolute path). */
    readonly stateDir: string;
    /** The stack, for the recovery command in messages. */
    readonly stack: string;
}

export const sliceInfoSchema = z.object({
    name: z.string(),
    instance: z.string().min(1),
    zone: z.string(),
    state: z.string(),
    hosts: z.array(z.object({ host: z.string(), port: z.number().int(), hostname: z.string() })),
});
export type SliceInfo = z.infer<typeof sliceInfoSchema>;

/** The control-plane command lines (every value through the one quoting helper). */
export function sliceCommands(args: LocalSliceArgs): { create: string; delete: string; state: string[] } {
    const base = ["bash", args.control];
    const q = (words: (string | number)[]) => words.map((w) => shellQuote(String(w))).join(" ");
    return {
        create: q([...base, "slice-up", args.stateDir, args.slice, args.expectedHosts, args.zone]),
        delete: q([...base, "slice-down", args.stateDir, args.slice]),
        state: [args.control, "slice-state", args.stateDir, args.slice],
    };
}

/**
 * A command that prints the slice's state and fails with `message` unless it is READY; `$state` in the message is
 * replaced by the state the control plane reported.
 */
export function sliceStateCheckCommand(state: readonly string[], message: string): string {
    const [head, tail] = message.split("$state");
    const read = ["bash", ...state].map((w) => shellQuote(w)).join(" ");
    const say = tail === undefined ? shellQuote(head) : `${shellQuote(head)}"$state"${shellQuote(tail)}`;
    return `state="$(${read})" || exit 1; echo "slice state: $state"; [ "$state" = READY ] || { echo ${say} >&2; exit 1; }`;
}

/** The slice the create printed: its last line is the JSON. */
export function parseSliceInfo(label: string, stdout: string): SliceInfo {
    const line = stdout.trim().split("\n").pop() ?? "";
    let json: unknown;
    try {
        json = JSON.parse(line);
    } catch {
        throw new Error(
            `slice ${label}: the control plane printed no slice JSON; its last line was ${JSON.stringify(line)}`,
        );
    }
    const parsed = sliceInfoSchema.safeParse(json);
    if (!parsed.success) {
        throw new Error(`slice ${label}: the control plane's slice JSON is malformed: ${parsed.error.message}`);
    }
    return parsed.data;
}

export class LocalSlice extends pulumi.ComponentResource implements WorkerHosts {
    public readonly name: pulumi.Output<string>;
    public readonly zone: string;
    public readonly addresses: pulumi.Output<string[]>;
    public readonly ports: readonly number[];
    /** Changes on every create: a replaced slice is new machines (identify runs again). */
    public readonly instance: pulumi.Output<string>;
    /** The resource whose replacement recreates the slice (`pulumi up --replace <its urn>`). */
    public readonly command: local.Command;

    constructor(name: string, args: LocalSliceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:local:LocalSlice", name, {}, opts);
        const commands = sliceCommands(args);
        this.command = new local.Command(
            `${name}-slice`,
            { create: commands.create, delete: commands.delete, addPreviousOutputInEnv: false },
            // As on GCP, another zone or size is another node, and the old one goes first: a preempted node must be
            // deleted before one of the same name is created.
            { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["create"] },
        );
        // The state as the control plane reports it now (a preemption happens between deployments). While it is
        // READY (or the slice is yet to be created) the check below is unchanged and runs nothing; once the slice is
        // dead its trigger changes, so the check runs before any step and fails at once, naming the recovery. After
        // `pulumi up --replace <slice>` it runs after the new slice and passes.
        const now = execFileSync("bash", commands.state, { encoding: "utf8" }).trim();
        const dead = DEAD_SLICE_STATES.includes(now);
        const check = new local.Command(
            `${name}-state`,
            {
                create: this.command.urn.apply((urn) =>
                    sliceStateCheckCommand(
                        commands.state,
                        sliceNotReadyMessage(args.label, dead ? now : "$state", args.stack, urn),
                    ),
                ),
                triggers: [dead ? "dead" : "alive"],
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [this.command] },
        );
        const info = this.command.stdout.apply((out) => parseSliceInfo(args.label, out));
        this.name = pulumi.output(args.label);
        this.zone = args.zone;
        this.instance = info.apply((i) => i.instance);
        // Every step's connection waits for the check.
        this.addresses = pulumi.all([info, check.stdout]).apply(([slice]) =>
            checkEndpointCount(
                args.label,
                args.acceleratorType,
                args.expectedHosts,
                slice.hosts.map((h) => h.host),
            ),
        );
        this.ports = Array.from({ length: args.expectedHosts }, () => 22);
        this.registerOutputs({ name: this.name, addresses: this.addresses, instance: this.instance });
    }
}
