/**
 * What the steps need from the machines: one SSH endpoint per worker, in worker order. A TPU VM
 * (components/tpuVm.ts) and the rehearsal's static hosts (components/staticHosts.ts) both provide it.
 */
import * as pulumi from "@pulumi/pulumi";
import { types } from "@pulumi/command";

export interface WorkerHosts {
    /** The VM name (or the static hosts' label), for outputs and messages. */
    readonly name: pulumi.Output<string>;
    readonly zone: string;
    /** Addresses, in worker order; resolves only once the endpoint count matches the slice. */
    readonly addresses: pulumi.Output<string[]>;
    /** SSH port per worker. */
    readonly ports: readonly number[];
}

export interface SshLogin {
    readonly user: string;
    readonly privateKey: pulumi.Output<string>;
    readonly dialErrorLimit: number;
    readonly perDialTimeoutSeconds: number;
}

/** The connection of worker `index`; the whole object is a secret because it carries the private key. */
export function workerConnection(
    hosts: WorkerHosts,
    index: number,
    login: SshLogin,
): pulumi.Output<types.input.remote.ConnectionArgs> {
    return pulumi.secret(
        pulumi.all([hosts.addresses, login.privateKey]).apply(([addresses, privateKey]) => ({
            host: addresses[index],
            port: hosts.ports[index],
            user: login.user,
            privateKey,
            dialErrorLimit: login.dialErrorLimit,
            perDialTimeout: login.perDialTimeoutSeconds,
        })),
    );
}

/** Fails the deployment when the slice does not have the hosts its accelerator type implies. */
export function checkEndpointCount(
    vmName: string,
    acceleratorType: string,
    expected: number,
    addresses: readonly string[],
): string[] {
    if (addresses.length !== expected) {
        throw new Error(
            `TPU VM ${vmName} reports ${addresses.length} network endpoint(s), but ${acceleratorType} has ${expected} host(s). ` +
                `The VM is not the slice this stack expects: check tpu.acceleratorType, or the VM named by tpu.name.`,
        );
    }
    const missing = addresses.findIndex((a) => !a);
    if (missing >= 0) {
        throw new Error(
            `TPU VM ${vmName}: worker ${missing} has no IP address yet; run \`pulumi up\` again once the VM is READY.`,
        );
    }
    return [...addresses];
}
