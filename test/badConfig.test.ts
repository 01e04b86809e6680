// The bad-config table: every case goes through the program's own readStackConfig with the config set as the
// Pulumi engine sets it (every value a string, objects as JSON text, secrets listed as secret), and must be
// rejected before any resource exists with exactly these problems, each as `key = value: problem. Fix: fix`.
// The inputs are in badConfig.cases.ts; a case's name here is "<stack>: <what>".
import * as assert from "assert";
import { ConfigError } from "../components/config/loadConfig";
import { CaseInput, EVAL_INPUTS, TRAIN_INPUTS } from "./badConfig.cases";
import { clone, readThroughEngine, stackFileValues } from "./helpers/trainConfig";

const EXPECTED: Readonly<Record<string, readonly string[]>> = {
    "train: unset GCP project": [
        "gcp:project = (unset): the GCP project is not set (it is never hard-coded). Fix: pulumi config set gcp:project <your-project-id> --stack train",
    ],
    "train: GCP project ID too short": [
        'gcp:project = "abc": is not a GCP project ID: it must be 6-30 characters long (got 3). Fix: pulumi config set gcp:project <your-project-id> --stack train',
    ],
    "train: GCP project ID with upper case": [
        'gcp:project = "My-Project": is not a GCP project ID: it must start with a lowercase letter. Fix: pulumi config set gcp:project <your-project-id> --stack train',
    ],
    "train: GCP project ID ending in '-'": [
        "gcp:project = \"my-project-\": is not a GCP project ID: it must not end with '-'. Fix: pulumi config set gcp:project <your-project-id> --stack train",
    ],
    "train: domain-scoped project: the derived bucket name has a ':'": [
        "tpu-sft:bucket.name = (unset): is unset, and the default derived from gcp:project, \"example.com:my-proj-mllm-jax-artifacts\", is not a valid bucket name: it may use only lowercase letters, digits, '-', '_' and '.'. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train",
    ],
    "train: unknown role": [
        'tpu-sft:role = "serve": must be one of train, eval. Fix: pulumi config set role train --stack train',
    ],
    "train: role in the wrong case": [
        'tpu-sft:role = "Train": must be one of train, eval (did you mean train?). Fix: pulumi config set role train --stack train',
    ],
    "train: role missing": [
        "tpu-sft:role = (unset): is required (one of train, eval). Fix: pulumi config set role train --stack train",
    ],
    "train: unknown target": [
        'tpu-sft:target = "aws": must be one of gcp, local. Fix: pulumi config set target gcp --stack train',
    ],
    "train: top-level key that is a nested key's name": [
        'tpu-sft:zone = "us-east5-a": is not a known key (did you mean tpu.zone?). Fix: pulumi config rm tpu-sft:zone --stack train && pulumi config set --path tpu.zone us-east5-a --stack train',
    ],
    "train: misspelled top-level key": [
        'tpu-sft:trian = {"pollSeconds":30}: is not a known key (did you mean train?). Fix: rename tpu-sft:trian to tpu-sft:train in Pulumi.train.yaml',
    ],
    "train: unknown top-level key": [
        'tpu-sft:colour = "blue": is not a known key. Fix: pulumi config rm tpu-sft:colour --stack train (known keys: role, target, activeZone, tpu, ssh, repos, env, bucket, wandb, project, supervisor, train, eval, local, and the secrets wandbApiKey, sshPrivateKey)',
    ],
    "train: nested key set without --path": [
        'tpu-sft:tpu.zone = "us-east5-a": is a nested key set without --path, so it is one key named "tpu.zone" that the program never reads. Fix: pulumi config rm tpu-sft:tpu.zone --stack train && pulumi config set --path tpu.zone us-east5-a --stack train',
    ],
    "train: misspelled nested key set without --path": [
        'tpu-sft:tpu.zoen = "us-east5-a": is a nested key set without --path, so it is one key named "tpu.zoen" that the program never reads (and tpu.zoen is not a known key: did you mean tpu.zone?). Fix: pulumi config rm tpu-sft:tpu.zoen --stack train && pulumi config set --path tpu.zone us-east5-a --stack train',
    ],
    "train: a number set without --path": [
        'tpu-sft:train.pollSeconds = "30": is a nested key set without --path, so it is one key named "train.pollSeconds" that the program never reads. Fix: pulumi config rm tpu-sft:train.pollSeconds --stack train && pulumi config set --path train.pollSeconds 30 --stack train',
    ],
    "train: a list item set without --path": [
        "tpu-sft:tpu.firewall.sourceRanges[1] = \"198.51.100.7/32\": is a nested key set without --path, so it is one key named \"tpu.firewall.sourceRanges[1]\" that the program never reads. Fix: pulumi config rm 'tpu-sft:tpu.firewall.sourceRanges[1]' --stack train && pulumi config set --path 'tpu.firewall.sourceRanges[1]' 198.51.100.7/32 --stack train",
    ],
    "train: a dotted key under no known key": [
        'tpu-sft:foo.bar = "1": is not a known key. Fix: pulumi config rm tpu-sft:foo.bar --stack train (known keys: role, target, activeZone, tpu, ssh, repos, env, bucket, wandb, project, supervisor, train, eval, local, and the secrets wandbApiKey, sshPrivateKey)',
    ],
    "train: misspelled zone key hides the zone": [
        'tpu-sft:tpu.zoen = "us-east5-b": is not a known key (did you mean tpu.zone?). Fix: pulumi config rm --path tpu.zoen --stack train && pulumi config set --path tpu.zone us-east5-b --stack train',
        "tpu-sft:tpu.zone = (unset): is required: set tpu.zone, or tpu.zones for an ordered list of fallback zones. Fix: pulumi config set --path tpu.zone us-east5-b --stack train",
    ],
    "train: misspelled provisioning key (would silently run spot)": [
        'tpu-sft:tpu.provisoning = "on-demand": is not a known key (did you mean tpu.provisioning?). Fix: pulumi config rm --path tpu.provisoning --stack train && pulumi config set --path tpu.provisioning on-demand --stack train',
    ],
    "train: misspelled service account key": [
        'tpu-sft:tpu.serviceAccount.emial = "sa@my-proj.iam.gserviceaccount.com": is not a known key (did you mean tpu.serviceAccount.email?). Fix: pulumi config rm --path tpu.serviceAccount.emial --stack train && pulumi config set --path tpu.serviceAccount.email sa@my-proj.iam.gserviceaccount.com --stack train',
    ],
    "train: SSH key in the wrong case": [
        'tpu-sft:ssh.User = "ubuntu": is not a known key (did you mean ssh.user?). Fix: pulumi config rm --path ssh.User --stack train && pulumi config set --path ssh.user ubuntu --stack train',
    ],
    "train: repos key in the wrong case": [
        "tpu-sft:repos.mllmJax = (unset): is required. Fix: edit repos.mllmJax in Pulumi.train.yaml",
        'tpu-sft:repos.mllmjax = {"url":"https://github.com/demon2036/MLLM-JAX.git","commit":"03455fc"}: is not a known key (did you mean repos.mllmJax?). Fix: rename repos.mllmjax to repos.mllmJax in Pulumi.train.yaml',
    ],
    "train: unknown env key": [
        'tpu-sft:env.cuda = "12.4": is not a known key. Fix: pulumi config rm --path env.cuda --stack train (known keys of env: mode, condaEnv, python, jax, libtpu, minicondaUrl, jaxReleasesUrl, torchIndexUrl)',
    ],
    "train: misspelled bucket key": [
        "tpu-sft:bucket.noncurrentVersionsDays = 14: is not a known key (did you mean bucket.noncurrentVersionDays?). Fix: pulumi config rm --path bucket.noncurrentVersionsDays --stack train && pulumi config set --path bucket.noncurrentVersionDays 14 --stack train",
    ],
    "train: misspelled train key": [
        "tpu-sft:train.pollSecond = 30: is not a known key (did you mean train.pollSeconds?). Fix: pulumi config rm --path train.pollSecond --stack train && pulumi config set --path train.pollSeconds 30 --stack train",
    ],
    "train: misspelled run key": [
        "tpu-sft:train.runs[0].outputDir = (unset): is required. Fix: pulumi config set --path 'train.runs[0].outputDir' 'runs/<name>' --stack train",
        "tpu-sft:train.runs[0].outputdir = \"runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32\": is not a known key (did you mean train.runs[0].outputDir?). Fix: pulumi config rm --path 'train.runs[0].outputdir' --stack train && pulumi config set --path 'train.runs[0].outputDir' runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32 --stack train",
    ],
    "train: misspelled firewall key": [
        'tpu-sft:tpu.firewall.sourceRange = ["35.235.240.0/20"]: is not a known key (did you mean tpu.firewall.sourceRanges?). Fix: rename tpu.firewall.sourceRange to tpu.firewall.sourceRanges in Pulumi.train.yaml',
        "tpu-sft:tpu.firewall.sourceRanges = (unset): is required when target is gcp and tpu.firewall.create is true: the rule admits tcp:22 only from these ranges, and the program never opens 0.0.0.0/0 by itself. Fix: pulumi config set --path 'tpu.firewall.sourceRanges[0]' 203.0.113.0/24 --stack train with the range pulumi up connects from (35.235.240.0/20 is IAP's range, for SSH through IAP), or pulumi config set --path tpu.firewall.create false --stack train if a rule already admits port 22",
    ],
    "train: unknown wandb key": [
        'tpu-sft:wandb.project = "minionerec": is not a known key. Fix: pulumi config rm --path wandb.project --stack train (known keys of wandb: mode)',
    ],
    "train: tpu-sft:project used for the GCP project": [
        'tpu-sft:project = "my-proj": must be an object with enableServices, not a project ID (did you mean gcp:project?). Fix: pulumi config rm tpu-sft:project --stack train && pulumi config set gcp:project my-proj --stack train',
    ],
    "train: misspelled project key": [
        "tpu-sft:project.enableService = false: is not a known key (did you mean project.enableServices?). Fix: pulumi config rm --path project.enableService --stack train && pulumi config set --path project.enableServices false --stack train",
    ],
    "train: unknown accelerator size": [
        'tpu-sft:tpu.acceleratorType = "v6e-12": is not a known TPU accelerator type (known: v6e-1, v6e-4, v6e-8, v6e-16, v6e-32, v6e-64, v6e-128, v6e-256, v5litepod-1, v5litepod-4, v5litepod-8, v5litepod-16, v5litepod-32, v5litepod-64, v5litepod-128, v5litepod-256, v5p-8, v5p-16, v5p-32, v5p-64, v5p-128, v5p-256, v5p-512, v5p-1024, v5p-2048, v4-8, v4-16, v4-32, v4-64, v4-128, v4-256, v4-512, v4-1024, v4-2048, v4-4096). Fix: pulumi config set --path tpu.acceleratorType v6e-16 --stack train',
    ],
    "train: accelerator in upper case": [
        'tpu-sft:tpu.acceleratorType = "V6E-16": is not spelled as GCP spells it (did you mean v6e-16?). Fix: pulumi config set --path tpu.acceleratorType v6e-16 --stack train',
    ],
    "train: accelerator with '_'": [
        'tpu-sft:tpu.acceleratorType = "v6e_16": is not spelled as GCP spells it (did you mean v6e-16?). Fix: pulumi config set --path tpu.acceleratorType v6e-16 --stack train',
    ],
    "train: v5e by its marketing name": [
        'tpu-sft:tpu.acceleratorType = "v5e-16": is not spelled as GCP spells it (did you mean v5litepod-16?). Fix: pulumi config set --path tpu.acceleratorType v5litepod-16 --stack train',
    ],
    "train: accelerator of no known generation": [
        'tpu-sft:tpu.acceleratorType = "v7-16": is not a known TPU accelerator type (known: v6e-1, v6e-4, v6e-8, v6e-16, v6e-32, v6e-64, v6e-128, v6e-256, v5litepod-1, v5litepod-4, v5litepod-8, v5litepod-16, v5litepod-32, v5litepod-64, v5litepod-128, v5litepod-256, v5p-8, v5p-16, v5p-32, v5p-64, v5p-128, v5p-256, v5p-512, v5p-1024, v5p-2048, v4-8, v4-16, v4-32, v4-64, v4-128, v4-256, v4-512, v4-1024, v4-2048, v4-4096). Fix: pulumi config set --path tpu.acceleratorType v6e-16 --stack train',
    ],
    "train: zone without v6e": [
        'tpu-sft:tpu.zone = "us-central2-b": does not offer v6e TPUs (v6e zones: us-central1-b, us-east1-d, us-east5-a, us-east5-b, us-south1-a, us-south1-b, us-west1-c, europe-west4-a, asia-northeast1-b, southamerica-east1-c). Fix: pulumi config set --path tpu.zone us-central1-b --stack train, or pulumi config set --path tpu.skipZoneCheck true --stack train for a zone newer than this table',
    ],
    "train: malformed zone": [
        'tpu-sft:tpu.zone = "useast5b": must be a zone such as us-east5-b. Fix: pulumi config set --path tpu.zone us-east5-b --stack train',
    ],
    "train: both zone and zones": [
        'tpu-sft:tpu.zones = ["us-east5-b","us-east5-a"]: and tpu.zone are both set; set exactly one (tpu.zones lists fallback zones, first = preferred). Fix: pulumi config rm --path tpu.zone --stack train',
    ],
    "train: neither zone nor zones": [
        "tpu-sft:tpu.zone = (unset): is required: set tpu.zone, or tpu.zones for an ordered list of fallback zones. Fix: pulumi config set --path tpu.zone us-east5-b --stack train",
    ],
    "train: repeated fallback zone": [
        "tpu-sft:tpu.zones[2] = \"us-east5-b\": repeats tpu.zones[0]. Fix: pulumi config rm --path 'tpu.zones[2]' --stack train",
    ],
    "train: fallback zone without v6e": [
        "tpu-sft:tpu.zones[1] = \"us-west4-a\": does not offer v6e TPUs (v6e zones: us-central1-b, us-east1-d, us-east5-a, us-east5-b, us-south1-a, us-south1-b, us-west1-c, europe-west4-a, asia-northeast1-b, southamerica-east1-c). Fix: pulumi config set --path 'tpu.zones[1]' us-central1-b --stack train, or pulumi config set --path tpu.skipZoneCheck true --stack train for a zone newer than this table",
    ],
    "train: empty zone list": [
        "tpu-sft:tpu.zones = []: must list at least one zone. Fix: pulumi config set --path 'tpu.zones[0]' us-east5-b --stack train",
    ],
    "train: zone list as text": [
        'tpu-sft:tpu.zones = "[\\"us-east5-b\\"]": is the text of a list, not a list (pulumi config set --path stores text; set each item by index). Fix: pulumi config rm --path tpu.zones --stack train && pulumi config set --path \'tpu.zones[0]\' us-east5-b --stack train (one command per item), or edit tpu.zones in Pulumi.train.yaml',
    ],
    "train: active zone not in the list": [
        'tpu-sft:activeZone = "us-east1-d": is not one of tpu.zones (us-east5-b, us-east5-a). Fix: pulumi config set activeZone us-east5-b --stack train, or add us-east1-d to tpu.zones',
    ],
    "train: active zone other than the single zone": [
        'tpu-sft:activeZone = "us-east5-a": is not one of tpu.zone (us-east5-b). Fix: pulumi config rm tpu-sft:activeZone --stack train (with tpu.zone alone the slice runs there), or list both zones in tpu.zones',
    ],
    "train: skipZoneCheck not a boolean": [
        'tpu-sft:tpu.skipZoneCheck = "maybe": must be true or false (got a string). Fix: pulumi config set --path tpu.skipZoneCheck false --stack train',
    ],
    "train: runtime of another generation": [
        'tpu-sft:tpu.runtimeVersion = "v2-alpha-tpuv5-lite": is not a runtime for v6e (allowed: v6e-ubuntu-2404, v2-alpha-tpuv6e). Fix: pulumi config set --path tpu.runtimeVersion v6e-ubuntu-2404 --stack train',
    ],
    "train: malformed runtime": [
        'tpu-sft:tpu.runtimeVersion = "V6E Ubuntu": must be a TPU runtime version such as v2-alpha-tpuv6e. Fix: pulumi config set --path tpu.runtimeVersion v6e-ubuntu-2404 --stack train',
    ],
    "train: unknown provisioning": [
        'tpu-sft:tpu.provisioning = "cheap": must be one of spot, on-demand, reserved. Fix: pulumi config set --path tpu.provisioning spot --stack train',
    ],
    "train: provisioning in another spelling": [
        'tpu-sft:tpu.provisioning = "ondemand": must be one of spot, on-demand, reserved (did you mean on-demand?). Fix: pulumi config set --path tpu.provisioning on-demand --stack train',
    ],
    "train: VM name with upper case": [
        'tpu-sft:tpu.name = "My-VM": a TPU node name must start with a lowercase letter. Fix: pulumi config set --path tpu.name mllm-jax-v6e-16-sft --stack train',
    ],
    "train: VM name ending in '-'": [
        "tpu-sft:tpu.name = \"mllm-jax-\": a TPU node name must not end with '-'. Fix: pulumi config set --path tpu.name mllm-jax-v6e-16-sft --stack train",
    ],
    "train: VM name of 64 characters": [
        'tpu-sft:tpu.name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": a TPU node name must be 1-63 characters long (got 64). Fix: pulumi config set --path tpu.name mllm-jax-v6e-16-sft --stack train',
    ],
    "train: stack name that makes invalid default names": [
        "tpu-sft:tpu.serviceAccount.email = (unset): is unset, so the program creates an account named after the stack, \"tpu-sft-Train_1\", but a service account ID may use only lowercase letters, digits and '-'. Fix: create an account yourself and pulumi config set --path tpu.serviceAccount.email NAME@PROJECT.iam.gserviceaccount.com --stack Train_1, or use a shorter stack name",
        "tpu-sft:tpu.name = (unset): is unset, and the default derived from the stack name, \"mllm-jax-v6e-16-Train_1\", is not valid: a TPU node name may use only lowercase letters, digits and '-'. Fix: pulumi config set --path tpu.name mllm-jax-v6e-16-sft --stack Train_1",
    ],
    "train: adopt without a name": [
        "tpu-sft:tpu.name = (unset): must name the existing VM when tpu.adopt is true. Fix: pulumi config set --path tpu.name <existing-vm-name> --stack train",
    ],
    "train: adopt without a private key": [
        "tpu-sft:tpu.adopt = true: an adopted VM keeps its own metadata, so the program cannot install a generated SSH key on it. Fix: pulumi config set --secret tpu-sft:sshPrivateKey --stack train < key-file, and set ssh.publicKey to a key the VM already accepts",
    ],
    "train: external IPs not a boolean": [
        'tpu-sft:tpu.enableExternalIps = "maybe": must be true or false (got a string). Fix: pulumi config set --path tpu.enableExternalIps true --stack train',
    ],
    "train: osLogin not a boolean": [
        'tpu-sft:tpu.osLogin = "yes": must be true or false (got a string). Fix: pulumi config set --path tpu.osLogin false --stack train',
    ],
    "train: firewall without source ranges": [
        "tpu-sft:tpu.firewall.sourceRanges = []: is required when target is gcp and tpu.firewall.create is true: the rule admits tcp:22 only from these ranges, and the program never opens 0.0.0.0/0 by itself. Fix: pulumi config set --path 'tpu.firewall.sourceRanges[0]' 203.0.113.0/24 --stack train with the range pulumi up connects from (35.235.240.0/20 is IAP's range, for SSH through IAP), or pulumi config set --path tpu.firewall.create false --stack train if a rule already admits port 22",
    ],
    "train: no firewall section at all": [
        "tpu-sft:tpu.firewall.sourceRanges = (unset): is required when target is gcp and tpu.firewall.create is true: the rule admits tcp:22 only from these ranges, and the program never opens 0.0.0.0/0 by itself. Fix: pulumi config set --path 'tpu.firewall.sourceRanges[0]' 203.0.113.0/24 --stack train with the range pulumi up connects from (35.235.240.0/20 is IAP's range, for SSH through IAP), or pulumi config set --path tpu.firewall.create false --stack train if a rule already admits port 22",
    ],
    "train: IPv4 prefix too long": [
        "tpu-sft:tpu.firewall.sourceRanges[0] = \"203.0.113.0/33\": an IPv4 prefix length must be 0-32. Fix: pulumi config set --path 'tpu.firewall.sourceRanges[0]' 203.0.113.0/24 --stack train",
    ],
    "train: source range that is a host name": [
        "tpu-sft:tpu.firewall.sourceRanges[0] = \"my-laptop\": must be an IPv4 or IPv6 range in CIDR form, e.g. 203.0.113.0/24 or 2001:db8::/32. Fix: pulumi config set --path 'tpu.firewall.sourceRanges[0]' 203.0.113.0/24 --stack train",
    ],
    "train: repeated source range": [
        "tpu-sft:tpu.firewall.sourceRanges[1] = \"35.235.240.0/20\": repeats tpu.firewall.sourceRanges[0]. Fix: pulumi config rm --path 'tpu.firewall.sourceRanges[1]' --stack train",
    ],
    "train: firewall create not a boolean": [
        'tpu-sft:tpu.firewall.create = "no": must be true or false (got a string). Fix: pulumi config set --path tpu.firewall.create true --stack train',
    ],
    "train: source ranges as one string": [
        "tpu-sft:tpu.firewall.sourceRanges = \"35.235.240.0/20\": must be a list (got a string). Fix: pulumi config rm --path tpu.firewall.sourceRanges --stack train && pulumi config set --path 'tpu.firewall.sourceRanges[0]' 203.0.113.0/24 --stack train (one command per item), or edit tpu.firewall.sourceRanges in Pulumi.train.yaml",
    ],
    "train: service account that is not an email": [
        'tpu-sft:tpu.serviceAccount.email = "not-an-email": must be a service account email: NAME@PROJECT.iam.gserviceaccount.com, or the Compute Engine default NUMBER-compute@developer.gserviceaccount.com. Fix: pulumi config set --path tpu.serviceAccount.email tpu-sft@my-project.iam.gserviceaccount.com --stack train',
    ],
    "train: service account ID too short": [
        "tpu-sft:tpu.serviceAccount.email = \"abc@my-proj.iam.gserviceaccount.com\": the part before '@' must be 6-30 characters long (got 3). Fix: pulumi config set --path tpu.serviceAccount.email tpu-sft@my-project.iam.gserviceaccount.com --stack train",
    ],
    "train: service account create with an email": [
        "tpu-sft:tpu.serviceAccount.create = true: is true but an email is also given: the program either creates an account or uses the given one. Fix: pulumi config rm --path tpu.serviceAccount.create --stack train to use trainer@my-proj.iam.gserviceaccount.com, or pulumi config rm --path tpu.serviceAccount.email --stack train to create one",
    ],
    "train: empty scopes": [
        "tpu-sft:tpu.serviceAccount.scopes = []: must list at least one scope. Fix: pulumi config set --path 'tpu.serviceAccount.scopes[0]' https://www.googleapis.com/auth/cloud-platform --stack train",
    ],
    "train: scope that is not a URL": [
        "tpu-sft:tpu.serviceAccount.scopes[0] = \"cloud-platform\": must be an OAuth scope URL such as https://www.googleapis.com/auth/cloud-platform. Fix: pulumi config set --path 'tpu.serviceAccount.scopes[0]' https://www.googleapis.com/auth/cloud-platform --stack train",
    ],
    "train: label value with upper case": [
        "tpu-sft:tpu.labels.workload = \"SFT\": a label value may use only lowercase letters, digits, '_' and '-'. Fix: pulumi config set --path tpu.labels.workload minionerec-sid-sft --stack train",
    ],
    "train: label key starting with a digit": [
        'tpu-sft:tpu.labels.1team = "a": a label key must start with a lowercase letter. Fix: rename tpu.labels.1team in Pulumi.train.yaml (a label key must start with a lowercase letter)',
    ],
    "train: label the program sets": [
        'tpu-sft:tpu.labels.managed-by = "me": is a label this program sets on every resource it creates, so this value would be overwritten. Fix: pulumi config rm --path tpu.labels.managed-by --stack train',
    ],
    "train: label the provider sets": [
        'tpu-sft:tpu.labels.goog-pulumi-provisioned = "false": is a label the @pulumi/gcp provider sets on every resource it creates, so this value would be overwritten. Fix: pulumi config rm --path tpu.labels.goog-pulumi-provisioned --stack train',
    ],
    "train: 63 labels, 65 with the program's": [
        "tpu-sft:tpu.labels = (63 labels): has 63 labels; with the 2 the program and provider add (managed-by, goog-pulumi-provisioned) that is 65, over GCP's limit of 64. Fix: remove at least 1 labels from tpu.labels in Pulumi.train.yaml",
    ],
    "train: label value of 64 characters": [
        'tpu-sft:tpu.labels.workload = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": a label value must be at most 63 characters long (got 64). Fix: pulumi config set --path tpu.labels.workload minionerec-sid-sft --stack train',
    ],
    "train: network name with a space": [
        "tpu-sft:tpu.network = \"my net\": a network name may use only lowercase letters, digits and '-'. Fix: pulumi config set --path tpu.network default --stack train",
    ],
    "train: subnetwork path with a bad project": [
        'tpu-sft:tpu.subnetwork = "projects/P/regions/us-east5/subnetworks/tpu": has a project part that must be 6-30 characters long (got 1). Fix: pulumi config set --path tpu.subnetwork default --stack train',
    ],
    "train: SSH user with a quote": [
        "tpu-sft:ssh.user = \"root'; id\": must be a POSIX user name (lowercase letter or '_' first). Fix: pulumi config set --path ssh.user root --stack train",
    ],
    "train: public key that is not one line": [
        "tpu-sft:ssh.publicKey = \"ssh-ed25519 AAAA\\nssh-rsa BBBB\": must be one OpenSSH public key line (type, base64 key, optional comment). Fix: pulumi config set --path ssh.publicKey 'ssh-ed25519 AAAA... you@host' --stack train",
    ],
    "train: public key without the private key": [
        "tpu-sft:ssh.publicKey = (set): is set but the sshPrivateKey secret is not. Fix: pulumi config set --secret tpu-sft:sshPrivateKey --stack train < key-file, or pulumi config rm --path ssh.publicKey --stack train to let the program generate a key",
    ],
    "train: private key without the public key": [
        "tpu-sft:ssh.publicKey = (unset): must be set when the sshPrivateKey secret is given. Fix: pulumi config set --path ssh.publicKey 'ssh-ed25519 AAAA... you@host' --stack train",
    ],
    "train: dial error limit zero": [
        "tpu-sft:ssh.dialErrorLimit = 0: must be a whole number from 1 to 1000. Fix: pulumi config set --path ssh.dialErrorLimit 40 --stack train",
    ],
    "train: dial error limit in words": [
        'tpu-sft:ssh.dialErrorLimit = "forty": must be a whole number from 1 to 1000. Fix: pulumi config set --path ssh.dialErrorLimit 40 --stack train',
    ],
    "train: fractional dial timeout": [
        "tpu-sft:ssh.perDialTimeoutSeconds = 1.5: must be a whole number from 1 to 300. Fix: pulumi config set --path ssh.perDialTimeoutSeconds 15 --stack train",
    ],
    "train: branch instead of a commit": [
        'tpu-sft:repos.mllmJax.commit = "test": must be a commit SHA (7 to 40 hex digits), not a branch or tag. Fix: pulumi config set --path repos.mllmJax.commit 03455fc --stack train',
    ],
    "train: tag instead of a commit": [
        'tpu-sft:repos.miniOneRec.commit = "v1.0": must be a commit SHA (7 to 40 hex digits), not a branch or tag. Fix: pulumi config set --path repos.miniOneRec.commit 81b4ba9 --stack train',
    ],
    "train: empty repo URL": [
        'tpu-sft:repos.mllmJax.url = "": is empty. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train',
    ],
    "train: ext:: transport": [
        'tpu-sft:repos.mllmJax.url = "ext::sh -c touch% /tmp/pwned": uses a `<transport>::<address>` form (such as ext::), which can run commands. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train',
    ],
    "train: URL starting with '-'": [
        "tpu-sft:repos.mllmJax.url = \"--upload-pack=touch /tmp/pwned\": starts with '-', which git would read as an option. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train",
    ],
    "train: plain http URL": [
        'tpu-sft:repos.mllmJax.url = "http://github.com/demon2036/MLLM-JAX.git": uses http://; only https://, ssh:// and scp-style user@host:path are accepted. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train',
    ],
    "train: token in the URL": [
        'tpu-sft:repos.mllmJax.url = "https://ghp_token@github.com/demon2036/MLLM-JAX.git": embeds credentials, which would be stored in the Pulumi state and shown in logs; use a credential helper or a deploy key. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train',
    ],
    "train: git:// URL": [
        'tpu-sft:repos.miniOneRec.url = "git://github.com/AkaliKong/MiniOneRec.git": uses git://; only https://, ssh:// and scp-style user@host:path are accepted. Fix: pulumi config set --path repos.miniOneRec.url https://github.com/AkaliKong/MiniOneRec.git --stack train',
    ],
    "train: local path on gcp": [
        'tpu-sft:repos.mllmJax.url = "/srv/git/MLLM-JAX.git": is a local path, which only the local target (the rehearsal) can clone; TPU workers need an https, ssh or user@host:path URL. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train',
    ],
    "train: URL with a space": [
        'tpu-sft:repos.mllmJax.url = "https://github.com/demon2036/MLLM JAX.git": contains whitespace. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train',
    ],
    "train: URL with a newline": [
        'tpu-sft:repos.mllmJax.url = "https://github.com/x.git\\nid": contains a control character. Fix: pulumi config set --path repos.mllmJax.url https://github.com/demon2036/MLLM-JAX.git --stack train',
    ],
    "train: MiniOneRec repo missing": [
        "tpu-sft:repos.miniOneRec = (unset): is required. Fix: edit repos.miniOneRec in Pulumi.train.yaml",
    ],
    "train: unknown env mode": [
        'tpu-sft:env.mode = "docker": must be one of conda, system-python. Fix: pulumi config set --path env.mode conda --stack train',
    ],
    "train: jax version range": [
        'tpu-sft:env.jax = ">=0.9": must be an exact version such as 0.9.0 (no range). Fix: pulumi config set --path env.jax 0.9.0 --stack train',
    ],
    "train: python major only": [
        'tpu-sft:env.python = "3": must be a Python minor version such as 3.12. Fix: pulumi config set --path env.python 3.12 --stack train',
    ],
    "train: python version as an unquoted YAML number": [
        "tpu-sft:env.python = 3.1: must be text, not the number 3.1 (quote it in Pulumi.train.yaml). Fix: pulumi config set --path env.python 3.12 --stack train",
    ],
    "train: conda env name with a space": [
        "tpu-sft:env.condaEnv = \"mllm jax\": must be a conda env name: 1-64 letters, digits, '_', '.' or '-', not starting with '-' or '.', and not base. Fix: pulumi config set --path env.condaEnv mllm-jax --stack train",
    ],
    "train: conda env name starting with '-'": [
        "tpu-sft:env.condaEnv = \"-n\": must be a conda env name: 1-64 letters, digits, '_', '.' or '-', not starting with '-' or '.', and not base. Fix: pulumi config set --path env.condaEnv mllm-jax --stack train",
    ],
    "train: conda base env": [
        "tpu-sft:env.condaEnv = \"base\": must be a conda env name: 1-64 letters, digits, '_', '.' or '-', not starting with '-' or '.', and not base. Fix: pulumi config set --path env.condaEnv mllm-jax --stack train",
    ],
    "train: libtpu not pinned": [
        'tpu-sft:env.libtpu = "latest": must be an exact version such as 0.9.0 (no range). Fix: pulumi config set --path env.libtpu 0.0.34 --stack train',
    ],
    "train: Miniconda over http": [
        'tpu-sft:env.minicondaUrl = "http://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh": must be an https:// URL. Fix: pulumi config set --path env.minicondaUrl https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh --stack train',
    ],
    "train: invalid bucket name": [
        "tpu-sft:bucket.name = \"My_Bucket\": may use only lowercase letters, digits, '-', '_' and '.'. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train",
    ],
    "train: bucket name too short": [
        'tpu-sft:bucket.name = "ab": must be 3-63 characters long (up to 222 when it contains dots) (got 2). Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train',
    ],
    "train: bucket name with google": [
        "tpu-sft:bucket.name = \"my-google-ckpts\": must not contain 'google' or a close misspelling of it. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train",
    ],
    "train: bucket name starting with goog": [
        "tpu-sft:bucket.name = \"goog-ckpts\": must not start with 'goog'. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train",
    ],
    "train: bucket name with a misspelled google": [
        "tpu-sft:bucket.name = \"ckpts-g00gle\": must not contain 'google' or a close misspelling of it. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train",
    ],
    "train: bucket name that is an IP address": [
        'tpu-sft:bucket.name = "192.168.5.4": must not be an IP address in dotted-decimal form. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train',
    ],
    "train: dotted bucket name with a 64-character part": [
        'tpu-sft:bucket.name = "ckpts.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com": has a dot-separated part longer than 63 characters (64). Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train',
    ],
    "train: bucket name starting with '-'": [
        'tpu-sft:bucket.name = "-ckpts": must start and end with a letter or digit. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train',
    ],
    "train: unknown bucket location": [
        'tpu-sft:bucket.location = "mars-north1": is not a Cloud Storage location this program knows (a multi-region, a dual-region, or a region with TPUs). Fix: pulumi config set --path bucket.location US-EAST5 --stack train',
    ],
    "train: bucket prefix with a leading slash": [
        "tpu-sft:bucket.prefix = \"/ckpt\": must be object-name segments without leading, trailing or repeated '/'. Fix: pulumi config set --path bucket.prefix sft_match_official --stack train",
    ],
    "train: bucket prefix with '..'": [
        "tpu-sft:bucket.prefix = \"a/../b\": must not contain '.' or '..' segments. Fix: pulumi config set --path bucket.prefix sft_match_official --stack train",
    ],
    "train: noncurrent versions kept 0 days": [
        "tpu-sft:bucket.noncurrentVersionDays = 0: must be a whole number from 1 to 3650. Fix: pulumi config set --path bucket.noncurrentVersionDays 7 --stack train",
    ],
    "train: noncurrent versions kept 10 years": [
        "tpu-sft:bucket.noncurrentVersionDays = 3651: must be a whole number from 1 to 3650. Fix: pulumi config set --path bucket.noncurrentVersionDays 7 --stack train",
    ],
    "train: fractional days as text": [
        'tpu-sft:bucket.noncurrentVersionDays = "7.5": must be a whole number from 1 to 3650. Fix: pulumi config set --path bucket.noncurrentVersionDays 7 --stack train',
    ],
    "train: NaN days as text": [
        'tpu-sft:bucket.noncurrentVersionDays = "NaN": must be a whole number from 1 to 3650. Fix: pulumi config set --path bucket.noncurrentVersionDays 7 --stack train',
    ],
    "train: W&B mode unknown": [
        'tpu-sft:wandb.mode = "cloud": must be one of online, offline, disabled. Fix: pulumi config set --path wandb.mode online --stack train',
    ],
    "train: W&B online without a key": [
        "tpu-sft:wandbApiKey = (unset): W&B mode is online but the API key secret is not set. Fix: pulumi config set --secret tpu-sft:wandbApiKey <key> --stack train, or pulumi config set --path wandb.mode disabled --stack train",
    ],
    "train: W&B key stored in plain text": [
        "tpu-sft:wandbApiKey = (set, in plain text): is stored in plain text in the stack's config file; it must be a Pulumi secret. Fix: pulumi config set --secret tpu-sft:wandbApiKey <key> --stack train",
    ],
    "train: a non-secret key stored as a secret": [
        "tpu-sft:bucket = (secret): holds a secret, but only wandbApiKey and sshPrivateKey may be secrets (the program would copy this value into plain resource inputs and outputs). Fix: set the value given with --secret again without it (pulumi config set --path 'bucket.<key>' <value> --stack train)",
    ],
    "train: no runs": [
        "tpu-sft:train.runs = []: must list at least one run. Fix: edit train.runs in Pulumi.train.yaml",
    ],
    "train: duplicate run names": [
        "tpu-sft:train.runs[1].name = \"office\": repeats train.runs[0].name. Fix: pulumi config set --path 'train.runs[1].name' <another-name> --stack train",
    ],
    "train: run name with upper case": [
        "tpu-sft:train.runs[0].name = \"Office\": must be 1-31 lowercase letters, digits or '-', starting with a letter and not ending with '-'. Fix: pulumi config set --path 'train.runs[0].name' office --stack train",
    ],
    "train: run name ending in '-'": [
        "tpu-sft:train.runs[0].name = \"office-\": must be 1-31 lowercase letters, digits or '-', starting with a letter and not ending with '-'. Fix: pulumi config set --path 'train.runs[0].name' office --stack train",
    ],
    "train: config that is not YAML": [
        "tpu-sft:train.runs[0].config = \"projects/x/config.json\": must name a .yaml file. Fix: pulumi config set --path 'train.runs[0].config' 'projects/minionerec/sft/configs/<name>.yaml' --stack train",
    ],
    "train: absolute config path": [
        "tpu-sft:train.runs[0].config = \"/etc/passwd.yaml\": must be relative to the MLLM-JAX checkout, not an absolute path. Fix: pulumi config set --path 'train.runs[0].config' 'projects/minionerec/sft/configs/<name>.yaml' --stack train",
    ],
    "train: output dir escaping the checkout": [
        "tpu-sft:train.runs[0].outputDir = \"runs/../../etc\": leaves the MLLM-JAX checkout ('..' above its root). Fix: pulumi config set --path 'train.runs[0].outputDir' 'runs/<name>' --stack train",
    ],
    "train: output dir that is the checkout": [
        "tpu-sft:train.runs[0].outputDir = \"./\": names the checkout itself, not a path inside it. Fix: pulumi config set --path 'train.runs[0].outputDir' 'runs/<name>' --stack train",
    ],
    "train: output dirs equal after normalization": [
        "tpu-sft:train.runs[1].outputDir = \"runs/./shared\": is the same directory as train.runs[0].outputDir (runs/shared and runs/shared after normalization); each run needs its own output directory. Fix: pulumi config set --path 'train.runs[1].outputDir' 'runs/<another-dir>' --stack train",
    ],
    "train: output dirs equal after '//' and '..'": [
        "tpu-sft:train.runs[1].outputDir = \"runs/b/../a\": is the same directory as train.runs[0].outputDir (runs/a and runs/a after normalization); each run needs its own output directory. Fix: pulumi config set --path 'train.runs[1].outputDir' 'runs/<another-dir>' --stack train",
    ],
    "train: one output dir inside another": [
        "tpu-sft:train.runs[1].outputDir = \"runs/a/b\": lies inside train.runs[0].outputDir (runs/a and runs/a/b after normalization); each run needs its own output directory. Fix: pulumi config set --path 'train.runs[1].outputDir' 'runs/<another-dir>' --stack train",
    ],
    "train: the same YAML for two runs": [
        "tpu-sft:train.runs[1].config = \"projects/minionerec/sft/configs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32.yaml\": is the same YAML as train.runs[0].config, so both runs would write its one output_dir. Fix: pulumi config set --path 'train.runs[1].config' 'projects/minionerec/sft/configs/<name>.yaml' --stack train",
    ],
    "train: unknown checkpoint kind": [
        "tpu-sft:train.runs[0].checkpoints[0] = \"final\": must be one of best, last. Fix: pulumi config set --path 'train.runs[0].checkpoints[0]' best --stack train",
    ],
    "train: no checkpoints to hand off": [
        "tpu-sft:train.runs[0].checkpoints = []: must list at least one of best, last. Fix: pulumi config set --path 'train.runs[0].checkpoints[0]' best --stack train",
    ],
    "train: repeated checkpoint kind": [
        "tpu-sft:train.runs[1].checkpoints[1] = \"last\": repeats checkpoints[0]. Fix: pulumi config rm --path 'train.runs[1].checkpoints[1]' --stack train",
    ],
    "train: poll interval zero": [
        "tpu-sft:train.pollSeconds = 0: must be a whole number from 1 to 3600. Fix: pulumi config set --path train.pollSeconds 60 --stack train",
    ],
    "train: max attempts zero": [
        "tpu-sft:train.maxAttempts = 0: must be a whole number from 1 to 20. Fix: pulumi config set --path train.maxAttempts 2 --stack train",
    ],
    "train: max recoveries negative": [
        "tpu-sft:supervisor.maxRecoveries = -1: must be a whole number from 0 to 100. Fix: pulumi config set --path supervisor.maxRecoveries 6 --stack train",
    ],
    "train: backoff in words": [
        'tpu-sft:supervisor.backoffSeconds = "a minute": must be a whole number from 0 to 3600. Fix: pulumi config set --path supervisor.backoffSeconds 30 --stack train',
    ],
    "train: misspelled supervisor key": [
        "tpu-sft:supervisor.maxRecovery = 3: is not a known key (did you mean supervisor.maxRecoveries?). Fix: pulumi config rm --path supervisor.maxRecovery --stack train && pulumi config set --path supervisor.maxRecoveries 3 --stack train",
    ],
    "train: on-demand price zero": [
        "tpu-sft:tpu.prices.onDemandPerChipHour = 0: must be a price in USD per chip-hour above 0 and at most 1000. Fix: pulumi config set --path tpu.prices.onDemandPerChipHour 2.7 --stack train",
    ],
    "train: spot price with a currency sign": [
        'tpu-sft:tpu.prices.spotPerChipHour = "$1.2": must be a price in USD per chip-hour, e.g. 2.7. Fix: pulumi config set --path tpu.prices.spotPerChipHour 1.0 --stack train',
    ],
    "train: time limit in words": [
        'tpu-sft:train.timeLimitMinutes = "a day": must be a whole number from 1 to 10080. Fix: pulumi config set --path train.timeLimitMinutes 720 --stack train',
    ],
    "train: time limit Infinity (JSON 1e999)": [
        "tpu-sft:train.timeLimitMinutes = Infinity: must be a whole number from 1 to 10080. Fix: pulumi config set --path train.timeLimitMinutes 720 --stack train",
    ],
    "train: poll interval as long as the time limit": [
        "tpu-sft:train.pollSeconds = 60: is not shorter than the time limit of 60 s (train.timeLimitMinutes 1). Fix: pulumi config set --path train.pollSeconds 6 --stack train, or raise the limit: pulumi config set --path train.timeLimitMinutes 60 --stack train",
    ],
    "train: poll plus grace longer than the time limit": [
        "tpu-sft:train.graceSeconds = 30: plus train.pollSeconds (50) is 80 s, longer than the time limit of 60 s (train.timeLimitMinutes 1). Fix: pulumi config set --path train.graceSeconds 5 --stack train, or raise the limit: pulumi config set --path train.timeLimitMinutes 60 --stack train",
    ],
    "train: progress interval longer than the time limit": [
        "tpu-sft:train.progressSeconds = 180: is longer than the time limit of 120 s (train.timeLimitMinutes 2), so no progress line would ever be printed. Fix: pulumi config set --path train.progressSeconds 30 --stack train, or raise the limit: pulumi config set --path train.timeLimitMinutes 60 --stack train",
    ],
    "train: negative grace": [
        "tpu-sft:train.graceSeconds = -1: must be a whole number from 0 to 3600. Fix: pulumi config set --path train.graceSeconds 30 --stack train",
    ],
    "train: local target without hosts": [
        "tpu-sft:local = (unset): must list the hosts and the storage endpoint when target is local. Fix: pulumi config set --path 'local.hosts[0].host' 10.0.0.2 --stack train",
    ],
    "train: local target with one host for four workers": [
        'tpu-sft:local.hosts = [{"host":"10.9.0.2"}]: lists 1 host but v6e-16 has 4. Fix: list exactly 4 hosts under local.hosts, one per worker, in Pulumi.train.yaml',
    ],
    "train: local section on the gcp target": [
        'tpu-sft:local = {"hosts":[{"host":"10.9.0.2"},{"host":"10.9.0.3"},{"host":"10.9.0.4"},{"host":"10.9.0.5"}],"storageEndpoint":"http://10.9.0.1:4443"}: is only read when target is local, and this stack\'s target is gcp. Fix: pulumi config rm tpu-sft:local --stack train',
    ],
    "train: local host that ssh would read as an option": [
        "tpu-sft:local.hosts[3].host = \"-oProxyCommand=id\": must be an IP address or a host name (letters, digits, '-' and '.'). Fix: pulumi config set --path 'local.hosts[3].host' 10.0.0.2 --stack train",
    ],
    "train: local storage endpoint over ftp": [
        'tpu-sft:local.storageEndpoint = "ftp://10.9.0.1:4443": must be an http:// or https:// URL. Fix: pulumi config set --path local.storageEndpoint http://10.0.0.1:4443 --stack train',
    ],
    "train: local port out of range": [
        "tpu-sft:local.hosts[3].port = 70000: must be a whole number from 1 to 65535. Fix: pulumi config set --path 'local.hosts[3].port' 22 --stack train",
    ],
    "train: eval section on a train stack": [
        'tpu-sft:eval = {"runs":[]}: is only read by an eval stack, and this stack\'s role is train. Fix: pulumi config rm tpu-sft:eval --stack train',
    ],
    "train: no train section": [
        "tpu-sft:train = (unset): is required for a train stack (role train). Fix: add a train section with runs (see Pulumi.train.yaml in the repository)",
    ],
    "train: no tpu section": ["tpu-sft:tpu = (unset): is required. Fix: edit tpu in Pulumi.train.yaml"],
    "train: tpu set to a string": [
        'tpu-sft:tpu = "v6e-16": must be an object of keys (got a string). Fix: set its keys with --path (e.g. pulumi config set --path tpu.name <value> --stack train), or edit tpu in Pulumi.train.yaml',
    ],
    "train: many problems at once": [
        "gcp:project = (unset): the GCP project is not set (it is never hard-coded). Fix: pulumi config set gcp:project <your-project-id> --stack train",
        'tpu-sft:tpu.name = "x": is a nested key set without --path, so it is one key named "tpu.name" that the program never reads. Fix: pulumi config rm tpu-sft:tpu.name --stack train && pulumi config set --path tpu.name x --stack train',
        'tpu-sft:tpu.provisoning = "on-demand": is not a known key (did you mean tpu.provisioning?). Fix: pulumi config rm --path tpu.provisoning --stack train && pulumi config set --path tpu.provisioning on-demand --stack train',
        'tpu-sft:bucket.name = "-bad": must start and end with a letter or digit. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train',
        'tpu-sft:train.pollSeconds = "NaN": must be a whole number from 1 to 3600. Fix: pulumi config set --path train.pollSeconds 60 --stack train',
        'tpu-sft:tpu.zone = "europe-west9-z": does not offer v6e TPUs (v6e zones: us-central1-b, us-east1-d, us-east5-a, us-east5-b, us-south1-a, us-south1-b, us-west1-c, europe-west4-a, asia-northeast1-b, southamerica-east1-c). Fix: pulumi config set --path tpu.zone us-central1-b --stack train, or pulumi config set --path tpu.skipZoneCheck true --stack train for a zone newer than this table',
        'tpu-sft:tpu.runtimeVersion = "nope": is not a runtime for v6e (allowed: v6e-ubuntu-2404, v2-alpha-tpuv6e). Fix: pulumi config set --path tpu.runtimeVersion v6e-ubuntu-2404 --stack train',
        "tpu-sft:wandbApiKey = (unset): W&B mode is online but the API key secret is not set. Fix: pulumi config set --secret tpu-sft:wandbApiKey <key> --stack train, or pulumi config set --path wandb.mode disabled --stack train",
        "tpu-sft:train.runs[1].outputDir = \"runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32/\": is the same directory as train.runs[0].outputDir (runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32 and runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32 after normalization); each run needs its own output directory. Fix: pulumi config set --path 'train.runs[1].outputDir' 'runs/<another-dir>' --stack train",
    ],
    "eval: multi-host accelerator": [
        'tpu-sft:tpu.acceleratorType = "v6e-16": spans 4 hosts, but the eval stack runs on a single host (single-host v6e types: v6e-1, v6e-4, v6e-8). Fix: pulumi config set --path tpu.acceleratorType v6e-8 --stack eval',
    ],
    "eval: zone without v6e": [
        'tpu-sft:tpu.zone = "us-central2-b": does not offer v6e TPUs (v6e zones: us-central1-b, us-east1-d, us-east5-a, us-east5-b, us-south1-a, us-south1-b, us-west1-c, europe-west4-a, asia-northeast1-b, southamerica-east1-c). Fix: pulumi config set --path tpu.zone us-central1-b --stack eval, or pulumi config set --path tpu.skipZoneCheck true --stack eval for a zone newer than this table',
    ],
    "eval: no eval section": [
        "tpu-sft:eval = (unset): is required for an eval stack (role eval). Fix: add an eval section with runs (see Pulumi.eval.yaml in the repository)",
    ],
    "eval: train section on an eval stack": [
        'tpu-sft:train = {"runs":[]}: is only read by a train stack, and this stack\'s role is eval. Fix: pulumi config rm tpu-sft:train --stack eval',
    ],
    "eval: K list not increasing": [
        "tpu-sft:eval.runs[0].topk = [1,5,3]: is not a K list calc.py prints: calc.py prints a non-empty prefix of [1, 3, 5, 10, 20, 50] (every K up to the beam count). Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
    ],
    "eval: K beyond what calc.py prints": [
        "tpu-sft:eval.runs[0].topk[6] = 100: must be a whole number from 1 to 50. Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
        "tpu-sft:eval.runs[0].topk = [1,3,5,10,20,50,100]: is not a K list calc.py prints: calc.py prints a non-empty prefix of [1, 3, 5, 10, 20, 50] (every K up to the beam count). Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
    ],
    "eval: K list with zero": [
        "tpu-sft:eval.runs[0].topk[0] = 0: must be a whole number from 1 to 50. Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
        "tpu-sft:eval.runs[0].topk = [0,1]: is not a K list calc.py prints: calc.py prints a non-empty prefix of [1, 3, 5, 10, 20, 50] (every K up to the beam count). Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
    ],
    "eval: empty K list": [
        "tpu-sft:eval.runs[0].topk = []: is not a K list calc.py prints: calc.py prints a non-empty prefix of [1, 3, 5, 10, 20, 50] (every K up to the beam count). Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
    ],
    "eval: K list calc.py never prints": [
        "tpu-sft:eval.runs[1].topk = [1,2,3]: is not a K list calc.py prints: calc.py prints a non-empty prefix of [1, 3, 5, 10, 20, 50] (every K up to the beam count). Fix: set eval.runs[1].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
    ],
    "eval: K list as text": [
        "tpu-sft:eval.runs[0].topk = \"[1,3,5]\": is the text of a list, not a list (pulumi config set --path stores text; set each item by index). Fix: pulumi config rm --path 'eval.runs[0].topk' --stack eval && pulumi config set --path 'eval.runs[0].topk[0]' 1 --stack eval (one command per item), or edit eval.runs[0].topk in Pulumi.eval.yaml",
    ],
    "eval: fractional K": [
        "tpu-sft:eval.runs[0].topk[1] = 3.5: must be a whole number from 1 to 50. Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
        "tpu-sft:eval.runs[0].topk = [1,3.5]: is not a K list calc.py prints: calc.py prints a non-empty prefix of [1, 3, 5, 10, 20, 50] (every K up to the beam count). Fix: set eval.runs[0].topk to [1, 3, 5, 10, 20, 50] or a prefix of it, in Pulumi.eval.yaml",
    ],
    "eval: unknown checkpoint kind": [
        "tpu-sft:eval.runs[0].checkpoint = \"final\": must be one of best, last. Fix: pulumi config set --path 'eval.runs[0].checkpoint' best --stack eval",
    ],
    "eval: both checkpoint sources": [
        'tpu-sft:eval.trainStack = "organization/tpu-sft/train": and eval.checkpoints are both set; choose one source of checkpoints. Fix: keep one of eval.trainStack, eval.checkpoints (with none of them, eval reads the train stack\'s handoff manifests) and remove the others with pulumi config rm --path',
    ],
    "eval: handoff manifests and a train stack": [
        'tpu-sft:eval.trainStack = "organization/tpu-sft/train": and eval.handoff are both set; choose one source of checkpoints. Fix: keep one of eval.trainStack, eval.handoff (with none of them, eval reads the train stack\'s handoff manifests) and remove the others with pulumi config rm --path',
    ],
    "eval: handoff prefix with '..'": [
        "tpu-sft:eval.handoff.prefix = \"a/../b\": must be an object prefix such as sft_match_official (no empty, '.' or '..' parts). Fix: pulumi config set --path eval.handoff.prefix sft_match_official --stack eval",
    ],
    "eval: train stack name with a space": [
        'tpu-sft:eval.trainStack = "my train": must be a stack name such as organization/tpu-sft/train. Fix: pulumi config set --path eval.trainStack organization/tpu-sft/train --stack eval',
    ],
    "eval: train stack name starting with '-'": [
        'tpu-sft:eval.trainStack = "-org/tpu-sft/train": must be a stack name such as organization/tpu-sft/train. Fix: pulumi config set --path eval.trainStack organization/tpu-sft/train --stack eval',
    ],
    "eval: duplicate eval output dirs": [
        "tpu-sft:eval.runs[1].outputDir = \"runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32\": is the same directory as eval.runs[0].outputDir (runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32 and runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32 after normalization); each run needs its own output directory. Fix: pulumi config set --path 'eval.runs[1].outputDir' 'runs/<another-dir>' --stack eval",
    ],
    "eval: eval output dirs equal after normalization": [
        "tpu-sft:eval.runs[1].outputDir = \"./runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32//\": is the same directory as eval.runs[0].outputDir (runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32 and runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32 after normalization); each run needs its own output directory. Fix: pulumi config set --path 'eval.runs[1].outputDir' 'runs/<another-dir>' --stack eval",
    ],
    "eval: item file escaping the checkout": [
        "tpu-sft:eval.runs[0].itemFile = \"../info.txt\": leaves the MLLM-JAX checkout ('..' above its root). Fix: pulumi config set --path 'eval.runs[0].itemFile' workdir/MiniOneRec/data/Amazon/info/Office_Products_5_2016-10-2018-11.txt --stack eval",
    ],
    "eval: item file calc.py cannot open": [
        "tpu-sft:eval.runs[0].itemFile = \"workdir/MiniOneRec/data/Amazon/info/Office.csv\": must name a .txt file (calc.py cuts a trailing .txt and opens <path>.txt, so any other name is a different file). Fix: pulumi config set --path 'eval.runs[0].itemFile' workdir/MiniOneRec/data/Amazon/info/Office_Products_5_2016-10-2018-11.txt --stack eval",
    ],
    "eval: absolute item file": [
        "tpu-sft:eval.runs[0].itemFile = \"/root/info.txt\": must be relative to the MLLM-JAX checkout, not an absolute path. Fix: pulumi config set --path 'eval.runs[0].itemFile' workdir/MiniOneRec/data/Amazon/info/Office_Products_5_2016-10-2018-11.txt --stack eval",
    ],
    "eval: W&B online without a key": [
        "tpu-sft:wandbApiKey = (unset): W&B mode is online but the API key secret is not set. Fix: pulumi config set --secret tpu-sft:wandbApiKey <key> --stack eval, or pulumi config set --path wandb.mode disabled --stack eval",
    ],
    "eval: SSH private key stored in plain text": [
        "tpu-sft:sshPrivateKey = (set, in plain text): is stored in plain text in the stack's config file; it must be a Pulumi secret. Fix: pulumi config set --secret tpu-sft:sshPrivateKey --stack eval < key-file",
    ],
    "eval: explicit checkpoints miss a run's kind": [
        "tpu-sft:eval.runs[1].trainRun = \"industrial\": has no 'last' checkpoint under eval.checkpoints. Fix: pulumi config set --path eval.checkpoints.industrial.last.uri gs://my-bucket/sft_match_official/industrial/sft_state_last.msgpack --stack eval",
    ],
    "eval: explicit checkpoint with an s3 URI and a bad crc32c": [
        'tpu-sft:eval.checkpoints.office.best.uri = "s3://b/x.msgpack": must be a gs:// URI of a .msgpack checkpoint. Fix: pulumi config set --path eval.checkpoints.office.best.uri gs://my-bucket/sft_match_official/office/sft_state_best.msgpack --stack eval',
        "tpu-sft:eval.checkpoints.office.best.crc32c = \"abc\": must be a base64 crc32c as GCS reports it, e.g. 'IcOvzQ=='. Fix: pulumi config set --path eval.checkpoints.office.best.crc32c IcOvzQ== --stack eval",
    ],
    "eval: explicit checkpoint sizes": [
        "tpu-sft:eval.checkpoints.office.best.size = 0: must be a whole number from 1 to 9007199254740991. Fix: pulumi config set --path eval.checkpoints.office.best.size <bytes> --stack eval",
        "tpu-sft:eval.checkpoints.industrial.last.size = 1.5: must be a whole number from 1 to 9007199254740991. Fix: pulumi config set --path eval.checkpoints.industrial.last.size <bytes> --stack eval",
    ],
    "eval: explicit checkpoint under a bad run name": [
        'tpu-sft:eval.checkpoints.Office = {"best":{"uri":"gs://bkt/p/sft_state_best.msgpack","crc32c":"IcOvzQ==","size":5}}: a run name must be 1-31 lowercase letters, digits or \'-\', starting with a letter. Fix: rename eval.checkpoints.Office in Pulumi.eval.yaml (a run name must be 1-31 lowercase letters, digits or \'-\', starting with a letter)',
    ],
    "eval: explicit checkpoint of an unknown kind": [
        'tpu-sft:eval.checkpoints.industrial.lats = {"uri":"gs://bkt/p/sft_state_last.msgpack","crc32c":"IcOvzQ==","size":5}: is not a known key (did you mean eval.checkpoints.industrial.last?). Fix: rename eval.checkpoints.industrial.lats to eval.checkpoints.industrial.last in Pulumi.eval.yaml',
    ],
    "eval: explicit checkpoint in a bucket named like google": [
        "tpu-sft:eval.checkpoints.office.best.uri = \"gs://google-ckpt/p/sft_state_best.msgpack\": names a bucket that must not start with 'goog'. Fix: pulumi config set --path eval.checkpoints.office.best.uri gs://my-bucket/sft_match_official/office/sft_state_best.msgpack --stack eval",
    ],
    "eval: eval poll interval past the time limit": [
        "tpu-sft:eval.pollSeconds = 90: is not shorter than the time limit of 60 s (eval.timeLimitMinutes 1). Fix: pulumi config set --path eval.pollSeconds 6 --stack eval, or raise the limit: pulumi config set --path eval.timeLimitMinutes 60 --stack eval",
    ],
    "eval: eval grace too long": [
        "tpu-sft:eval.graceSeconds = 100: plus eval.pollSeconds (30) is 130 s, longer than the time limit of 120 s (eval.timeLimitMinutes 2). Fix: pulumi config set --path eval.graceSeconds 45 --stack eval, or raise the limit: pulumi config set --path eval.timeLimitMinutes 60 --stack eval",
    ],
    "eval: misspelled topk key": [
        "tpu-sft:eval.runs[0].topK = [1,3,5,10,20,50]: is not a known key (did you mean eval.runs[0].topk?). Fix: rename eval.runs[0].topK to eval.runs[0].topk in Pulumi.eval.yaml",
    ],
    "eval: train run name with upper case": [
        "tpu-sft:eval.runs[0].trainRun = \"Office\": must be 1-31 lowercase letters, digits or '-', starting with a letter and not ending with '-'. Fix: pulumi config set --path 'eval.runs[0].trainRun' office --stack eval",
    ],
    "eval: requireZeroInvalid not a boolean": [
        'tpu-sft:eval.requireZeroInvalid = "yes": must be true or false (got a string). Fix: pulumi config set --path eval.requireZeroInvalid true --stack eval',
    ],
    "eval: no eval runs": [
        "tpu-sft:eval.runs = []: must list at least one run. Fix: edit eval.runs in Pulumi.eval.yaml",
    ],
    "eval: duplicate eval run names": [
        "tpu-sft:eval.runs[1].name = \"office\": repeats eval.runs[0].name. Fix: pulumi config set --path 'eval.runs[1].name' <another-name> --stack eval",
    ],
    "eval: the same eval YAML twice": [
        "tpu-sft:eval.runs[1].config = \"projects/minionerec/sft/configs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_eval_from_best_rightpad_mu_fp32.yaml\": is the same YAML as eval.runs[0].config, so both runs would write its one output_dir. Fix: pulumi config set --path 'eval.runs[1].config' 'projects/minionerec/sft/configs/<name>.yaml' --stack eval",
    ],
    "eval: local target with two hosts for one worker": [
        'tpu-sft:local.hosts = [{"host":"10.9.0.2"},{"host":"10.9.0.3"}]: lists 2 hosts but v6e-8 has 1. Fix: list exactly 1 host under local.hosts, one per worker, in Pulumi.eval.yaml',
    ],
    "eval: misspelled top-level eval key": [
        "tpu-sft:evall = {}: is not a known key (did you mean eval?). Fix: rename tpu-sft:evall to tpu-sft:eval in Pulumi.eval.yaml",
    ],
    "eval: eval key set without --path": [
        'tpu-sft:eval.trainStack = "org/tpu-sft/train": is a nested key set without --path, so it is one key named "eval.trainStack" that the program never reads. Fix: pulumi config rm tpu-sft:eval.trainStack --stack eval && pulumi config set --path eval.trainStack org/tpu-sft/train --stack eval',
    ],
    "eval: accelerator with a trailing space": [
        'tpu-sft:tpu.acceleratorType = "v6e-8 ": is not spelled as GCP spells it (did you mean v6e-8?). Fix: pulumi config set --path tpu.acceleratorType v6e-8 --stack eval',
    ],
    "eval: v5e multi-host slice with the v6e runtime in a v6e-only zone": [
        'tpu-sft:tpu.zone = "europe-west4-a": does not offer v5e TPUs (v5e zones: us-central1-a, us-south1-a, us-west1-c, us-west4-a, us-east1-c, us-east5-a, us-east5-b, europe-west4-b, asia-southeast1-b). Fix: pulumi config set --path tpu.zone us-central1-a --stack eval, or pulumi config set --path tpu.skipZoneCheck true --stack eval for a zone newer than this table',
        'tpu-sft:tpu.runtimeVersion = "v6e-ubuntu-2404": is not a runtime for v5e (allowed: v2-alpha-tpuv5-lite, tpu-ubuntu2204-base). Fix: pulumi config set --path tpu.runtimeVersion v2-alpha-tpuv5-lite --stack eval',
        'tpu-sft:tpu.acceleratorType = "v5litepod-16": spans 4 hosts, but the eval stack runs on a single host (single-host v5e types: v5litepod-1, v5litepod-4, v5litepod-8). Fix: pulumi config set --path tpu.acceleratorType v5litepod-8 --stack eval',
    ],
    "eval: fallback zones for eval with a bad active zone": [
        'tpu-sft:activeZone = "us-east5-a": is not one of tpu.zones (europe-west4-a, us-east5-b). Fix: pulumi config set activeZone europe-west4-a --stack eval, or add us-east5-a to tpu.zones',
    ],
    "eval: bucket name derived from a project containing google is refused by GCP": [
        "tpu-sft:bucket.name = (unset): is unset, and the default derived from gcp:project, \"google-fan-123-mllm-jax-artifacts\", is not a valid bucket name: it must not start with 'goog'. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack eval",
    ],
    "eval: local repo path on the gcp eval stack": [
        'tpu-sft:repos.miniOneRec.url = "file:///srv/git/MiniOneRec.git": is a local path, which only the local target (the rehearsal) can clone; TPU workers need an https, ssh or user@host:path URL. Fix: pulumi config set --path repos.miniOneRec.url https://github.com/AkaliKong/MiniOneRec.git --stack eval',
    ],
    "eval: scp-style URL with a path starting with '-'": [
        "tpu-sft:repos.miniOneRec.url = \"git@github.com:-oProxyCommand=id\": has a path that starts with '-'. Fix: pulumi config set --path repos.miniOneRec.url https://github.com/AkaliKong/MiniOneRec.git --stack eval",
    ],
};

async function problemsOf(c: CaseInput): Promise<ConfigError> {
    const values = clone(stackFileValues(c.stack));
    c.mutate?.(values);
    try {
        await readThroughEngine(c.stack, values, c.engine);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
        return err;
    }
    assert.fail(`${c.stack}: ${c.what}: the config was accepted`);
}

const INPUTS = [...TRAIN_INPUTS, ...EVAL_INPUTS];

describe(`bad stack configs (${INPUTS.length} cases, both stacks) are rejected before any resource exists`, () => {
    it("has at least 120 cases, every one with its expected problems, on both stacks", () => {
        const names = INPUTS.map((c) => `${c.stack}: ${c.what}`);
        assert.strictEqual(new Set(names).size, names.length, "case names are unique");
        assert.deepStrictEqual([...names].sort(), Object.keys(EXPECTED).sort());
        assert.ok(INPUTS.length >= 120, `${INPUTS.length} cases`);
        assert.ok(TRAIN_INPUTS.length >= 40 && EVAL_INPUTS.length >= 40);
    });

    for (const c of INPUTS) {
        const name = `${c.stack}: ${c.what}`;
        it(name, async () => {
            const error = await problemsOf(c);
            const shown = error.problems.map((p) => `${p.key} = ${p.value}: ${p.problem}. Fix: ${p.fix}`);
            assert.deepStrictEqual(shown, EXPECTED[name]);
            for (const p of error.problems) {
                assert.match(p.key, /^(tpu-sft|gcp):\S+$/, "a full key");
                assert.ok(error.message.includes(`  - ${p.key} = ${p.value}: ${p.problem}.\n    Fix: ${p.fix}`));
            }
            assert.ok(error.message.startsWith(`invalid configuration for stack "${c.engine?.stackName ?? c.stack}"`));
        });
    }
});
