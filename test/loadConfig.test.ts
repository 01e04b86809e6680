import * as assert from "assert";
import { ConfigError, loadConfig, RawConfig } from "../components/config/loadConfig";
import { clone, stackFileValues } from "./helpers/trainConfig";

function raw(mutate?: (values: Record<string, any>) => void, extra?: Partial<RawConfig>): RawConfig {
    const values = clone(stackFileValues("train"));
    mutate?.(values);
    return {
        stack: "train",
        gcpProject: "my-proj",
        values,
        secretsSet: { wandbApiKey: true, sshPrivateKey: false },
        ...extra,
    };
}

function problemsOf(input: RawConfig): string[] {
    try {
        loadConfig(input);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.problems.map((p) => `${p.key} = ${p.value}: ${p.problem}. Fix: ${p.fix}`);
    }
    assert.fail("expected the config to be rejected");
}

describe("loadConfig on the checked-in Pulumi.train.yaml", () => {
    it("accepts the SOP's values and derives hosts, region, bucket and VM name", () => {
        const cfg = loadConfig(raw());
        assert.strictEqual(cfg.shape.hosts, 4);
        assert.strictEqual(cfg.shape.generation, "v6e");
        assert.strictEqual(cfg.region, "us-east5");
        assert.strictEqual(cfg.bucketLocation, "US-EAST5");
        assert.strictEqual(cfg.bucketName, "my-proj-mllm-jax-artifacts");
        assert.strictEqual(cfg.vmName, "mllm-jax-v6e-16-sft");
        assert.strictEqual(cfg.generateSshKey, true);
        assert.deepStrictEqual(cfg.repos.mllmJax, {
            url: "https://github.com/demon2036/MLLM-JAX.git",
            commit: "03455fc",
        });
        assert.deepStrictEqual(cfg.repos.miniOneRec.commit, "81b4ba9");
        assert.deepStrictEqual(
            cfg.train?.runs.map((r) => [r.name, r.checkpoints]),
            [
                ["office", ["best"]],
                ["industrial", ["last"]],
            ],
        );
        assert.strictEqual(cfg.env.jax, "0.9.0");
        assert.strictEqual(cfg.env.libtpu, "0.0.34");
        assert.strictEqual(cfg.tpu.provisioning, "spot");
    });

    it("accepts numbers and booleans given as strings, as `pulumi config set --path` stores them", () => {
        const cfg = loadConfig(
            raw((v) => {
                v.train.pollSeconds = "30";
                v.tpu.enableExternalIps = "false";
            }),
        );
        assert.strictEqual(cfg.train?.pollSeconds, 30);
        assert.strictEqual(cfg.tpu.enableExternalIps, false);
    });
});

describe("loadConfig errors name the key, the value and the fix", () => {
    it("an unset gcp:project says which command sets it", () => {
        assert.deepStrictEqual(problemsOf(raw(undefined, { gcpProject: undefined })), [
            "gcp:project = (unset): the GCP project is not set (it is never hard-coded). Fix: pulumi config set gcp:project <your-project-id> --stack train",
        ]);
    });

    it("an unknown accelerator type lists the known ones", () => {
        const [problem] = problemsOf(raw((v) => (v.tpu.acceleratorType = "v6e-12")));
        assert.match(
            problem,
            /^tpu-sft:tpu\.acceleratorType = "v6e-12": is not a known TPU accelerator type\. Fix: pulumi config set --path tpu\.acceleratorType v6e-16 --stack train \(known: v6e-1, v6e-4, v6e-8, v6e-16, /,
        );
    });

    it("a zone without that TPU generation", () => {
        assert.deepStrictEqual(problemsOf(raw((v) => (v.tpu.zone = "us-central2-b"))), [
            'tpu-sft:tpu.zone = "us-central2-b": does not offer v6e TPUs. Fix: pulumi config set --path tpu.zone us-central1-b --stack train (v6e zones: us-central1-b, us-east1-d, us-east5-a, us-east5-b, us-south1-a, us-south1-b, us-west1-c, europe-west4-a, asia-northeast1-b, southamerica-east1-c), or set tpu.skipZoneCheck true for a newer zone',
        ]);
    });

    it("a runtime of another generation", () => {
        assert.deepStrictEqual(problemsOf(raw((v) => (v.tpu.runtimeVersion = "tpu-ubuntu2204-base"))), [
            'tpu-sft:tpu.runtimeVersion = "tpu-ubuntu2204-base": is not a runtime for v6e. Fix: pulumi config set --path tpu.runtimeVersion v6e-ubuntu-2404 --stack train (allowed: v6e-ubuntu-2404, v2-alpha-tpuv6e)',
        ]);
    });

    it("a branch name where a commit SHA is required", () => {
        assert.deepStrictEqual(problemsOf(raw((v) => (v.repos.mllmJax.commit = "test"))), [
            'tpu-sft:repos.mllmJax.commit = "test": must be a commit SHA (7 to 40 hex digits), not a branch or tag. Fix: pulumi config set --path repos.mllmJax.commit 03455fc --stack train (see Pulumi.train.yaml for the documented defaults)',
        ]);
    });

    it("an invalid bucket name", () => {
        assert.deepStrictEqual(problemsOf(raw((v) => (v.bucket.name = "My_Bucket"))), [
            "tpu-sft:bucket.name = \"My_Bucket\": must use lowercase letters, digits, '-', '_' or '.', and start and end with a letter or digit. Fix: pulumi config set --path bucket.name my-project-mllm-jax-artifacts --stack train",
        ]);
        assert.match(problemsOf(raw((v) => (v.bucket.name = "ab")))[0], /must be 3-63 characters long \(got 2\)/);
        assert.match(
            problemsOf(raw((v) => (v.bucket.name = "google-ckpts")))[0],
            /must not start with 'goog' or contain 'google'/,
        );
    });

    it("duplicate run names and output dirs", () => {
        assert.deepStrictEqual(
            problemsOf(
                raw((v) => {
                    v.train.runs[1].name = "office";
                    v.train.runs[1].outputDir = v.train.runs[0].outputDir;
                }),
            ),
            [
                'tpu-sft:train.runs[1].name = "office": repeats train.runs[0].name. Fix: pulumi config set --path train.runs[1].name <another-name> --stack train',
                'tpu-sft:train.runs[1].outputDir = "runs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32": repeats train.runs[0].outputDir. Fix: pulumi config set --path train.runs[1].outputDir <another-outputDir> --stack train',
            ],
        );
    });

    it("W&B online without a key", () => {
        assert.deepStrictEqual(
            problemsOf(raw(undefined, { secretsSet: { wandbApiKey: false, sshPrivateKey: false } })),
            [
                "tpu-sft:wandbApiKey = (unset): W&B mode is online but the API key secret is not set. Fix: pulumi config set --secret tpu-sft:wandbApiKey <key> --stack train, or pulumi config set --path wandb.mode disabled --stack train",
            ],
        );
    });

    it("reports every problem at once, before any resource exists", () => {
        const problems = problemsOf(
            raw(
                (v) => {
                    v.tpu.zone = "europe-west9-z";
                    v.tpu.runtimeVersion = "nope";
                    v.bucket.name = "-bad";
                },
                { gcpProject: undefined, secretsSet: { wandbApiKey: false, sshPrivateKey: false } },
            ),
        );
        assert.deepStrictEqual(
            problems.map((p) => p.split(" = ")[0]),
            [
                "gcp:project",
                "tpu-sft:tpu.zone",
                "tpu-sft:tpu.runtimeVersion",
                "tpu-sft:wandbApiKey",
                "tpu-sft:bucket.name",
            ],
        );
    });

    it("structural errors: wrong enum, missing run field, bad path, repeated checkpoint kind", () => {
        const problems = problemsOf(
            raw((v) => {
                v.tpu.provisioning = "cheap";
                delete v.train.runs[0].outputDir;
                v.train.runs[1].config = "../etc/passwd.yaml";
                v.train.runs[1].checkpoints = ["last", "last"];
            }),
        );
        assert.deepStrictEqual(
            problems.map((p) => p.split(". Fix:")[0]),
            [
                'tpu-sft:tpu.provisioning = "cheap": expected one of "spot"|"on-demand"|"reserved"',
                "tpu-sft:train.runs[0].outputDir = (unset): is required",
                "tpu-sft:train.runs[1].config = \"../etc/passwd.yaml\": must not contain '..'",
                'tpu-sft:train.runs[1].checkpoints = ["last","last"]: must not repeat a kind',
            ],
        );
        assert.match(problems[0], /Fix: pulumi config set --path tpu\.provisioning spot --stack train/);
    });

    it("adopting a VM needs a key the VM already accepts", () => {
        assert.match(
            problemsOf(raw((v) => (v.tpu.adopt = true)))[0],
            /^tpu-sft:tpu\.adopt = true: an adopted VM keeps its own metadata/,
        );
    });

    it("a public key without the private key secret, and the reverse", () => {
        assert.match(
            problemsOf(raw((v) => (v.ssh.publicKey = "ssh-ed25519 AAAAC3Nza me")))[0],
            /ssh\.publicKey = \(set\): is set but the sshPrivateKey secret is not/,
        );
        assert.match(
            problemsOf(raw(undefined, { secretsSet: { wandbApiKey: true, sshPrivateKey: true } }))[0],
            /ssh\.publicKey = \(unset\): must be set when the sshPrivateKey secret is given/,
        );
    });

    it("the local target needs one host per worker", () => {
        const problems = problemsOf(
            raw((v) => {
                v.target = "local";
                v.local = { hosts: [{ host: "10.9.0.2" }], storageEndpoint: "http://10.9.0.1:4443" };
            }),
        );
        assert.deepStrictEqual(
            problems.map((p) => p.split(". Fix:")[0]),
            ['tpu-sft:local.hosts = [{"host":"10.9.0.2"}]: lists 1 hosts but v6e-16 has 4'],
        );
    });
});

describe("loadConfig on the checked-in Pulumi.eval.yaml", () => {
    function evalRaw(mutate?: (values: Record<string, any>) => void, extra?: Partial<RawConfig>): RawConfig {
        const values = clone(stackFileValues("eval"));
        mutate?.(values);
        return {
            stack: "eval",
            gcpProject: "my-proj",
            values,
            secretsSet: { wandbApiKey: true, sshPrivateKey: false },
            ...extra,
        };
    }

    it("accepts the SOP's eval values: one v6e-8 host in europe-west4-a, MLLM-JAX 3be8272, two runs", () => {
        const cfg = loadConfig(evalRaw());
        assert.strictEqual(cfg.shape.hosts, 1);
        assert.strictEqual(cfg.tpu.zone, "europe-west4-a");
        assert.strictEqual(cfg.repos.mllmJax.commit, "3be8272");
        assert.strictEqual(cfg.bucket.create, false);
        assert.deepStrictEqual(
            cfg.eval?.runs.map((r) => [r.name, r.trainRun, r.checkpoint]),
            [
                ["office", "office", "best"],
                ["industrial", "industrial", "last"],
            ],
        );
        assert.strictEqual(cfg.eval?.trainStack, "organization/tpu-sft/train");
        assert.strictEqual(cfg.eval?.requireZeroInvalid, true);
    });

    it("K lists that are not increasing", () => {
        assert.deepStrictEqual(
            problemsOf(evalRaw((v) => (v.eval.runs[1].topk = [1, 5, 3]))).map((p) => p.split(". Fix:")[0]),
            ["tpu-sft:eval.runs[1].topk = [1,5,3]: must be strictly increasing, e.g. [1, 3, 5, 10, 20, 50]"],
        );
    });

    it("W&B online without a key, on the eval stack too", () => {
        assert.match(
            problemsOf(evalRaw(undefined, { secretsSet: { wandbApiKey: false, sshPrivateKey: false } }))[0],
            /^tpu-sft:wandbApiKey = \(unset\): W&B mode is online but the API key secret is not set\. Fix: pulumi config set --secret tpu-sft:wandbApiKey <key> --stack eval/,
        );
    });

    it("both a train stack and explicit checkpoints, or neither", () => {
        const both = problemsOf(
            evalRaw(
                (v) =>
                    (v.eval.checkpoints = {
                        office: { best: { uri: "gs://bkt/p/sft_state_best.msgpack", crc32c: "IcOvzQ==", size: 5 } },
                        industrial: { last: { uri: "gs://bkt/p/sft_state_last.msgpack", crc32c: "IcOvzQ==", size: 5 } },
                    }),
            ),
        );
        assert.match(
            both[0],
            /^tpu-sft:eval\.trainStack = "organization\/tpu-sft\/train": and eval\.checkpoints are both set; choose one source/,
        );
        const neither = problemsOf(evalRaw((v) => delete v.eval.trainStack));
        assert.match(neither[0], /^tpu-sft:eval\.trainStack = \(unset\): names no source of checkpoints/);
    });

    it("explicit checkpoints must cover every eval run, with a gs:// URI and a base64 crc32c", () => {
        const problems = problemsOf(
            evalRaw((v) => {
                delete v.eval.trainStack;
                v.eval.checkpoints = {
                    office: { best: { uri: "gs://bkt/p/sft_state_best.msgpack", crc32c: "IcOvzQ==", size: 5 } },
                };
            }),
        );
        assert.deepStrictEqual(
            problems.map((p) => p.split(". Fix:")[0]),
            ["tpu-sft:eval.runs[1].trainRun = \"industrial\": has no 'last' checkpoint under eval.checkpoints"],
        );
        const malformed = problemsOf(
            evalRaw((v) => {
                delete v.eval.trainStack;
                v.eval.checkpoints = { office: { best: { uri: "s3://b/x.msgpack", crc32c: "abc", size: 5 } } };
            }),
        );
        assert.deepStrictEqual(
            malformed.map((p) => p.split(". Fix:")[0]),
            [
                'tpu-sft:eval.checkpoints.office.best.uri = "s3://b/x.msgpack": must be a gs:// URI of a .msgpack checkpoint',
                "tpu-sft:eval.checkpoints.office.best.crc32c = \"abc\": must be a base64 crc32c as GCS reports it, e.g. 'IcOvzQ=='",
            ],
        );
    });

    it("duplicate eval run names", () => {
        assert.match(
            problemsOf(evalRaw((v) => (v.eval.runs[1].name = "office")))[0],
            /^tpu-sft:eval\.runs\[1\]\.name = "office": repeats eval\.runs\[0\]\.name/,
        );
    });
});
