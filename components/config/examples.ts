/**
 * Example values for fixes: what `pulumi config set --path <key> <example>` should show for each key. Paths use
 * `[]` for any list index and `*` for any map key.
 */
import { CLOUD_PLATFORM_SCOPE } from "./schema";

export const EXAMPLES: Readonly<Record<string, string>> = {
    role: "train",
    target: "gcp",
    activeZone: "us-east5-b",
    "tpu.name": "mllm-jax-v6e-16-sft",
    "tpu.adopt": "false",
    "tpu.zone": "us-east5-b",
    "tpu.zones[]": "us-east5-b",
    "tpu.acceleratorType": "v6e-16",
    "tpu.runtimeVersion": "v6e-ubuntu-2404",
    "tpu.provisioning": "spot",
    "tpu.network": "default",
    "tpu.subnetwork": "default",
    "tpu.enableExternalIps": "true",
    "tpu.osLogin": "false",
    "tpu.firewall.create": "true",
    "tpu.firewall.sourceRanges[]": "203.0.113.0/24",
    "tpu.serviceAccount.email": "tpu-sft@my-project.iam.gserviceaccount.com",
    "tpu.serviceAccount.create": "true",
    "tpu.serviceAccount.scopes[]": CLOUD_PLATFORM_SCOPE,
    "tpu.labels.*": "minionerec-sid-sft",
    "tpu.skipZoneCheck": "false",
    "tpu.prices.onDemandPerChipHour": "2.7",
    "tpu.prices.spotPerChipHour": "1.0",
    "ssh.user": "root",
    "ssh.publicKey": "ssh-ed25519 AAAA... you@host",
    "ssh.dialErrorLimit": "40",
    "ssh.perDialTimeoutSeconds": "15",
    "repos.mllmJax.url": "https://github.com/demon2036/MLLM-JAX.git",
    "repos.mllmJax.commit": "03455fc",
    "repos.miniOneRec.url": "https://github.com/AkaliKong/MiniOneRec.git",
    "repos.miniOneRec.commit": "81b4ba9",
    "env.mode": "conda",
    "env.condaEnv": "mllm-jax",
    "env.python": "3.12",
    "env.jax": "0.9.0",
    "env.libtpu": "0.0.34",
    "env.minicondaUrl": "https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh",
    "env.jaxReleasesUrl": "https://storage.googleapis.com/jax-releases/libtpu_releases.html",
    "env.torchIndexUrl": "https://download.pytorch.org/whl/cpu",
    "bucket.create": "true",
    "bucket.name": "my-project-mllm-jax-artifacts",
    "bucket.location": "US-EAST5",
    "bucket.prefix": "sft_match_official",
    "bucket.noncurrentVersionDays": "7",
    "wandb.mode": "online",
    "project.enableServices": "true",
    "supervisor.maxRecoveries": "6",
    "supervisor.backoffSeconds": "30",
    "supervisor.maxBackoffSeconds": "900",
    "train.timeLimitMinutes": "720",
    "train.pollSeconds": "60",
    "train.progressSeconds": "180",
    "train.graceSeconds": "30",
    "train.maxAttempts": "2",
    "train.runs[].name": "office",
    "train.runs[].config": "projects/minionerec/sft/configs/<name>.yaml",
    "train.runs[].outputDir": "runs/<name>",
    "train.runs[].checkpoints[]": "best",
    "eval.trainStack": "organization/tpu-sft/train",
    "eval.handoff.bucket": "my-project-mllm-jax-artifacts",
    "eval.handoff.prefix": "sft_match_official",
    "eval.requireZeroInvalid": "true",
    "eval.timeLimitMinutes": "240",
    "eval.pollSeconds": "30",
    "eval.progressSeconds": "120",
    "eval.graceSeconds": "30",
    "eval.maxAttempts": "2",
    "eval.runs[].name": "office",
    "eval.runs[].trainRun": "office",
    "eval.runs[].checkpoint": "best",
    "eval.runs[].config": "projects/minionerec/sft/configs/<name>.yaml",
    "eval.runs[].outputDir": "runs/<name>",
    "eval.runs[].itemFile": "workdir/MiniOneRec/data/Amazon/info/Office_Products_5_2016-10-2018-11.txt",
    "eval.runs[].topk[]": "1",
    "eval.checkpoints.*.*.uri": "gs://my-bucket/sft_match_official/office/sft_state_best.msgpack",
    "eval.checkpoints.*.*.crc32c": "IcOvzQ==",
    "eval.checkpoints.*.*.size": "<bytes>",
    "local.hosts[].host": "10.0.0.2",
    "local.hosts[].port": "22",
    "local.storageEndpoint": "http://10.0.0.1:4443",
    "local.slice.control": "/work/tpu-sft/test/rehearsal/hosts.sh",
    "local.slice.stateDir": "/tmp/rehearsal/hosts",
};

/** The EXAMPLES key of a path: indexes become `[]`, keys of maps (labels, checkpoints) become `*`. */
export function examplePattern(path: readonly (string | number)[]): string {
    let text = "";
    path.forEach((segment, i) => {
        const isMapKey =
            (path[0] === "tpu" && path[1] === "labels" && i === 2) ||
            (path[0] === "eval" && path[1] === "checkpoints" && (i === 2 || i === 3));
        if (typeof segment === "number") text += "[]";
        else text += (text === "" ? "" : ".") + (isMapKey ? "*" : segment);
    });
    return text;
}

export function exampleFor(path: readonly (string | number)[]): string | undefined {
    return EXAMPLES[examplePattern(path)];
}
