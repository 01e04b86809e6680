// The stack config as users run it: the checked-in stack files and the rehearsal's configs load through the
// program's own readStackConfig with the engine's encoding, with the values and derived names the stacks use.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { decodeEngineConfig } from "../components/config/engineConfig";
import { ConfigError, loadConfig, RawConfig, StackConfig } from "../components/config/loadConfig";
import { evalConfig, ControlPlane, Repos, switchIndustrialToBest, trainConfig } from "./rehearsal/stackConfigs";
import { clone, EngineOptions, readThroughEngine, REPO_ROOT, stackFileValues } from "./helpers/trainConfig";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Values = Record<string, any>;

async function load(stack: "train" | "eval", mutate?: (v: Values) => void, engine?: EngineOptions) {
    const values = clone(stackFileValues(stack));
    mutate?.(values);
    return (await readThroughEngine(stack, values, engine)).config;
}

async function problems(stack: "train" | "eval", mutate?: (v: Values) => void, engine?: EngineOptions) {
    try {
        await load(stack, mutate, engine);
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.problems.map((p) => `${p.key} = ${p.value}: ${p.problem}`);
    }
    assert.fail("expected the config to be rejected");
}

describe("the checked-in Pulumi.train.yaml, read as the engine passes it", () => {
    let cfg: StackConfig;
    before(async () => {
        cfg = await load("train");
    });

    it("is a train stack on gcp with the SOP's slice and derived names", () => {
        assert.strictEqual(cfg.role, "train");
        assert.strictEqual(cfg.target, "gcp");
        assert.deepStrictEqual(cfg.shape, { type: "v6e-16", generation: "v6e", chips: 16, hosts: 4 });
        assert.strictEqual(cfg.tpu.zone, "us-east5-b");
        assert.deepStrictEqual(cfg.tpu.zones, ["us-east5-b"]);
        assert.strictEqual(cfg.region, "us-east5");
        assert.strictEqual(cfg.bucketLocation, "US-EAST5");
        assert.strictEqual(cfg.bucketName, "my-proj-mllm-jax-artifacts");
        assert.strictEqual(cfg.vmName, "mllm-jax-v6e-16-sft");
        assert.strictEqual(cfg.generateSshKey, true);
        assert.strictEqual(cfg.tpu.provisioning, "spot");
        assert.deepStrictEqual(cfg.repos, {
            mllmJax: { url: "https://github.com/demon2036/MLLM-JAX.git", commit: "03455fc" },
            miniOneRec: { url: "https://github.com/AkaliKong/MiniOneRec.git", commit: "81b4ba9" },
        });
        assert.strictEqual(cfg.env.jax, "0.9.0");
        assert.strictEqual(cfg.env.libtpu, "0.0.34");
    });

    it("has the train section, typed as present (role train)", () => {
        assert.ok(cfg.role === "train");
        assert.deepStrictEqual(
            cfg.train.runs.map((r) => [r.name, r.checkpoints]),
            [
                ["office", ["best"]],
                ["industrial", ["last"]],
            ],
        );
        assert.deepStrictEqual(
            [cfg.train.timeLimitMinutes, cfg.train.pollSeconds, cfg.train.progressSeconds, cfg.train.graceSeconds],
            [720, 60, 180, 30],
        );
        assert.strictEqual(cfg.eval, undefined);
        assert.strictEqual(cfg.local, undefined);
    });

    it("has the issue-8 keys with their defaults: OS Login off, firewall from IAP's range, a created account", () => {
        assert.strictEqual(cfg.tpu.osLogin, false);
        assert.deepStrictEqual(cfg.tpu.firewall, { create: true, sourceRanges: ["35.235.240.0/20"] });
        assert.deepStrictEqual(cfg.tpu.serviceAccount, {
            create: true,
            scopes: ["https://www.googleapis.com/auth/cloud-platform"],
        });
        assert.strictEqual(cfg.serviceAccountId, "tpu-sft-train");
        assert.strictEqual(cfg.bucket.noncurrentVersionDays, 7);
        assert.deepStrictEqual(cfg.project, { enableServices: true });
        assert.deepStrictEqual(cfg.tpu.labels, { workload: "minionerec-sid-sft" });
    });
});

describe("the checked-in Pulumi.eval.yaml, read as the engine passes it", () => {
    it("is a single-host v6e-8 eval stack in europe-west4-a reading the train stack's checkpoints", async () => {
        const cfg = await load("eval");
        assert.ok(cfg.role === "eval");
        assert.strictEqual(cfg.shape.hosts, 1);
        assert.strictEqual(cfg.tpu.zone, "europe-west4-a");
        assert.strictEqual(cfg.repos.mllmJax.commit, "3be8272");
        assert.strictEqual(cfg.bucket.create, false);
        assert.strictEqual(cfg.bucketName, "my-proj-mllm-jax-artifacts");
        assert.strictEqual(cfg.serviceAccountId, "tpu-sft-eval");
        assert.deepStrictEqual(
            cfg.eval.runs.map((r) => [r.name, r.trainRun, r.checkpoint, r.topk]),
            [
                ["office", "office", "best", [1, 3, 5, 10, 20, 50]],
                ["industrial", "industrial", "last", [1, 3, 5, 10, 20, 50]],
            ],
        );
        assert.strictEqual(cfg.eval.trainStack, "organization/tpu-sft/train");
        assert.strictEqual(cfg.eval.requireZeroInvalid, true);
        assert.strictEqual(cfg.train, undefined);
    });

    it("accepts a shorter K list calc.py prints for fewer beams", async () => {
        const cfg = await load("eval", (v) => (v.eval.runs[0].topk = [1, 3, 5, 10]));
        assert.ok(cfg.role === "eval");
        assert.deepStrictEqual(cfg.eval.runs[0].topk, [1, 3, 5, 10]);
    });
});

describe("tpu.zones, activeZone and the bucket location", () => {
    it("an ordered fallback list: the first zone is active unless activeZone names another", async () => {
        const cfg = await load("train", (v) => {
            delete v.tpu.zone;
            v.tpu.zones = ["us-east5-b", "us-central1-b"];
        });
        assert.deepStrictEqual([cfg.tpu.zone, cfg.region, cfg.bucketLocation], ["us-east5-b", "us-east5", "US-EAST5"]);
        assert.deepStrictEqual(cfg.tpu.zones, ["us-east5-b", "us-central1-b"]);
    });

    it("after a stockout the slice moves to activeZone, and the bucket stays in zones[0]'s region", async () => {
        const cfg = await load("train", (v) => {
            delete v.tpu.zone;
            v.tpu.zones = ["us-east5-b", "us-central1-b"];
            v.activeZone = "us-central1-b";
        });
        assert.deepStrictEqual(
            [cfg.tpu.zone, cfg.region, cfg.bucketLocation],
            ["us-central1-b", "us-central1", "US-EAST5"],
        );
    });

    it("an empty activeZone (Pulumi.yaml's default) means the first zone", async () => {
        const cfg = await load("train", (v) => (v.activeZone = ""));
        assert.strictEqual(cfg.tpu.zone, "us-east5-b");
    });

    it("bucket.location in any case, multi-region or dual-region, upper-cased", async () => {
        for (const [given, expected] of [
            ["us-east5", "US-EAST5"],
            ["NAM4", "NAM4"],
            ["eu", "EU"],
        ]) {
            const cfg = await load("train", (v) => (v.bucket.location = given));
            assert.strictEqual(cfg.bucketLocation, expected);
        }
    });

    it("skipZoneCheck lets a zone newer than the table through, with its region as bucket location", async () => {
        const cfg = await load("train", (v) => {
            v.tpu.zone = "us-central1-ai1a";
            v.tpu.skipZoneCheck = true;
        });
        assert.deepStrictEqual([cfg.tpu.zone, cfg.bucketLocation], ["us-central1-ai1a", "US-CENTRAL1"]);
    });
});

describe("firewall, service account, OS Login, lifecycle and services keys", () => {
    it("no firewall rule: sourceRanges may stay empty", async () => {
        const cfg = await load("train", (v) => (v.tpu.firewall = { create: false }));
        assert.deepStrictEqual(cfg.tpu.firewall, { create: false, sourceRanges: [] });
    });

    it("IPv6 and IPv4 ranges", async () => {
        const cfg = await load("train", (v) => (v.tpu.firewall.sourceRanges = ["2001:db8::/32", "198.51.100.7/32"]));
        assert.deepStrictEqual(cfg.tpu.firewall.sourceRanges, ["2001:db8::/32", "198.51.100.7/32"]);
    });

    it("a given account is used, not created; the default compute account is accepted", async () => {
        for (const email of [
            "trainer@my-proj.iam.gserviceaccount.com",
            "123456789012-compute@developer.gserviceaccount.com",
            "trainer@my-proj.example.com.iam.gserviceaccount.com",
        ]) {
            const cfg = await load("train", (v) => (v.tpu.serviceAccount.email = email));
            assert.deepStrictEqual([cfg.tpu.serviceAccount.email, cfg.tpu.serviceAccount.create], [email, false]);
            assert.strictEqual(cfg.serviceAccountId, undefined);
        }
    });

    it("create false without an email leaves the VM on the project's default account", async () => {
        const cfg = await load("train", (v) => (v.tpu.serviceAccount.create = false));
        assert.deepStrictEqual([cfg.tpu.serviceAccount.email, cfg.tpu.serviceAccount.create], [undefined, false]);
        assert.strictEqual(cfg.serviceAccountId, undefined);
    });

    it("OS Login on, 30-day noncurrent versions, services left alone", async () => {
        const cfg = await load("train", (v) => {
            v.tpu.osLogin = true;
            v.bucket.noncurrentVersionDays = 30;
            v.project = { enableServices: false };
        });
        assert.deepStrictEqual(
            [cfg.tpu.osLogin, cfg.bucket.noncurrentVersionDays, cfg.project.enableServices],
            [true, 30, false],
        );
    });
});

describe("values as the engine encodes them", () => {
    it("numbers and booleans given as text (pulumi config set --path --type string, or quoted YAML)", async () => {
        const cfg = await load("train", (v) => {
            v.train.pollSeconds = "30";
            v.tpu.enableExternalIps = "false";
            v.bucket.noncurrentVersionDays = " 14 ";
        });
        assert.ok(cfg.role === "train");
        assert.deepStrictEqual(
            [cfg.train.pollSeconds, cfg.tpu.enableExternalIps, cfg.bucket.noncurrentVersionDays],
            [30, false, 14],
        );
    });

    it("an all-digit commit or label value, which `pulumi config set --path` stores as an integer, stays text", async () => {
        const cfg = await load("train", (v) => {
            v.repos.mllmJax.commit = 1234567;
            v.tpu.labels.year = 2026;
        });
        assert.strictEqual(cfg.repos.mllmJax.commit, "1234567");
        assert.strictEqual(cfg.tpu.labels.year, "2026");
    });

    it("paths inside the checkout are normalized", async () => {
        const cfg = await load("train", (v) => {
            v.train.runs[0].outputDir = "runs/./office//";
            v.train.runs[0].config = "projects//x/../minionerec/train.yaml";
        });
        assert.ok(cfg.role === "train");
        assert.deepStrictEqual(
            [cfg.train.runs[0].outputDir, cfg.train.runs[0].config],
            ["runs/office", "projects/minionerec/train.yaml"],
        );
    });

    it("decodes the engine's map: objects from JSON, strings as they are, dotted keys kept, secrets left out", () => {
        const raw = decodeEngineConfig("train", {
            all: {
                "gcp:project": "my-proj",
                "gcp:region": "us-east5",
                "tpu-sft:role": "train",
                "tpu-sft:activeZone": "us-east5-a",
                "tpu-sft:tpu": '{"zone":"us-east5-b","labels":{"a":"1"}}',
                "tpu-sft:tpu.zone": "us-east5-a",
                "tpu-sft:colour": '["red"]',
                "tpu-sft:bucket": "not json",
                "tpu-sft:wandbApiKey": "k0123",
                "other:thing": "x",
            },
            isSecret: (key) => key === "tpu-sft:wandbApiKey",
        });
        assert.deepStrictEqual(raw, {
            stack: "train",
            gcpProject: "my-proj",
            values: {
                role: "train",
                activeZone: "us-east5-a",
                tpu: { zone: "us-east5-b", labels: { a: "1" } },
                "tpu.zone": "us-east5-a",
                colour: ["red"],
                bucket: "not json",
            },
            secretsSet: { wandbApiKey: true, sshPrivateKey: false },
            secretKeys: ["wandbApiKey"],
        });
    });

    it("shows NaN and Infinity as themselves, not as JSON's null", async () => {
        const raw: RawConfig = {
            stack: "train",
            gcpProject: "my-proj",
            values: {
                ...clone(stackFileValues("train")),
                ssh: { dialErrorLimit: NaN, perDialTimeoutSeconds: -Infinity },
            },
            secretsSet: { wandbApiKey: true, sshPrivateKey: false },
        };
        assert.throws(
            () => loadConfig(raw),
            (err: ConfigError) => {
                assert.deepStrictEqual(
                    err.problems.map((p) => `${p.key} = ${p.value}`),
                    ["tpu-sft:ssh.dialErrorLimit = NaN", "tpu-sft:ssh.perDialTimeoutSeconds = -Infinity"],
                );
                return true;
            },
        );
    });

    it("keeps the secrets Pulumi secrets", async () => {
        const { secrets } = await readThroughEngine("train", clone(stackFileValues("train")));
        assert.ok(secrets.wandbApiKey);
        assert.strictEqual(await pulumi.isSecret(secrets.wandbApiKey), true);
        assert.strictEqual(secrets.sshPrivateKey, undefined);
    });
});

describe("the rehearsal's configs (target local) load", () => {
    const plane: ControlPlane = {
        control: "/work/tpu-sft/test/rehearsal/hosts.sh",
        stateDir: "/tmp/rehearsal-work/hosts",
    };
    const work = "/tmp/rehearsal-work";
    const repos: Repos = {
        mllmJax: { url: `${work}/repos/MLLM-JAX.git`, commit: "0123456789abcdef0123456789abcdef01234567" },
        miniOneRec: { url: `${work}/repos/MiniOneRec.git`, commit: "89abcdef0123456789abcdef0123456789abcdef" },
    };
    const publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests0123456789abcdefghij rehearsal";
    const secrets = { wandbApiKey: "wandbcanary", sshPrivateKey: "PRIVATE" };

    /** The rehearsal writes these maps to Pulumi.<stack>.yaml; the engine passes them on like any config. */
    async function read(stack: "train" | "eval", config: Values, stackName: string) {
        const values = Object.fromEntries(
            Object.entries(config)
                .filter(([k]) => k.startsWith("tpu-sft:"))
                .map(([k, v]) => [k.slice("tpu-sft:".length), v]),
        );
        return (await readThroughEngine(stack, values, { stackName, gcpProject: config["gcp:project"], secrets }))
            .config;
    }

    it("train: a slice of the control-plane twin, the emulator, local repositories, short timings", async () => {
        const cfg = await read(
            "train",
            trainConfig(REPO_ROOT, plane, "http://10.77.0.1:4443", repos, publicKey),
            "r1-train",
        );
        assert.ok(cfg.role === "train" && cfg.target === "local");
        assert.deepStrictEqual(cfg.local.slice, plane);
        assert.strictEqual(cfg.local.hosts, undefined);
        assert.strictEqual(cfg.repos.mllmJax.url, `${work}/repos/MLLM-JAX.git`);
        assert.deepStrictEqual([cfg.train.pollSeconds, cfg.train.timeLimitMinutes], [5, 10]);
        assert.strictEqual(cfg.serviceAccountId, undefined, "no account is created on the local target");
    });

    it("eval: a slice of the twin, reading the rehearsal's train stack, and phase 4's switch to the best checkpoint", async () => {
        const config = evalConfig(
            REPO_ROOT,
            plane,
            "http://10.77.0.1:4443",
            repos,
            publicKey,
            "organization/tpu-sft/r1-train",
        );
        for (const variant of [config, switchIndustrialToBest(config)]) {
            const cfg = await read("eval", variant, "r1-eval");
            assert.ok(cfg.role === "eval" && cfg.target === "local");
            assert.strictEqual(cfg.eval.trainStack, "organization/tpu-sft/r1-train");
            assert.deepStrictEqual(cfg.local.slice, plane);
        }
    });

    it("the faults' hostile repository path (quotes, $(…), backticks, spaces, non-ASCII) is a valid local path", async () => {
        const hostile = `${work}/it's $(touch /tmp/canary) \`touch /tmp/canary\`; touch /tmp/canary ☃ "q"/MLLM-JAX.git`;
        const config = trainConfig(REPO_ROOT, plane, "http://10.77.0.1:4443", repos, publicKey);
        config["tpu-sft:repos"] = { ...config["tpu-sft:repos"], mllmJax: { ...repos.mllmJax, url: hostile } };
        const cfg = await read("train", config, "r1-train");
        assert.strictEqual(cfg.repos.mllmJax.url, hostile);
    });

    it("the same local path is refused on the gcp target", async () => {
        assert.deepStrictEqual(await problems("train", (v) => (v.repos.mllmJax.url = repos.mllmJax.url)), [
            'tpu-sft:repos.mllmJax.url = "/tmp/rehearsal-work/repos/MLLM-JAX.git": is a local path, which only the local target (the rehearsal) can clone; TPU workers need an https, ssh or user@host:path URL',
        ]);
    });
});

describe("tpu.reclaim", () => {
    // An adopted VM keeps its own keys, so its stack brings the private key.
    const ADOPT_SECRETS = { wandbApiKey: "k0123456789", sshPrivateKey: "not-a-real-key" };
    const adoptVm = (v: Values) => {
        v.tpu.adopt = true;
        v.ssh.publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPDajGM0TLsmaJJnd+16vVicy6wCr6wqP/NQnu88DWYG me@host";
    };

    it("defaults to after-handoff for train, after-eval for eval, keep for an adopted VM", async () => {
        assert.strictEqual((await load("train")).tpu.reclaim, "after-handoff");
        assert.strictEqual((await load("eval")).tpu.reclaim, "after-eval");
        const adopted = await load("train", adoptVm, { secrets: ADOPT_SECRETS });
        assert.strictEqual(adopted.tpu.reclaim, "keep");
        const adoptedEval = await load("eval", adoptVm, { secrets: ADOPT_SECRETS });
        assert.strictEqual(adoptedEval.tpu.reclaim, "keep");
    });

    it("accepts the role's own point, or keep", async () => {
        assert.strictEqual((await load("eval", (v) => (v.tpu.reclaim = "after-eval"))).tpu.reclaim, "after-eval");
        assert.strictEqual((await load("eval", (v) => (v.tpu.reclaim = "keep"))).tpu.reclaim, "keep");
        assert.strictEqual((await load("train", (v) => (v.tpu.reclaim = "keep"))).tpu.reclaim, "keep");
    });

    it("refuses a point the role never reaches, naming the value and the fix", async () => {
        assert.deepStrictEqual(await problems("train", (v) => (v.tpu.reclaim = "after-eval")), [
            'tpu-sft:tpu.reclaim = "after-eval": is not a point a train stack reaches (it reclaims after-handoff, or keeps its slice)',
        ]);
        assert.deepStrictEqual(await problems("eval", (v) => (v.tpu.reclaim = "after-handoff")), [
            'tpu-sft:tpu.reclaim = "after-handoff": is not a point an eval stack reaches (it reclaims after-eval, or keeps its slice)',
        ]);
        await assert.rejects(
            load("eval", (v) => (v.tpu.reclaim = "after-handoff")),
            (err: ConfigError) => {
                assert.match(
                    err.problems[0].fix,
                    /pulumi config set --path tpu\.reclaim after-eval --stack eval.*pulumi config set --path tpu\.reclaim keep --stack eval/,
                );
                return true;
            },
        );
    });

    it("never deletes an adopted VM, and knows only its three values", async () => {
        assert.deepStrictEqual(
            await problems(
                "train",
                (v) => {
                    adoptVm(v);
                    v.tpu.reclaim = "after-handoff";
                },
                { secrets: ADOPT_SECRETS },
            ),
            ['tpu-sft:tpu.reclaim = "after-handoff": would delete an adopted VM, which this stack never deletes'],
        );
        const [problem] = await problems("train", (v) => (v.tpu.reclaim = "after-train"));
        assert.match(problem, /^tpu-sft:tpu\.reclaim = "after-train": .*after-handoff.*after-eval.*keep/);
    });
});
