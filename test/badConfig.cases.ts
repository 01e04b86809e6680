// The bad-config table's inputs: each case changes the checked-in stack file (or the engine's other entries)
// in one way a user plausibly would. badConfig.test.ts holds what the program must answer for each.
import { EngineOptions, stackFileValues } from "./helpers/trainConfig";

// Test-only mutations of parsed YAML: the shapes are the stack files', known to every case.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Values = Record<string, any>;

export interface CaseInput {
    readonly stack: "train" | "eval";
    readonly what: string;
    readonly mutate?: (values: Values) => void;
    readonly engine?: EngineOptions;
}

const LOCAL = {
    hosts: [{ host: "10.9.0.2" }, { host: "10.9.0.3" }, { host: "10.9.0.4" }, { host: "10.9.0.5" }],
    storageEndpoint: "http://10.9.0.1:4443",
};
/** What the engine passes for a hand-written `timeLimitMinutes: 1e999` (JSON.parse reads it as Infinity). */
const INFINITE_LIMIT = JSON.stringify(stackFileValues("train").train).replace(
    '"timeLimitMinutes":720',
    '"timeLimitMinutes":1e999',
);
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests0123456789abcdefghij me@host";

export const TRAIN_INPUTS: readonly CaseInput[] = [
    { stack: "train", what: "unset GCP project", engine: { gcpProject: null } },
    { stack: "train", what: "GCP project ID too short", engine: { gcpProject: "abc" } },
    { stack: "train", what: "GCP project ID with upper case", engine: { gcpProject: "My-Project" } },
    { stack: "train", what: "GCP project ID ending in '-'", engine: { gcpProject: "my-project-" } },
    {
        stack: "train",
        what: "domain-scoped project: the derived bucket name has a ':'",
        engine: { gcpProject: "example.com:my-proj" },
    },
    { stack: "train", what: "unknown role", mutate: (v) => (v.role = "serve") },
    { stack: "train", what: "role in the wrong case", mutate: (v) => (v.role = "Train") },
    { stack: "train", what: "role missing", mutate: (v) => delete v.role },
    { stack: "train", what: "unknown target", mutate: (v) => (v.target = "aws") },
    {
        stack: "train",
        what: "top-level key that is a nested key's name",
        engine: { extra: { "tpu-sft:zone": "us-east5-a" } },
    },
    { stack: "train", what: "misspelled top-level key", engine: { extra: { "tpu-sft:trian": '{"pollSeconds":30}' } } },
    { stack: "train", what: "unknown top-level key", engine: { extra: { "tpu-sft:colour": "blue" } } },
    { stack: "train", what: "nested key set without --path", engine: { extra: { "tpu-sft:tpu.zone": "us-east5-a" } } },
    {
        stack: "train",
        what: "misspelled nested key set without --path",
        engine: { extra: { "tpu-sft:tpu.zoen": "us-east5-a" } },
    },
    { stack: "train", what: "a number set without --path", engine: { extra: { "tpu-sft:train.pollSeconds": "30" } } },
    {
        stack: "train",
        what: "a list item set without --path",
        engine: { extra: { "tpu-sft:tpu.firewall.sourceRanges[1]": "198.51.100.7/32" } },
    },
    { stack: "train", what: "a dotted key under no known key", engine: { extra: { "tpu-sft:foo.bar": "1" } } },
    {
        stack: "train",
        what: "misspelled zone key hides the zone",
        mutate: (v) => {
            v.tpu.zoen = v.tpu.zone;
            delete v.tpu.zone;
        },
    },
    {
        stack: "train",
        what: "misspelled provisioning key (would silently run spot)",
        mutate: (v) => {
            v.tpu.provisoning = "on-demand";
            delete v.tpu.provisioning;
        },
    },
    {
        stack: "train",
        what: "misspelled service account key",
        mutate: (v) => (v.tpu.serviceAccount.emial = "sa@my-proj.iam.gserviceaccount.com"),
    },
    {
        stack: "train",
        what: "SSH key in the wrong case",
        mutate: (v) => {
            v.ssh.User = "ubuntu";
        },
    },
    {
        stack: "train",
        what: "repos key in the wrong case",
        mutate: (v) => {
            v.repos.mllmjax = v.repos.mllmJax;
            delete v.repos.mllmJax;
        },
    },
    { stack: "train", what: "unknown env key", mutate: (v) => (v.env.cuda = "12.4") },
    { stack: "train", what: "misspelled bucket key", mutate: (v) => (v.bucket.noncurrentVersionsDays = 14) },
    { stack: "train", what: "misspelled train key", mutate: (v) => (v.train.pollSecond = 30) },
    {
        stack: "train",
        what: "misspelled run key",
        mutate: (v) => {
            v.train.runs[0].outputdir = v.train.runs[0].outputDir;
            delete v.train.runs[0].outputDir;
        },
    },
    {
        stack: "train",
        what: "misspelled firewall key",
        mutate: (v) => {
            v.tpu.firewall.sourceRange = v.tpu.firewall.sourceRanges;
            delete v.tpu.firewall.sourceRanges;
        },
    },
    { stack: "train", what: "unknown wandb key", mutate: (v) => (v.wandb.project = "minionerec") },
    { stack: "train", what: "tpu-sft:project used for the GCP project", mutate: (v) => (v.project = "my-proj") },
    { stack: "train", what: "misspelled project key", mutate: (v) => (v.project = { enableService: false }) },
    { stack: "train", what: "unknown accelerator size", mutate: (v) => (v.tpu.acceleratorType = "v6e-12") },
    { stack: "train", what: "accelerator in upper case", mutate: (v) => (v.tpu.acceleratorType = "V6E-16") },
    { stack: "train", what: "accelerator with '_'", mutate: (v) => (v.tpu.acceleratorType = "v6e_16") },
    { stack: "train", what: "v5e by its marketing name", mutate: (v) => (v.tpu.acceleratorType = "v5e-16") },
    { stack: "train", what: "accelerator of no known generation", mutate: (v) => (v.tpu.acceleratorType = "v7-16") },
    { stack: "train", what: "zone without v6e", mutate: (v) => (v.tpu.zone = "us-central2-b") },
    { stack: "train", what: "malformed zone", mutate: (v) => (v.tpu.zone = "useast5b") },
    { stack: "train", what: "both zone and zones", mutate: (v) => (v.tpu.zones = ["us-east5-b", "us-east5-a"]) },
    { stack: "train", what: "neither zone nor zones", mutate: (v) => delete v.tpu.zone },
    {
        stack: "train",
        what: "repeated fallback zone",
        mutate: (v) => {
            delete v.tpu.zone;
            v.tpu.zones = ["us-east5-b", "us-east5-a", "us-east5-b"];
        },
    },
    {
        stack: "train",
        what: "fallback zone without v6e",
        mutate: (v) => {
            delete v.tpu.zone;
            v.tpu.zones = ["us-east5-b", "us-west4-a"];
        },
    },
    {
        stack: "train",
        what: "empty zone list",
        mutate: (v) => {
            delete v.tpu.zone;
            v.tpu.zones = [];
        },
    },
    {
        stack: "train",
        what: "zone list as text",
        mutate: (v) => {
            delete v.tpu.zone;
            v.tpu.zones = '["us-east5-b"]';
        },
    },
    {
        stack: "train",
        what: "active zone not in the list",
        mutate: (v) => {
            delete v.tpu.zone;
            v.tpu.zones = ["us-east5-b", "us-east5-a"];
            v.activeZone = "us-east1-d";
        },
    },
    { stack: "train", what: "active zone other than the single zone", mutate: (v) => (v.activeZone = "us-east5-a") },
    { stack: "train", what: "skipZoneCheck not a boolean", mutate: (v) => (v.tpu.skipZoneCheck = "maybe") },
    {
        stack: "train",
        what: "runtime of another generation",
        mutate: (v) => (v.tpu.runtimeVersion = "v2-alpha-tpuv5-lite"),
    },
    { stack: "train", what: "malformed runtime", mutate: (v) => (v.tpu.runtimeVersion = "V6E Ubuntu") },
    { stack: "train", what: "unknown provisioning", mutate: (v) => (v.tpu.provisioning = "cheap") },
    { stack: "train", what: "provisioning in another spelling", mutate: (v) => (v.tpu.provisioning = "ondemand") },
    { stack: "train", what: "VM name with upper case", mutate: (v) => (v.tpu.name = "My-VM") },
    { stack: "train", what: "VM name ending in '-'", mutate: (v) => (v.tpu.name = "mllm-jax-") },
    { stack: "train", what: "VM name of 64 characters", mutate: (v) => (v.tpu.name = "a".repeat(64)) },
    {
        stack: "train",
        what: "stack name that makes invalid default names",
        mutate: (v) => delete v.tpu.name,
        engine: { stackName: "Train_1" },
    },
    {
        stack: "train",
        what: "adopt without a name",
        mutate: (v) => {
            v.tpu.adopt = true;
            delete v.tpu.name;
            v.ssh.publicKey = SSH_KEY;
        },
        engine: { secrets: { wandbApiKey: "k", sshPrivateKey: "PRIVATE" } },
    },
    { stack: "train", what: "adopt without a private key", mutate: (v) => (v.tpu.adopt = true) },
    { stack: "train", what: "external IPs not a boolean", mutate: (v) => (v.tpu.enableExternalIps = "maybe") },
    { stack: "train", what: "osLogin not a boolean", mutate: (v) => (v.tpu.osLogin = "yes") },
    { stack: "train", what: "firewall without source ranges", mutate: (v) => (v.tpu.firewall.sourceRanges = []) },
    { stack: "train", what: "no firewall section at all", mutate: (v) => delete v.tpu.firewall },
    { stack: "train", what: "IPv4 prefix too long", mutate: (v) => (v.tpu.firewall.sourceRanges = ["203.0.113.0/33"]) },
    {
        stack: "train",
        what: "source range that is a host name",
        mutate: (v) => (v.tpu.firewall.sourceRanges = ["my-laptop"]),
    },
    {
        stack: "train",
        what: "repeated source range",
        mutate: (v) => (v.tpu.firewall.sourceRanges = ["35.235.240.0/20", "35.235.240.0/20"]),
    },
    { stack: "train", what: "firewall create not a boolean", mutate: (v) => (v.tpu.firewall.create = "no") },
    {
        stack: "train",
        what: "source ranges as one string",
        mutate: (v) => (v.tpu.firewall.sourceRanges = "35.235.240.0/20"),
    },
    {
        stack: "train",
        what: "service account that is not an email",
        mutate: (v) => (v.tpu.serviceAccount.email = "not-an-email"),
    },
    {
        stack: "train",
        what: "service account ID too short",
        mutate: (v) => (v.tpu.serviceAccount.email = "abc@my-proj.iam.gserviceaccount.com"),
    },
    {
        stack: "train",
        what: "service account create with an email",
        mutate: (v) => {
            v.tpu.serviceAccount.email = "trainer@my-proj.iam.gserviceaccount.com";
            v.tpu.serviceAccount.create = true;
        },
    },
    { stack: "train", what: "empty scopes", mutate: (v) => (v.tpu.serviceAccount.scopes = []) },
    {
        stack: "train",
        what: "scope that is not a URL",
        mutate: (v) => (v.tpu.serviceAccount.scopes = ["cloud-platform"]),
    },
    { stack: "train", what: "label value with upper case", mutate: (v) => (v.tpu.labels.workload = "SFT") },
    { stack: "train", what: "label key starting with a digit", mutate: (v) => (v.tpu.labels["1team"] = "a") },
    { stack: "train", what: "label the program sets", mutate: (v) => (v.tpu.labels["managed-by"] = "me") },
    {
        stack: "train",
        what: "label the provider sets",
        mutate: (v) => (v.tpu.labels["goog-pulumi-provisioned"] = "false"),
    },
    {
        stack: "train",
        what: "63 labels, 65 with the program's",
        mutate: (v) => {
            for (let i = 0; i < 62; i++) v.tpu.labels[`l${i}`] = "x";
        },
    },
    { stack: "train", what: "label value of 64 characters", mutate: (v) => (v.tpu.labels.workload = "a".repeat(64)) },
    { stack: "train", what: "network name with a space", mutate: (v) => (v.tpu.network = "my net") },
    {
        stack: "train",
        what: "subnetwork path with a bad project",
        mutate: (v) => (v.tpu.subnetwork = "projects/P/regions/us-east5/subnetworks/tpu"),
    },
    { stack: "train", what: "SSH user with a quote", mutate: (v) => (v.ssh.user = "root'; id") },
    {
        stack: "train",
        what: "public key that is not one line",
        mutate: (v) => (v.ssh.publicKey = "ssh-ed25519 AAAA\nssh-rsa BBBB"),
        engine: { secrets: { wandbApiKey: "k", sshPrivateKey: "PRIVATE" } },
    },
    { stack: "train", what: "public key without the private key", mutate: (v) => (v.ssh.publicKey = SSH_KEY) },
    {
        stack: "train",
        what: "private key without the public key",
        engine: { secrets: { wandbApiKey: "k", sshPrivateKey: "PRIVATE" } },
    },
    { stack: "train", what: "dial error limit zero", mutate: (v) => (v.ssh.dialErrorLimit = 0) },
    { stack: "train", what: "dial error limit in words", mutate: (v) => (v.ssh.dialErrorLimit = "forty") },
    { stack: "train", what: "fractional dial timeout", mutate: (v) => (v.ssh.perDialTimeoutSeconds = 1.5) },
    { stack: "train", what: "branch instead of a commit", mutate: (v) => (v.repos.mllmJax.commit = "test") },
    { stack: "train", what: "tag instead of a commit", mutate: (v) => (v.repos.miniOneRec.commit = "v1.0") },
    { stack: "train", what: "empty repo URL", mutate: (v) => (v.repos.mllmJax.url = "") },
    { stack: "train", what: "ext:: transport", mutate: (v) => (v.repos.mllmJax.url = "ext::sh -c touch% /tmp/pwned") },
    {
        stack: "train",
        what: "URL starting with '-'",
        mutate: (v) => (v.repos.mllmJax.url = "--upload-pack=touch /tmp/pwned"),
    },
    {
        stack: "train",
        what: "plain http URL",
        mutate: (v) => (v.repos.mllmJax.url = "http://github.com/demon2036/MLLM-JAX.git"),
    },
    {
        stack: "train",
        what: "token in the URL",
        mutate: (v) => (v.repos.mllmJax.url = "https://ghp_token@github.com/demon2036/MLLM-JAX.git"),
    },
    {
        stack: "train",
        what: "git:// URL",
        mutate: (v) => (v.repos.miniOneRec.url = "git://github.com/AkaliKong/MiniOneRec.git"),
    },
    { stack: "train", what: "local path on gcp", mutate: (v) => (v.repos.mllmJax.url = "/srv/git/MLLM-JAX.git") },
    {
        stack: "train",
        what: "URL with a space",
        mutate: (v) => (v.repos.mllmJax.url = "https://github.com/demon2036/MLLM JAX.git"),
    },
    {
        stack: "train",
        what: "URL with a newline",
        mutate: (v) => (v.repos.mllmJax.url = "https://github.com/x.git\nid"),
    },
    { stack: "train", what: "MiniOneRec repo missing", mutate: (v) => delete v.repos.miniOneRec },
    { stack: "train", what: "unknown env mode", mutate: (v) => (v.env.mode = "docker") },
    { stack: "train", what: "jax version range", mutate: (v) => (v.env.jax = ">=0.9") },
    { stack: "train", what: "python major only", mutate: (v) => (v.env.python = "3") },
    { stack: "train", what: "python version as an unquoted YAML number", mutate: (v) => (v.env.python = 3.1) },
    { stack: "train", what: "conda env name with a space", mutate: (v) => (v.env.condaEnv = "mllm jax") },
    { stack: "train", what: "conda env name starting with '-'", mutate: (v) => (v.env.condaEnv = "-n") },
    { stack: "train", what: "conda base env", mutate: (v) => (v.env.condaEnv = "base") },
    { stack: "train", what: "libtpu not pinned", mutate: (v) => (v.env.libtpu = "latest") },
    {
        stack: "train",
        what: "Miniconda over http",
        mutate: (v) => (v.env.minicondaUrl = "http://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh"),
    },
    { stack: "train", what: "invalid bucket name", mutate: (v) => (v.bucket.name = "My_Bucket") },
    { stack: "train", what: "bucket name too short", mutate: (v) => (v.bucket.name = "ab") },
    { stack: "train", what: "bucket name with google", mutate: (v) => (v.bucket.name = "my-google-ckpts") },
    { stack: "train", what: "bucket name starting with goog", mutate: (v) => (v.bucket.name = "goog-ckpts") },
    { stack: "train", what: "bucket name with a misspelled google", mutate: (v) => (v.bucket.name = "ckpts-g00gle") },
    { stack: "train", what: "bucket name that is an IP address", mutate: (v) => (v.bucket.name = "192.168.5.4") },
    {
        stack: "train",
        what: "dotted bucket name with a 64-character part",
        mutate: (v) => (v.bucket.name = `ckpts.${"a".repeat(64)}.example.com`),
    },
    { stack: "train", what: "bucket name starting with '-'", mutate: (v) => (v.bucket.name = "-ckpts") },
    { stack: "train", what: "unknown bucket location", mutate: (v) => (v.bucket.location = "mars-north1") },
    { stack: "train", what: "bucket prefix with a leading slash", mutate: (v) => (v.bucket.prefix = "/ckpt") },
    { stack: "train", what: "bucket prefix with '..'", mutate: (v) => (v.bucket.prefix = "a/../b") },
    { stack: "train", what: "noncurrent versions kept 0 days", mutate: (v) => (v.bucket.noncurrentVersionDays = 0) },
    {
        stack: "train",
        what: "noncurrent versions kept 10 years",
        mutate: (v) => (v.bucket.noncurrentVersionDays = 3651),
    },
    { stack: "train", what: "fractional days as text", mutate: (v) => (v.bucket.noncurrentVersionDays = "7.5") },
    { stack: "train", what: "NaN days as text", mutate: (v) => (v.bucket.noncurrentVersionDays = "NaN") },
    { stack: "train", what: "W&B mode unknown", mutate: (v) => (v.wandb.mode = "cloud") },
    { stack: "train", what: "W&B online without a key", engine: { secrets: {} } },
    { stack: "train", what: "W&B key stored in plain text", engine: { plaintext: ["wandbApiKey"] } },
    { stack: "train", what: "a non-secret key stored as a secret", engine: { secretKeys: ["tpu-sft:bucket"] } },
    { stack: "train", what: "no runs", mutate: (v) => (v.train.runs = []) },
    { stack: "train", what: "duplicate run names", mutate: (v) => (v.train.runs[1].name = "office") },
    { stack: "train", what: "run name with upper case", mutate: (v) => (v.train.runs[0].name = "Office") },
    { stack: "train", what: "run name ending in '-'", mutate: (v) => (v.train.runs[0].name = "office-") },
    {
        stack: "train",
        what: "config that is not YAML",
        mutate: (v) => (v.train.runs[0].config = "projects/x/config.json"),
    },
    { stack: "train", what: "absolute config path", mutate: (v) => (v.train.runs[0].config = "/etc/passwd.yaml") },
    {
        stack: "train",
        what: "output dir escaping the checkout",
        mutate: (v) => (v.train.runs[0].outputDir = "runs/../../etc"),
    },
    { stack: "train", what: "output dir that is the checkout", mutate: (v) => (v.train.runs[0].outputDir = "./") },
    {
        stack: "train",
        what: "output dirs equal after normalization",
        mutate: (v) => {
            v.train.runs[0].outputDir = "runs/shared/";
            v.train.runs[1].outputDir = "runs/./shared";
        },
    },
    {
        stack: "train",
        what: "output dirs equal after '//' and '..'",
        mutate: (v) => {
            v.train.runs[0].outputDir = "runs//a";
            v.train.runs[1].outputDir = "runs/b/../a";
        },
    },
    {
        stack: "train",
        what: "one output dir inside another",
        mutate: (v) => {
            v.train.runs[0].outputDir = "runs/a";
            v.train.runs[1].outputDir = "runs/a/b";
        },
    },
    {
        stack: "train",
        what: "the same YAML for two runs",
        mutate: (v) => (v.train.runs[1].config = v.train.runs[0].config),
    },
    { stack: "train", what: "unknown checkpoint kind", mutate: (v) => (v.train.runs[0].checkpoints = ["final"]) },
    { stack: "train", what: "no checkpoints to hand off", mutate: (v) => (v.train.runs[0].checkpoints = []) },
    {
        stack: "train",
        what: "repeated checkpoint kind",
        mutate: (v) => (v.train.runs[1].checkpoints = ["last", "last"]),
    },
    { stack: "train", what: "poll interval zero", mutate: (v) => (v.train.pollSeconds = 0) },
    { stack: "train", what: "max attempts zero", mutate: (v) => (v.train.maxAttempts = 0) },
    { stack: "train", what: "max recoveries negative", mutate: (v) => (v.supervisor = { maxRecoveries: -1 }) },
    { stack: "train", what: "backoff in words", mutate: (v) => (v.supervisor = { backoffSeconds: "a minute" }) },
    { stack: "train", what: "misspelled supervisor key", mutate: (v) => (v.supervisor = { maxRecovery: 3 }) },
    {
        stack: "train",
        what: "on-demand price zero",
        mutate: (v) => (v.tpu.prices = { onDemandPerChipHour: 0 }),
    },
    {
        stack: "train",
        what: "spot price with a currency sign",
        mutate: (v) => (v.tpu.prices = { spotPerChipHour: "$1.2" }),
    },
    { stack: "train", what: "time limit in words", mutate: (v) => (v.train.timeLimitMinutes = "a day") },
    {
        stack: "train",
        what: "time limit Infinity (JSON 1e999)",
        engine: { extra: { "tpu-sft:train": INFINITE_LIMIT } },
    },
    {
        stack: "train",
        what: "poll interval as long as the time limit",
        mutate: (v) => {
            v.train.timeLimitMinutes = 1;
            v.train.progressSeconds = 30;
        },
    },
    {
        stack: "train",
        what: "poll plus grace longer than the time limit",
        mutate: (v) => {
            v.train.timeLimitMinutes = 1;
            v.train.pollSeconds = 50;
            v.train.progressSeconds = 30;
        },
    },
    {
        stack: "train",
        what: "progress interval longer than the time limit",
        mutate: (v) => (v.train.timeLimitMinutes = 2),
    },
    { stack: "train", what: "negative grace", mutate: (v) => (v.train.graceSeconds = -1) },
    { stack: "train", what: "local target without hosts", mutate: (v) => (v.target = "local") },
    {
        stack: "train",
        what: "local target with one host for four workers",
        mutate: (v) => {
            v.target = "local";
            v.local = { ...LOCAL, hosts: [{ host: "10.9.0.2" }] };
        },
    },
    { stack: "train", what: "local section on the gcp target", mutate: (v) => (v.local = LOCAL) },
    {
        stack: "train",
        what: "local host that ssh would read as an option",
        mutate: (v) => {
            v.target = "local";
            v.local = { ...LOCAL, hosts: [...LOCAL.hosts.slice(0, 3), { host: "-oProxyCommand=id" }] };
        },
    },
    {
        stack: "train",
        what: "local storage endpoint over ftp",
        mutate: (v) => {
            v.target = "local";
            v.local = { ...LOCAL, storageEndpoint: "ftp://10.9.0.1:4443" };
        },
    },
    {
        stack: "train",
        what: "local port out of range",
        mutate: (v) => {
            v.target = "local";
            v.local = { ...LOCAL, hosts: [...LOCAL.hosts.slice(0, 3), { host: "10.9.0.5", port: 70000 }] };
        },
    },
    { stack: "train", what: "eval section on a train stack", mutate: (v) => (v.eval = { runs: [] }) },
    { stack: "train", what: "no train section", mutate: (v) => delete v.train },
    { stack: "train", what: "no tpu section", mutate: (v) => delete v.tpu },
    { stack: "train", what: "tpu set to a string", mutate: (v) => (v.tpu = "v6e-16") },
    {
        stack: "train",
        what: "many problems at once",
        mutate: (v) => {
            v.tpu.zone = "europe-west9-z";
            v.tpu.runtimeVersion = "nope";
            v.tpu.provisoning = "on-demand";
            v.bucket.name = "-bad";
            v.train.pollSeconds = "NaN";
            v.train.runs[1].outputDir = `${v.train.runs[0].outputDir}/`;
        },
        engine: { gcpProject: null, secrets: {}, extra: { "tpu-sft:tpu.name": "x" } },
    },
];

export const EVAL_INPUTS: readonly CaseInput[] = [
    { stack: "eval", what: "multi-host accelerator", mutate: (v) => (v.tpu.acceleratorType = "v6e-16") },
    { stack: "eval", what: "zone without v6e", mutate: (v) => (v.tpu.zone = "us-central2-b") },
    { stack: "eval", what: "no eval section", mutate: (v) => delete v.eval },
    { stack: "eval", what: "train section on an eval stack", mutate: (v) => (v.train = { runs: [] }) },
    { stack: "eval", what: "K list not increasing", mutate: (v) => (v.eval.runs[0].topk = [1, 5, 3]) },
    {
        stack: "eval",
        what: "K beyond what calc.py prints",
        mutate: (v) => (v.eval.runs[0].topk = [1, 3, 5, 10, 20, 50, 100]),
    },
    { stack: "eval", what: "K list with zero", mutate: (v) => (v.eval.runs[0].topk = [0, 1]) },
    { stack: "eval", what: "empty K list", mutate: (v) => (v.eval.runs[0].topk = []) },
    { stack: "eval", what: "K list calc.py never prints", mutate: (v) => (v.eval.runs[1].topk = [1, 2, 3]) },
    { stack: "eval", what: "K list as text", mutate: (v) => (v.eval.runs[0].topk = "[1,3,5]") },
    { stack: "eval", what: "fractional K", mutate: (v) => (v.eval.runs[0].topk = [1, 3.5]) },
    { stack: "eval", what: "unknown checkpoint kind", mutate: (v) => (v.eval.runs[0].checkpoint = "final") },
    { stack: "eval", what: "both checkpoint sources", mutate: (v) => (v.eval.checkpoints = {}) },
    {
        stack: "eval",
        what: "handoff manifests and a train stack",
        mutate: (v) => (v.eval.handoff = { prefix: "sft_match_official" }),
    },
    {
        stack: "eval",
        what: "handoff prefix with '..'",
        mutate: (v) => {
            delete v.eval.trainStack;
            v.eval.handoff = { prefix: "a/../b" };
        },
    },
    { stack: "eval", what: "train stack name with a space", mutate: (v) => (v.eval.trainStack = "my train") },
    {
        stack: "eval",
        what: "train stack name starting with '-'",
        mutate: (v) => (v.eval.trainStack = "-org/tpu-sft/train"),
    },
    {
        stack: "eval",
        what: "duplicate eval output dirs",
        mutate: (v) => (v.eval.runs[1].outputDir = v.eval.runs[0].outputDir),
    },
    {
        stack: "eval",
        what: "eval output dirs equal after normalization",
        mutate: (v) => (v.eval.runs[1].outputDir = `./${v.eval.runs[0].outputDir}//`),
    },
    {
        stack: "eval",
        what: "item file escaping the checkout",
        mutate: (v) => (v.eval.runs[0].itemFile = "../info.txt"),
    },
    {
        stack: "eval",
        what: "item file calc.py cannot open",
        mutate: (v) => (v.eval.runs[0].itemFile = "workdir/MiniOneRec/data/Amazon/info/Office.csv"),
    },
    { stack: "eval", what: "absolute item file", mutate: (v) => (v.eval.runs[0].itemFile = "/root/info.txt") },
    { stack: "eval", what: "W&B online without a key", engine: { secrets: {} } },
    {
        stack: "eval",
        what: "SSH private key stored in plain text",
        mutate: (v) => (v.ssh.publicKey = SSH_KEY),
        engine: { secrets: { wandbApiKey: "k", sshPrivateKey: "PRIVATE" }, plaintext: ["sshPrivateKey"] },
    },
    {
        stack: "eval",
        what: "explicit checkpoints miss a run's kind",
        mutate: (v) => {
            delete v.eval.trainStack;
            v.eval.checkpoints = {
                office: { best: { uri: "gs://bkt/p/sft_state_best.msgpack", crc32c: "IcOvzQ==", size: 5 } },
            };
        },
    },
    {
        stack: "eval",
        what: "explicit checkpoint with an s3 URI and a bad crc32c",
        mutate: (v) => {
            delete v.eval.trainStack;
            v.eval.checkpoints = {
                office: { best: { uri: "s3://b/x.msgpack", crc32c: "abc", size: 5 } },
                industrial: { last: { uri: "gs://bkt/p/sft_state_last.msgpack", crc32c: "IcOvzQ==", size: 5 } },
            };
        },
    },
    {
        stack: "eval",
        what: "explicit checkpoint sizes",
        mutate: (v) => {
            delete v.eval.trainStack;
            v.eval.checkpoints = {
                office: { best: { uri: "gs://bkt/p/sft_state_best.msgpack", crc32c: "IcOvzQ==", size: 0 } },
                industrial: { last: { uri: "gs://bkt/p/sft_state_last.msgpack", crc32c: "IcOvzQ==", size: 1.5 } },
            };
        },
    },
    {
        stack: "eval",
        what: "explicit checkpoint under a bad run name",
        mutate: (v) => {
            delete v.eval.trainStack;
            v.eval.checkpoints = {
                Office: { best: { uri: "gs://bkt/p/sft_state_best.msgpack", crc32c: "IcOvzQ==", size: 5 } },
                industrial: { last: { uri: "gs://bkt/p/sft_state_last.msgpack", crc32c: "IcOvzQ==", size: 5 } },
            };
        },
    },
    {
        stack: "eval",
        what: "explicit checkpoint of an unknown kind",
        mutate: (v) => {
            delete v.eval.trainStack;
            v.eval.checkpoints = {
                office: { best: { uri: "gs://bkt/p/sft_state_best.msgpack", crc32c: "IcOvzQ==", size: 5 } },
                industrial: { lats: { uri: "gs://bkt/p/sft_state_last.msgpack", crc32c: "IcOvzQ==", size: 5 } },
            };
        },
    },
    {
        stack: "eval",
        what: "explicit checkpoint in a bucket named like google",
        mutate: (v) => {
            delete v.eval.trainStack;
            v.eval.checkpoints = {
                office: { best: { uri: "gs://google-ckpt/p/sft_state_best.msgpack", crc32c: "IcOvzQ==", size: 5 } },
                industrial: { last: { uri: "gs://bkt/p/sft_state_last.msgpack", crc32c: "IcOvzQ==", size: 5 } },
            };
        },
    },
    {
        stack: "eval",
        what: "eval poll interval past the time limit",
        mutate: (v) => {
            v.eval.timeLimitMinutes = 1;
            v.eval.pollSeconds = 90;
            v.eval.progressSeconds = 30;
        },
    },
    {
        stack: "eval",
        what: "eval grace too long",
        mutate: (v) => {
            v.eval.timeLimitMinutes = 2;
            v.eval.graceSeconds = 100;
            v.eval.progressSeconds = 60;
        },
    },
    {
        stack: "eval",
        what: "misspelled topk key",
        mutate: (v) => {
            v.eval.runs[0].topK = v.eval.runs[0].topk;
            delete v.eval.runs[0].topk;
        },
    },
    { stack: "eval", what: "train run name with upper case", mutate: (v) => (v.eval.runs[0].trainRun = "Office") },
    { stack: "eval", what: "requireZeroInvalid not a boolean", mutate: (v) => (v.eval.requireZeroInvalid = "yes") },
    { stack: "eval", what: "no eval runs", mutate: (v) => (v.eval.runs = []) },
    { stack: "eval", what: "duplicate eval run names", mutate: (v) => (v.eval.runs[1].name = "office") },
    { stack: "eval", what: "the same eval YAML twice", mutate: (v) => (v.eval.runs[1].config = v.eval.runs[0].config) },
    {
        stack: "eval",
        what: "local target with two hosts for one worker",
        mutate: (v) => {
            v.target = "local";
            v.local = { ...LOCAL, hosts: LOCAL.hosts.slice(0, 2) };
        },
    },
    { stack: "eval", what: "misspelled top-level eval key", engine: { extra: { "tpu-sft:evall": "{}" } } },
    {
        stack: "eval",
        what: "eval key set without --path",
        engine: { extra: { "tpu-sft:eval.trainStack": "org/tpu-sft/train" } },
    },
    { stack: "eval", what: "accelerator with a trailing space", mutate: (v) => (v.tpu.acceleratorType = "v6e-8 ") },
    {
        stack: "eval",
        what: "v5e multi-host slice with the v6e runtime in a v6e-only zone",
        mutate: (v) => (v.tpu.acceleratorType = "v5litepod-16"),
    },
    {
        stack: "eval",
        what: "fallback zones for eval with a bad active zone",
        mutate: (v) => {
            delete v.tpu.zone;
            v.tpu.zones = ["europe-west4-a", "us-east5-b"];
            v.activeZone = "us-east5-a";
        },
    },
    {
        stack: "eval",
        what: "bucket name derived from a project containing google is refused by GCP",
        engine: { gcpProject: "google-fan-123" },
    },
    {
        stack: "eval",
        what: "local repo path on the gcp eval stack",
        mutate: (v) => (v.repos.miniOneRec.url = "file:///srv/git/MiniOneRec.git"),
    },
    {
        stack: "eval",
        what: "scp-style URL with a path starting with '-'",
        mutate: (v) => (v.repos.miniOneRec.url = "git@github.com:-oProxyCommand=id"),
    },
];
