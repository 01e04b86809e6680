/**
 * The parts every stack shares: the SSH key, the machines (a TPU VM, or static hosts for the local
 * target), one SSH connection per worker, and the bootstrap of every worker. On GCP also what a fresh
 * project lacks: the APIs, the VMs' own service account with its bucket grants, and the SSH firewall rule.
 * The local target (the rehearsal) skips those: its hosts and emulator need none of them.
 */
import * as pulumi from "@pulumi/pulumi";
import { types } from "@pulumi/command";
import { BucketAccess } from "./bucketAccess";
import { StackConfig } from "./config/loadConfig";
import { BucketReaderOptions } from "./metrics/bucketReader";
import { StackSecrets } from "./config/readStackConfig";
import { BucketGrant } from "./gcp/bucketGrants";
import { REQUIRED_SERVICES, serviceAccountPlan, sliceNetworkTag, sshFirewallName } from "./gcp/readiness";
import { ProjectServices } from "./projectServices";
import { SliceServiceAccount } from "./sliceServiceAccount";
import { SshFirewall } from "./sshFirewall";
import { SshKeyPair } from "./sshKeyPair";
import { LocalSlice } from "./localSlice";
import { StaticHosts } from "./staticHosts";
import { StorageEnv } from "./steps/stepScript";
import { TpuVm } from "./tpuVm";
import { EVAL_RUN_STEPS } from "./evalRun";
import { TRAIN_RUN_STEPS } from "./trainRun";
import { WorkerBootstrap } from "./workerBootstrap";
import { workerConnection, WorkerHosts } from "./workerHosts";

export interface Slice {
    readonly hosts: WorkerHosts;
    readonly sshPublicKey: pulumi.Output<string>;
    readonly connections: pulumi.Output<types.input.remote.ConnectionArgs>[];
    readonly bootstrap: WorkerBootstrap;
    /** What the VMs run as and how SSH reaches them; undefined on the local target. */
    readonly access?: SliceAccessOutputs;
}

export interface SliceAccessOutputs {
    /** The VMs' service account, or undefined when the VMs run as the default compute account (or an adopted VM's own). */
    readonly serviceAccount?: pulumi.Output<string>;
    readonly networkTag: string;
    /** The firewall rule this stack manages, or undefined when `tpu.firewall.create` is false. */
    readonly firewallRule?: pulumi.Output<string>;
    readonly osLogin: boolean;
}

/** What a stack asks of the cloud besides the machines: which bucket grants its VMs need. */
export interface SliceNeeds {
    /** The project's APIs, when the program enables them; everything waits for them. */
    readonly services?: ProjectServices;
    readonly grants: readonly BucketGrant[];
    /** Resources the grants must wait for, e.g. the train stack's bucket. */
    readonly grantsAfter?: readonly pulumi.Resource[];
}

/** The APIs a fresh project lacks, enabled unless `project.enableServices` is false; nothing on the local target. */
export function provisionProjectServices(config: StackConfig): ProjectServices | undefined {
    if (config.target !== "gcp" || !config.project.enableServices) {
        return undefined;
    }
    return new ProjectServices("services", { project: config.gcpProject, services: REQUIRED_SERVICES });
}

export function provisionSlice(config: StackConfig, secrets: StackSecrets, needs: SliceNeeds = { grants: [] }): Slice {
    const key = new SshKeyPair("ssh", { privateKey: secrets.sshPrivateKey, publicKey: config.ssh.publicKey });
    let hosts: WorkerHosts;
    let access: SliceAccessOutputs | undefined;
    let machineKey: pulumi.Output<string> | undefined;
    if (config.target === "local" && config.local?.slice) {
        // The control-plane twin: the slice is created and deleted with the stack, fresh hosts every time.
        const twin = new LocalSlice("hosts", {
            label: config.vmName,
            slice: config.role,
            zone: config.tpu.zone,
            acceleratorType: config.tpu.acceleratorType,
            expectedHosts: config.shape.hosts,
            control: config.local.slice.control,
            stateDir: config.local.slice.stateDir,
            stack: config.stack,
        });
        hosts = twin;
        machineKey = twin.instance;
    } else if (config.target === "local" && config.local?.hosts) {
        hosts = new StaticHosts("hosts", {
            label: config.vmName,
            zone: config.tpu.zone,
            acceleratorType: config.tpu.acceleratorType,
            expectedHosts: config.shape.hosts,
            hosts: config.local.hosts,
        });
    } else {
        const services: pulumi.Resource[] = needs.services ? [needs.services] : [];
        const { identity, firewall, networkTag } = provisionGcpAccess(config, needs, services);
        hosts = new TpuVm(
            "tpu",
            {
                project: config.gcpProject,
                vmName: config.vmName,
                adopt: config.tpu.adopt,
                zone: config.tpu.zone,
                acceleratorType: config.tpu.acceleratorType,
                expectedHosts: config.shape.hosts,
                runtimeVersion: config.tpu.runtimeVersion,
                provisioning: config.tpu.provisioning,
                network: config.tpu.network,
                subnetwork: config.tpu.subnetwork,
                enableExternalIps: config.tpu.enableExternalIps,
                serviceAccount: { email: identity.account?.email, scopes: config.tpu.serviceAccount.scopes },
                networkTags: [networkTag],
                osLogin: config.tpu.osLogin,
                labels: config.tpu.labels,
                sshUser: config.ssh.user,
                sshPublicKey: key.publicKey,
                stack: config.stack,
            },
            {
                dependsOn: [
                    ...services,
                    ...(identity.account ? [identity.account] : []),
                    ...(identity.grants ? [identity.grants] : []),
                    ...(firewall ? [firewall] : []),
                ],
            },
        );
        access = accessOutputs(config, identity, firewall, networkTag);
    }
    const login = {
        user: config.ssh.user,
        privateKey: key.privateKey,
        dialErrorLimit: config.ssh.dialErrorLimit,
        perDialTimeoutSeconds: config.ssh.perDialTimeoutSeconds,
    };
    const connections = Array.from({ length: config.shape.hosts }, (_, worker) =>
        workerConnection(hosts, worker, login),
    );
    const bootstrap = new WorkerBootstrap("bootstrap", {
        connections,
        inputs: {
            mode: config.env.mode,
            condaEnv: config.env.condaEnv,
            python: config.env.python,
            jax: config.env.jax,
            libtpu: config.env.libtpu,
            minicondaUrl: config.env.minicondaUrl,
            jaxReleasesUrl: config.env.jaxReleasesUrl,
            torchIndexUrl: config.env.torchIndexUrl,
            mllmJax: config.repos.mllmJax,
            miniOneRec: config.repos.miniOneRec,
        },
        wandbApiKey: config.wandb.mode === "disabled" ? undefined : secrets.wandbApiKey,
        steps: config.role === "train" ? TRAIN_RUN_STEPS : EVAL_RUN_STEPS,
        machineKey,
    });
    // Every step after bootstrap connects with the host key identify pinned.
    return { hosts, sshPublicKey: key.publicKey, connections: bootstrap.connections, bootstrap, access };
}

/**
 * What a stack whose slice is reclaimed keeps: its SSH key and, on GCP, the VMs' identity, grants and firewall rule
 * (cheap, and ready for the next slice); no machines and no steps.
 */
export function provisionReclaimedSlice(
    config: StackConfig,
    secrets: StackSecrets,
    needs: SliceNeeds = { grants: [] },
): { sshPublicKey: pulumi.Output<string>; access?: SliceAccessOutputs } {
    const key = new SshKeyPair("ssh", { privateKey: secrets.sshPrivateKey, publicKey: config.ssh.publicKey });
    if (config.target === "local") return { sshPublicKey: key.publicKey };
    const { identity, firewall, networkTag } = provisionGcpAccess(
        config,
        needs,
        needs.services ? [needs.services] : [],
    );
    return { sshPublicKey: key.publicKey, access: accessOutputs(config, identity, firewall, networkTag) };
}

/** On GCP: the VMs' identity with its bucket grants, and the SSH firewall rule for the slice's network tag. */
function provisionGcpAccess(config: StackConfig, needs: SliceNeeds, services: pulumi.Resource[]) {
    const identity = provisionIdentity(config, needs, services);
    const networkTag = sliceNetworkTag(config.vmName);
    // An adopted VM keeps its own tags, so a rule for this tag could not reach it.
    const firewall =
        config.tpu.firewall.create && !config.tpu.adopt
            ? new SshFirewall(
                  "ssh-firewall",
                  {
                      project: config.gcpProject,
                      ruleName: sshFirewallName(config.vmName),
                      network: config.tpu.network,
                      targetTag: networkTag,
                      sourceRanges: config.tpu.firewall.sourceRanges,
                  },
                  { dependsOn: services },
              )
            : undefined;
    return { identity, firewall, networkTag };
}

function accessOutputs(
    config: StackConfig,
    identity: { account?: SliceServiceAccount },
    firewall: SshFirewall | undefined,
    networkTag: string,
): SliceAccessOutputs {
    return {
        serviceAccount: identity.account?.email,
        networkTag,
        firewallRule: firewall?.ruleName,
        osLogin: config.tpu.osLogin,
    };
}

/** The VMs' service account (created, or given by email) and its bucket grants. */
function provisionIdentity(
    config: StackConfig,
    needs: SliceNeeds,
    services: pulumi.Resource[],
): { account?: SliceServiceAccount; grants?: BucketAccess } {
    const plan = serviceAccountPlan(config.stack, config.tpu.serviceAccount, config.tpu.adopt);
    if (plan.kind === "none") {
        return {};
    }
    const account = new SliceServiceAccount(
        "identity",
        plan.kind === "create"
            ? {
                  project: config.gcpProject,
                  create: true,
                  accountId: plan.accountId,
                  displayName: `tpu-sft ${config.role} VMs (stack ${config.stack})`,
              }
            : {
                  project: config.gcpProject,
                  create: false,
                  email: plan.email,
                  displayName: `tpu-sft ${config.role} VMs (stack ${config.stack})`,
              },
        { dependsOn: services },
    );
    if (needs.grants.length === 0) {
        return { account };
    }
    const grants = new BucketAccess(
        "bucket-access",
        { member: account.member, grants: needs.grants },
        { dependsOn: [...services, ...(needs.grantsAfter ?? [])] },
    );
    return { account, grants };
}

/** What defines the machines a run uses; part of every run id, so a new slice or pin re-runs the runs. */
export function sliceIdentity(config: StackConfig): Record<string, unknown> {
    return {
        // Not the zone: a run moved to another zone (a stockout) is the same run, and one already handed off in the
        // bucket must not train again there.
        slice: { acceleratorType: config.tpu.acceleratorType, vm: config.vmName },
        repos: config.repos,
        env: config.env,
    };
}

/** The stack outputs every stack has: the TPU, the SSH public key, and the commits bootstrap checked out. */
export function sliceOutputs(config: StackConfig, slice: Slice) {
    return {
        tpu: tpuOutput(config, slice.hosts.name),
        sshPublicKey: slice.sshPublicKey,
        access: slice.access,
        commits: slice.bootstrap.results.apply((results) => ({
            mllmJax: results[0].mllmJaxCommit,
            miniOneRec: results[0].miniOneRecCommit,
        })),
    };
}

/**
 * Settings that point `gcloud storage` on the hosts at the bucket's endpoint: nothing on GCP, the
 * emulator's address on the local target. The same scripts run either way.
 */
export function storageEnvFor(config: StackConfig): StorageEnv {
    if (config.target !== "local" || !config.local) {
        return {};
    }
    return {
        CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: config.local.storageEndpoint.replace(/\/?$/, "/"),
        CLOUDSDK_AUTH_DISABLE_CREDENTIALS: "True",
        CLOUDSDK_CORE_PROJECT: config.gcpProject,
        CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_ENABLED: "False",
        CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_THRESHOLD: "0",
    };
}

/** How this program reads the bucket at program time: the real API on GCP, the emulator on the local target. */
export function bucketReaderFor(config: StackConfig): BucketReaderOptions {
    return {
        apiEndpoint: config.target === "local" ? config.local.storageEndpoint : undefined,
        projectId: config.gcpProject,
    };
}

/**
 * The same outputs for a stack whose slice is reclaimed: what stayed (provisionReclaimedSlice), and the commits its
 * records name (every record of one stack has the same pins: they are part of its run ids).
 */
export function reclaimedSliceOutputs(
    config: StackConfig,
    kept: ReturnType<typeof provisionReclaimedSlice>,
    commits: { readonly mllmJax: string; readonly miniOneRec: string },
) {
    return {
        tpu: tpuOutput(config, config.vmName),
        sshPublicKey: kept.sshPublicKey,
        access: kept.access,
        commits: { mllmJax: commits.mllmJax, miniOneRec: commits.miniOneRec },
    };
}

function tpuOutput(config: StackConfig, name: pulumi.Input<string>) {
    return { name, zone: config.tpu.zone, acceleratorType: config.tpu.acceleratorType, hosts: config.shape.hosts };
}
