/**
 * The `local` target's stand-in for a TPU VM: hosts already running sshd (the rehearsal's network
 * namespaces), listed in config. Nothing is created or deleted; every step still runs over real SSH.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkEndpointCount, WorkerHosts } from "./workerHosts";

export interface StaticHostsArgs {
    /** A label standing in for the VM name. */
    readonly label: string;
    readonly zone: string;
    readonly acceleratorType: string;
    readonly expectedHosts: number;
    /** One entry per worker, in worker order. */
    readonly hosts: readonly { readonly host: string; readonly port: number }[];
}

export class StaticHosts extends pulumi.ComponentResource implements WorkerHosts {
    public readonly name: pulumi.Output<string>;
    public readonly zone: string;
    public readonly addresses: pulumi.Output<string[]>;
    public readonly ports: readonly number[];

    constructor(name: string, args: StaticHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:local:StaticHosts", name, {}, opts);
        this.name = pulumi.output(args.label);
        this.zone = args.zone;
        this.addresses = pulumi.output(
            checkEndpointCount(
                args.label,
                args.acceleratorType,
                args.expectedHosts,
                args.hosts.map((h) => h.host),
            ),
        );
        this.ports = args.hosts.map((h) => h.port);
        this.registerOutputs({ name: this.name, addresses: this.addresses });
    }
}
