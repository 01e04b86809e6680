/**
 * Makes every worker of a slice ready, in parallel, and knows who they are:
 *   1. identify: the worker's hostname and SSH host key, over a connection that carries no secret;
 *   2. the hostnames are checked against the slice (TPU VM workers are `t1v-n-<id>-w-<index>`), and the host
 *      key is pinned (`connection.hostKey`) on every later connection, so an address recycled to another
 *      machine is refused by SSH before anything, the W&B key included, is sent;
 *   3. the step scripts are copied to the worker: one remote.CopyToRemote for identify's (before its host key is
 *      known) and one for every later step's (with the key pinned), each a directory laid out as the worker's
 *      `~/.tpu-sft/steps/<step>-<digest>/` (StepBundle in steps/stepScript.ts, with how the provider copies it);
 *   4. bootstrap: pinned repos, the Python env, and the W&B key merged into ~/.env from stdin.
 * Safe to re-run; a worker that is already set up answers in seconds.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { BootstrapInputs, bootstrapCommand, BootstrapResult, bootstrapResult } from "./steps/bootstrap";
import {
    checkWorkerIdentity,
    identifyCommand,
    IdentifyResult,
    identifyResult,
    sliceUpSince,
    TPU_WORKER_HOSTNAME_PREFIX,
} from "./steps/identify";
import { parseStepResult } from "./steps/stepResult";
import { StepBundle, stepBundle, StepName } from "./steps/stepScript";

/** Every step a run may use, after bootstrap. */
export const RUN_STEPS: readonly StepName[] = [
    "launch",
    "wait",
    "locate",
    "upload",
    "download",
    "evalreport",
    "calc",
    "artifacts",
];

export interface WorkerBootstrapArgs {
    /** One connection per worker, in worker order (no host key: identify reads it). */
    readonly connections: readonly pulumi.Output<types.input.remote.ConnectionArgs>[];
    readonly inputs: Omit<BootstrapInputs, "wandbKeyOnStdin">;
    /** The W&B API key (secret), merged into ~/.env from stdin; absent when W&B is off. */
    readonly wandbApiKey?: pulumi.Input<string>;
    /** The steps the runs on this slice use, copied to every worker. Default: all of RUN_STEPS. */
    readonly steps?: readonly StepName[];
    /** Worker i must be named `<prefix><id>-w-<i>`, one `<id>` for the slice. Default `t1v-n-` (TPU VMs). */
    readonly hostnamePrefix?: string;
    /** The port sshd listens on inside each host, for identify's ssh-keyscan. Default 22. */
    readonly sshPort?: number;
    /**
     * Anything that changes when the machines are replaced (a VM id or creation time): identify runs again,
     * and with a new host key every copy is made again. Without it, identify re-runs when an address changes.
     */
    readonly machineKey?: pulumi.Input<string>;
}

/** An asset or archive path relative to the program's directory, as Pulumi resolves them. */
function assetPath(file: string): string {
    return path.relative(process.cwd(), file) || file;
}

export class WorkerBootstrap extends pulumi.ComponentResource {
    /** The bootstrap command of each worker; later steps on that worker depend on it. */
    public readonly commands: remote.Command[];
    public readonly results: pulumi.Output<BootstrapResult[]>;
    /** What identify found on each worker (hostname and host key), checked against the slice. */
    public readonly identities: pulumi.Output<IdentifyResult[]>;
    /** When the slice came up (unix seconds): its earliest worker's boot; undefined when a worker did not say. */
    public readonly upSince: pulumi.Output<number | undefined>;
    /** One connection per worker with its identified host key pinned: every later step uses these. */
    public readonly connections: pulumi.Output<types.input.remote.ConnectionArgs>[];

    constructor(name: string, args: WorkerBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:steps:WorkerBootstrap", name, {}, opts);
        const prefix = args.hostnamePrefix ?? TPU_WORKER_HOSTNAME_PREFIX;
        const steps = args.steps ?? RUN_STEPS;

        // Two copies per worker, whatever the number of steps: the engine runs a bounded number of resource
        // operations at once (`pulumi up --parallel`), so on a large slice many small copies queue in waves.
        const identifyBundle = stepBundle(["identify"]);
        const runBundle = stepBundle(["bootstrap", ...steps]);
        const ship = (
            label: string,
            bundle: StepBundle,
            worker: number,
            connection: pulumi.Input<types.input.remote.ConnectionArgs>,
            triggers: pulumi.Input<unknown>[],
        ) =>
            new remote.CopyToRemote(
                `${name}-copy-${label}-w${worker}`,
                {
                    connection,
                    // A directory named `steps` without a trailing slash: copied into remotePath (`.tpu-sft`).
                    source: new pulumi.asset.FileArchive(assetPath(bundle.dir)),
                    remotePath: bundle.remotePath,
                    triggers,
                },
                { parent: this },
            );

        const identifies = args.connections.map((connection, worker) => {
            const copy = ship("identify", identifyBundle, worker, connection, [
                pulumi.unsecret(pulumi.output(connection).apply((c) => `${c.host}:${c.port ?? 22}`)),
                args.machineKey ?? "",
            ]);
            return new remote.Command(
                `${name}-identify-w${worker}`,
                {
                    connection,
                    create: identifyCommand({ sshPort: args.sshPort }),
                    triggers: args.machineKey !== undefined ? [args.machineKey] : undefined,
                    addPreviousOutputInEnv: false,
                },
                { parent: this, dependsOn: [copy] },
            );
        });
        this.identities = pulumi
            .all(
                identifies.map((c, worker) =>
                    c.stdout.apply((out) => parseStepResult(`identify on worker ${worker}`, out, identifyResult)),
                ),
            )
            .apply((results) => {
                checkWorkerIdentity(name, prefix, results);
                return results;
            });
        this.upSince = this.identities.apply(sliceUpSince);

        this.connections = args.connections.map((connection, worker) =>
            pulumi.all([connection, this.identities]).apply(([c, identities]) => ({
                ...c,
                hostKey: identities[worker].hostKey,
            })),
        );

        const create = bootstrapCommand({ ...args.inputs, wandbKeyOnStdin: args.wandbApiKey !== undefined });
        this.commands = this.connections.map((connection, worker) => {
            const hostKey = this.identities.apply((identities) => identities[worker].hostKey);
            const copy = ship("steps", runBundle, worker, connection, [hostKey]);
            return new remote.Command(
                `${name}-w${worker}`,
                {
                    connection,
                    create,
                    stdin: args.wandbApiKey
                        ? pulumi.secret(pulumi.output(args.wandbApiKey).apply((key) => `${key}\n`))
                        : undefined,
                    addPreviousOutputInEnv: false,
                },
                // Every later step on this worker depends on this command, and so on its scripts' copy.
                { parent: this, dependsOn: [copy] },
            );
        });
        this.results = pulumi.all(
            this.commands.map((c, worker) =>
                c.stdout.apply((out) => parseStepResult(`bootstrap on worker ${worker}`, out, bootstrapResult)),
            ),
        );
        this.registerOutputs({ results: this.results, identities: this.identities, upSince: this.upSince });
    }
}
