/**
 * A TPU VM slice: created as gcp.tpu.V2Vm, or an existing VM adopted by name (read, never deleted,
 * because the SOP's VMs were long-lived and shared). Exposes one SSH endpoint per worker.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tpu from "@pulumi/gcp/tpu";
import { withProgramLabels } from "./config/labels";
import { DEAD_SLICE_STATES, sliceNotReadyMessage } from "./sliceState";
import { checkEndpointCount, WorkerHosts } from "./workerHosts";

export interface TpuVmArgs {
    readonly project: string;
    /** VM name in GCP. */
    readonly vmName: string;
    /** Read the existing VM `vmName` instead of creating one. */
    readonly adopt: boolean;
    readonly zone: string;
    /** e.g. v6e-16. */
    readonly acceleratorType: string;
    /** Hosts the accelerator type implies; the VM's endpoint count is checked against it. */
    readonly expectedHosts: number;
    readonly runtimeVersion: string;
    readonly provisioning: "spot" | "on-demand" | "reserved";
    readonly network: string;
    readonly subnetwork?: string;
    /** Give each worker an external IP (needed to SSH from outside the VPC, and for HF/W&B egress without NAT). */
    readonly enableExternalIps: boolean;
    /** The account the VMs run as (the stack's own, see SliceServiceAccount); the default compute account when unset. */
    readonly serviceAccount: { readonly email?: pulumi.Input<string>; readonly scopes: readonly string[] };
    /** Network tags, e.g. the one the SSH firewall rule targets. */
    readonly networkTags: readonly string[];
    /**
     * Log in through OS Login instead of the `ssh-keys` metadata. Per-instance `enable-oslogin` overrides the
     * project's setting either way; only an organization policy (constraints/compute.requireOsLogin) wins over it.
     */
    readonly osLogin: boolean;
    readonly labels: Readonly<Record<string, string>>;
    /** The SSH login user and public key put into the VM's `ssh-keys` metadata (unused with OS Login). */
    readonly sshUser: string;
    readonly sshPublicKey: pulumi.Input<string>;
    /** The stack, for the recovery command when the VM is found PREEMPTED or TERMINATED; no check without it. */
    readonly stack?: string;
}

/**
 * The VM's metadata. The guest agent ignores `ssh-keys` when OS Login is on, so without OS Login the VM turns it
 * off for itself; with OS Login the key must be in the user's OS Login profile instead, and `ssh-keys` is left out.
 */
export function loginMetadata(
    osLogin: boolean,
    sshUser: string,
    sshPublicKey: pulumi.Input<string>,
): Record<string, pulumi.Input<string>> {
    if (osLogin) {
        return { "enable-oslogin": "TRUE" };
    }
    return {
        "enable-oslogin": "FALSE",
        "ssh-keys": pulumi.interpolate`${sshUser}:${sshPublicKey} ${sshUser}`,
    };
}

export class TpuVm extends pulumi.ComponentResource implements WorkerHosts {
    public readonly name: pulumi.Output<string>;
    public readonly zone: string;
    public readonly addresses: pulumi.Output<string[]>;
    public readonly ports: readonly number[];
    public readonly state: pulumi.Output<string>;

    constructor(name: string, args: TpuVmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:tpu:TpuVm", name, {}, opts);
        const vm = args.adopt
            ? tpu.V2Vm.get(
                  `${name}-vm`,
                  `projects/${args.project}/locations/${args.zone}/nodes/${args.vmName}`,
                  undefined,
                  { parent: this },
              )
            : new tpu.V2Vm(
                  `${name}-vm`,
                  {
                      name: args.vmName,
                      project: args.project,
                      zone: args.zone,
                      acceleratorType: args.acceleratorType,
                      runtimeVersion: args.runtimeVersion,
                      networkConfig: {
                          network: args.network,
                          subnetwork: args.subnetwork,
                          enableExternalIps: args.enableExternalIps,
                      },
                      serviceAccount: { email: args.serviceAccount.email, scopes: [...args.serviceAccount.scopes] },
                      tags: [...args.networkTags],
                      schedulingConfig: {
                          spot: args.provisioning === "spot",
                          reserved: args.provisioning === "reserved",
                      },
                      labels: withProgramLabels(args.labels),
                      metadata: loginMetadata(args.osLogin, args.sshUser, args.sshPublicKey),
                  },
                  // Capacity for v6e can take a while; the provider's default is 20 minutes. The VM waits for its
                  // identity's grants, the firewall and the APIs (opts.dependsOn), so its first step can use them.
                  { parent: this, dependsOn: opts?.dependsOn, customTimeouts: { create: "60m", delete: "30m" } },
              );
        // What GCP says of the node now, read on every deployment (an adopted VM is already such a read). The managed
        // resource holds what the last update or refresh saw, and a spot preemption in between changes nothing Pulumi
        // would diff: without this read, plain `pulumi up` would dial the dead workers step after step.
        const live = args.adopt
            ? vm
            : tpu.V2Vm.get(`${name}-live`, vm.id, undefined, { parent: this, dependsOn: [vm] });
        this.name = vm.name;
        this.zone = args.zone;
        this.state = live.state;
        this.addresses = pulumi.all([live.networkEndpoints, live.state, vm.urn]).apply(([endpoints, state, urn]) => {
            // A preempted or terminated slice fails here, before any step dials its dead workers.
            if (args.stack !== undefined && DEAD_SLICE_STATES.includes(state)) {
                throw new Error(sliceNotReadyMessage(args.vmName, state, args.stack, urn));
            }
            return checkEndpointCount(
                args.vmName,
                args.acceleratorType,
                args.expectedHosts,
                (endpoints ?? []).map(
                    (e) => (args.enableExternalIps ? e.accessConfigs?.[0]?.externalIp : undefined) ?? e.ipAddress,
                ),
            );
        });
        this.ports = Array.from({ length: args.expectedHosts }, () => 22);
        this.registerOutputs({ name: this.name, addresses: this.addresses, state: this.state });
    }
}
