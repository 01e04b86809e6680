/**
 * Bootstrap on every worker of a slice, in parallel: pinned repos, the Python env and the W&B key.
 * Safe to re-run; a worker that is already set up answers in seconds.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { BootstrapInputs, bootstrapCommand } from "./steps/remoteScripts";
import { BootstrapResult, bootstrapResult, parseStepResult } from "./steps/results";

export interface WorkerBootstrapArgs {
    /** One connection per worker, in worker order. */
    readonly connections: readonly pulumi.Output<types.input.remote.ConnectionArgs>[];
    readonly inputs: Omit<BootstrapInputs, "wandbKeyOnStdin">;
    /** The W&B API key (secret), written to ~/.env from stdin; absent when W&B is off. */
    readonly wandbApiKey?: pulumi.Output<string>;
}

export class WorkerBootstrap extends pulumi.ComponentResource {
    /** The bootstrap command of each worker; later steps on that worker depend on it. */
    public readonly commands: remote.Command[];
    public readonly results: pulumi.Output<BootstrapResult[]>;

    constructor(name: string, args: WorkerBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:steps:WorkerBootstrap", name, {}, opts);
        const create = bootstrapCommand({ ...args.inputs, wandbKeyOnStdin: args.wandbApiKey !== undefined });
        this.commands = args.connections.map(
            (connection, worker) =>
                new remote.Command(
                    `${name}-w${worker}`,
                    {
                        connection,
                        create,
                        stdin: args.wandbApiKey ? args.wandbApiKey.apply((key) => `${key}\n`) : undefined,
                        addPreviousOutputInEnv: false,
                    },
                    { parent: this, customTimeouts: { create: "90m", update: "90m" } },
                ),
        );
        this.results = pulumi.all(
            this.commands.map((c, worker) =>
                c.stdout.apply((out) => parseStepResult(`bootstrap on worker ${worker}`, out, bootstrapResult)),
            ),
        );
        this.registerOutputs({ results: this.results });
    }
}
