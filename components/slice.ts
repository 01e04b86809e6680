/**
 * The parts every stack shares: the SSH key, the machines (a TPU VM, or static hosts for the local
 * target), one SSH connection per worker, and the bootstrap of every worker.
 */
import * as pulumi from "@pulumi/pulumi";
import { types } from "@pulumi/command";
import { StackConfig } from "./config/loadConfig";
import { StackSecrets } from "./config/readStackConfig";
import { SshKeyPair } from "./sshKeyPair";
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
}

export function provisionSlice(config: StackConfig, secrets: StackSecrets): Slice {
    const key = new SshKeyPair("ssh", { privateKey: secrets.sshPrivateKey, publicKey: config.ssh.publicKey });
    const hosts: WorkerHosts =
        config.target === "local" && config.local
            ? new StaticHosts("hosts", {
                  label: config.vmName,
                  zone: config.tpu.zone,
                  acceleratorType: config.tpu.acceleratorType,
                  expectedHosts: config.shape.hosts,
                  hosts: config.local.hosts,
              })
            : new TpuVm("tpu", {
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
                  serviceAccount: config.tpu.serviceAccount,
                  labels: config.tpu.labels,
                  sshUser: config.ssh.user,
                  sshPublicKey: key.publicKey,
              });
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
    });
    // Every step after bootstrap connects with the host key identify pinned.
    return { hosts, sshPublicKey: key.publicKey, connections: bootstrap.connections, bootstrap };
}

/** What defines the machines a run uses; part of every run id, so a new slice or pin re-runs the runs. */
export function sliceIdentity(config: StackConfig): Record<string, unknown> {
    return {
        slice: { acceleratorType: config.tpu.acceleratorType, vm: config.vmName, zone: config.tpu.zone },
        repos: config.repos,
        env: config.env,
    };
}

/** The stack outputs every stack has: the TPU, the SSH public key, and the commits bootstrap checked out. */
export function sliceOutputs(config: StackConfig, slice: Slice) {
    return {
        tpu: {
            name: slice.hosts.name,
            zone: config.tpu.zone,
            acceleratorType: config.tpu.acceleratorType,
            hosts: config.shape.hosts,
        },
        sshPublicKey: slice.sshPublicKey,
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
