// Table-driven bad stack configs for both stacks: each is rejected by loadConfig, which runs before the
// program creates any resource, with the key, the offending value and a fix in the message.
import * as assert from "assert";
import { ConfigError, loadConfig, RawConfig } from "../components/config/loadConfig";
import { clone, stackFileValues } from "./helpers/trainConfig";

type Mutate = (values: Record<string, any>) => void;
interface Case {
    readonly stack: "train" | "eval";
    readonly what: string;
    readonly mutate?: Mutate;
    readonly raw?: Partial<RawConfig>;
    /** The key the first problem names, and a fragment of its value as shown. */
    readonly key: string;
    readonly value: string;
}

const CASES: Case[] = [
    { stack: "train", what: "unset GCP project", raw: { gcpProject: undefined }, key: "gcp:project", value: "(unset)" },
    { stack: "train", what: "unknown role", mutate: (v) => (v.role = "serve"), key: "tpu-sft:role", value: '"serve"' },
    {
        stack: "train",
        what: "unknown target",
        mutate: (v) => (v.target = "aws"),
        key: "tpu-sft:target",
        value: '"aws"',
    },
    {
        stack: "train",
        what: "unknown accelerator",
        mutate: (v) => (v.tpu.acceleratorType = "v6e-12"),
        key: "tpu-sft:tpu.acceleratorType",
        value: '"v6e-12"',
    },
    {
        stack: "train",
        what: "accelerator of no known generation",
        mutate: (v) => (v.tpu.acceleratorType = "v7-16"),
        key: "tpu-sft:tpu.acceleratorType",
        value: '"v7-16"',
    },
    {
        stack: "train",
        what: "zone without v6e",
        mutate: (v) => (v.tpu.zone = "us-central2-b"),
        key: "tpu-sft:tpu.zone",
        value: '"us-central2-b"',
    },
    {
        stack: "train",
        what: "malformed zone",
        mutate: (v) => (v.tpu.zone = "useast5b"),
        key: "tpu-sft:tpu.zone",
        value: '"useast5b"',
    },
    {
        stack: "train",
        what: "runtime of another generation",
        mutate: (v) => (v.tpu.runtimeVersion = "v2-alpha-tpuv5-lite"),
        key: "tpu-sft:tpu.runtimeVersion",
        value: '"v2-alpha-tpuv5-lite"',
    },
    {
        stack: "train",
        what: "unknown provisioning",
        mutate: (v) => (v.tpu.provisioning = "cheap"),
        key: "tpu-sft:tpu.provisioning",
        value: '"cheap"',
    },
    {
        stack: "train",
        what: "VM name with upper case",
        mutate: (v) => (v.tpu.name = "My-VM"),
        key: "tpu-sft:tpu.name",
        value: '"My-VM"',
    },
    {
        stack: "train",
        what: "adopt without a name",
        mutate: (v) => {
            v.tpu.adopt = true;
            delete v.tpu.name;
        },
        raw: { secretsSet: { wandbApiKey: true, sshPrivateKey: true } },
        key: "tpu-sft:tpu.name",
        value: "(unset)",
    },
    {
        stack: "train",
        what: "external IPs not a boolean",
        mutate: (v) => (v.tpu.enableExternalIps = "maybe"),
        key: "tpu-sft:tpu.enableExternalIps",
        value: '"maybe"',
    },
    {
        stack: "train",
        what: "bad service account email",
        mutate: (v) => (v.tpu.serviceAccount.email = "not-an-email"),
        key: "tpu-sft:tpu.serviceAccount.email",
        value: '"not-an-email"',
    },
    {
        stack: "train",
        what: "empty scopes",
        mutate: (v) => (v.tpu.serviceAccount.scopes = []),
        key: "tpu-sft:tpu.serviceAccount.scopes",
        value: "[]",
    },
    {
        stack: "train",
        what: "label value with upper case",
        mutate: (v) => (v.tpu.labels.workload = "SFT"),
        key: "tpu-sft:tpu.labels.workload",
        value: '"SFT"',
    },
    {
        stack: "train",
        what: "SSH user with a quote",
        mutate: (v) => (v.ssh.user = "root'; id"),
        key: "tpu-sft:ssh.user",
        value: '"root\'; id"',
    },
    {
        stack: "train",
        what: "public key that is not one line",
        mutate: (v) => (v.ssh.publicKey = "ssh-ed25519 AAAA\nssh-rsa BBBB"),
        raw: { secretsSet: { wandbApiKey: true, sshPrivateKey: true } },
        key: "tpu-sft:ssh.publicKey",
        value: '"ssh-ed25519 AAAA\\nssh-rsa BBBB"',
    },
    {
        stack: "train",
        what: "dial error limit zero",
        mutate: (v) => (v.ssh.dialErrorLimit = 0),
        key: "tpu-sft:ssh.dialErrorLimit",
        value: "0",
    },
    {
        stack: "train",
        what: "branch instead of a commit",
        mutate: (v) => (v.repos.mllmJax.commit = "test"),
        key: "tpu-sft:repos.mllmJax.commit",
        value: '"test"',
    },
    {
        stack: "train",
        what: "tag-like MiniOneRec commit",
        mutate: (v) => (v.repos.miniOneRec.commit = "v1.0"),
        key: "tpu-sft:repos.miniOneRec.commit",
        value: '"v1.0"',
    },
    {
        stack: "train",
        what: "empty repo URL",
        mutate: (v) => (v.repos.mllmJax.url = ""),
        key: "tpu-sft:repos.mllmJax.url",
        value: '""',
    },
    {
        stack: "train",
        what: "unknown env mode",
        mutate: (v) => (v.env.mode = "docker"),
        key: "tpu-sft:env.mode",
        value: '"docker"',
    },
    {
        stack: "train",
        what: "jax version range",
        mutate: (v) => (v.env.jax = ">=0.9"),
        key: "tpu-sft:env.jax",
        value: '">=0.9"',
    },
    {
        stack: "train",
        what: "python major only",
        mutate: (v) => (v.env.python = "3"),
        key: "tpu-sft:env.python",
        value: '"3"',
    },
    {
        stack: "train",
        what: "conda env name with a space",
        mutate: (v) => (v.env.condaEnv = "mllm jax"),
        key: "tpu-sft:env.condaEnv",
        value: '"mllm jax"',
    },
    {
        stack: "train",
        what: "invalid bucket name",
        mutate: (v) => (v.bucket.name = "My_Bucket"),
        key: "tpu-sft:bucket.name",
        value: '"My_Bucket"',
    },
    {
        stack: "train",
        what: "bucket prefix with a leading slash",
        mutate: (v) => (v.bucket.prefix = "/ckpt"),
        key: "tpu-sft:bucket.prefix",
        value: '"/ckpt"',
    },
    {
        stack: "train",
        what: "W&B mode unknown",
        mutate: (v) => (v.wandb.mode = "cloud"),
        key: "tpu-sft:wandb.mode",
        value: '"cloud"',
    },
    {
        stack: "train",
        what: "W&B online without a key",
        raw: { secretsSet: { wandbApiKey: false, sshPrivateKey: false } },
        key: "tpu-sft:wandbApiKey",
        value: "(unset)",
    },
    { stack: "train", what: "no runs", mutate: (v) => (v.train.runs = []), key: "tpu-sft:train.runs", value: "[]" },
    {
        stack: "train",
        what: "duplicate run names",
        mutate: (v) => (v.train.runs[1].name = "office"),
        key: "tpu-sft:train.runs[1].name",
        value: '"office"',
    },
    {
        stack: "train",
        what: "run name with upper case",
        mutate: (v) => (v.train.runs[0].name = "Office"),
        key: "tpu-sft:train.runs[0].name",
        value: '"Office"',
    },
    {
        stack: "train",
        what: "config that is not YAML",
        mutate: (v) => (v.train.runs[0].config = "projects/x/config.json"),
        key: "tpu-sft:train.runs[0].config",
        value: '"projects/x/config.json"',
    },
    {
        stack: "train",
        what: "output dir escaping the checkout",
        mutate: (v) => (v.train.runs[0].outputDir = "runs/../../etc"),
        key: "tpu-sft:train.runs[0].outputDir",
        value: '"runs/../../etc"',
    },
    {
        stack: "train",
        what: "unknown checkpoint kind",
        mutate: (v) => (v.train.runs[0].checkpoints = ["final"]),
        key: "tpu-sft:train.runs[0].checkpoints[0]",
        value: '"final"',
    },
    {
        stack: "train",
        what: "no checkpoints to hand off",
        mutate: (v) => (v.train.runs[0].checkpoints = []),
        key: "tpu-sft:train.runs[0].checkpoints",
        value: "[]",
    },
    {
        stack: "train",
        what: "poll interval zero",
        mutate: (v) => (v.train.pollSeconds = 0),
        key: "tpu-sft:train.pollSeconds",
        value: "0",
    },
    {
        stack: "train",
        what: "time limit not a number",
        mutate: (v) => (v.train.timeLimitMinutes = "a day"),
        key: "tpu-sft:train.timeLimitMinutes",
        value: '"a day"',
    },
    {
        stack: "train",
        what: "local target without hosts",
        mutate: (v) => (v.target = "local"),
        key: "tpu-sft:local",
        value: "(unset)",
    },
    {
        stack: "eval",
        what: "multi-host accelerator on a zone without v6e",
        mutate: (v) => (v.tpu.zone = "us-central2-b"),
        key: "tpu-sft:tpu.zone",
        value: '"us-central2-b"',
    },
    { stack: "eval", what: "no eval section", mutate: (v) => delete v.eval, key: "tpu-sft:eval", value: "(unset)" },
    {
        stack: "eval",
        what: "K list not increasing",
        mutate: (v) => (v.eval.runs[0].topk = [1, 5, 3]),
        key: "tpu-sft:eval.runs[0].topk",
        value: "[1,5,3]",
    },
    {
        stack: "eval",
        what: "K list with zero",
        mutate: (v) => (v.eval.runs[0].topk = [0, 1]),
        key: "tpu-sft:eval.runs[0].topk[0]",
        value: "0",
    },
    {
        stack: "eval",
        what: "unknown checkpoint kind",
        mutate: (v) => (v.eval.runs[0].checkpoint = "final"),
        key: "tpu-sft:eval.runs[0].checkpoint",
        value: '"final"',
    },
    {
        stack: "eval",
        what: "both checkpoint sources",
        mutate: (v) => (v.eval.checkpoints = {}),
        key: "tpu-sft:eval.trainStack",
        value: '"organization/tpu-sft/train"',
    },
    {
        stack: "eval",
        what: "no checkpoint source",
        mutate: (v) => delete v.eval.trainStack,
        key: "tpu-sft:eval.trainStack",
        value: "(unset)",
    },
    {
        stack: "eval",
        what: "train stack name with a space",
        mutate: (v) => (v.eval.trainStack = "my train"),
        key: "tpu-sft:eval.trainStack",
        value: '"my train"',
    },
    {
        stack: "eval",
        what: "duplicate eval output dirs",
        mutate: (v) => (v.eval.runs[1].outputDir = v.eval.runs[0].outputDir),
        key: "tpu-sft:eval.runs[1].outputDir",
        value: '"runs/sid_sft_jax_qwen25_1p5b_base_office',
    },
    {
        stack: "eval",
        what: "item file escaping the checkout",
        mutate: (v) => (v.eval.runs[0].itemFile = "../info.txt"),
        key: "tpu-sft:eval.runs[0].itemFile",
        value: '"../info.txt"',
    },
    {
        stack: "eval",
        what: "W&B online without a key",
        raw: { secretsSet: { wandbApiKey: false, sshPrivateKey: false } },
        key: "tpu-sft:wandbApiKey",
        value: "(unset)",
    },
];

function rejection(c: Case): { key: string; value: string; problem: string; fix: string } {
    const values = clone(stackFileValues(c.stack));
    c.mutate?.(values);
    const raw: RawConfig = {
        stack: c.stack,
        gcpProject: "my-proj",
        values,
        secretsSet: { wandbApiKey: true, sshPrivateKey: false },
        ...c.raw,
    };
    try {
        loadConfig(raw);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        assert.ok(err.problems.length >= 1);
        return err.problems[0];
    }
    assert.fail(`${c.what}: the config was accepted`);
}

describe(`bad stack configs (${CASES.length} cases, both stacks) are rejected before any resource exists`, () => {
    for (const c of CASES) {
        it(`${c.stack}: ${c.what}`, () => {
            const problem = rejection(c);
            assert.strictEqual(problem.key, c.key);
            assert.ok(problem.value.startsWith(c.value), `value shown: ${problem.value}`);
            assert.ok(problem.problem.length > 5, "a problem statement");
            assert.match(problem.fix, /pulumi config set|list exactly|Fix|set tpu|choose/, `fix: ${problem.fix}`);
        });
    }
});
