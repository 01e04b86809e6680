// What a fresh GCP project lacks, as the stacks create it: the APIs, one service account per stack with grants
// on the bucket only, the SSH firewall rule and the slice's network tag, the OS Login metadata, the bucket's
// lifecycle rule and the import of a bucket kept by `pulumi destroy`. Built from the checked-in stack files
// under Pulumi mocks. Not proven here: ordering (dependsOn is invisible to mocks), resource options such as
// retainOnDelete, and that GCP accepts the values (`npm run preflight` and a real `pulumi up` do that part).
import * as assert from "assert";
import { installFakeStorage, removeFakeStorage } from "./helpers/fakeStorage";
import { Recorded, StackMocks } from "./helpers/mocks";
import { BUCKET, buildStack, PROJECT, seedEvalArtifacts } from "./helpers/stacks";
import { DEPLOYER_RANGES, StackValues } from "./helpers/trainConfig";
import {
    bucketOfUri,
    serviceAccountId,
    serviceAccountPlan,
    sliceNetworkTag,
    sshFirewallName,
} from "../components/gcp/readiness";
import { evalBucketGrants, trainBucketGrants } from "../components/gcp/bucketGrants";
import { validateSshFirewallArgs } from "../components/sshFirewall";
import { noncurrentVersionRule } from "../components/artifactBucket";
import { grantResourceName } from "../components/bucketAccess";

const T = {
    service: "gcp:projects/service:Service",
    account: "gcp:serviceaccount/account:Account",
    member: "gcp:storage/bucketIAMMember:BucketIAMMember",
    firewall: "gcp:compute/firewall:Firewall",
    vm: "gcp:tpu/v2Vm:V2Vm",
    bucket: "gcp:storage/bucket:Bucket",
};
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const TRAIN_SA = `tpu-sft-train@${PROJECT}.iam.gserviceaccount.com`;
const EVAL_SA = `tpu-sft-eval@${PROJECT}.iam.gserviceaccount.com`;

function one(mocks: StackMocks, type: string): Recorded {
    const found = mocks.ofType(type);
    assert.strictEqual(found.length, 1, `${type}: ${found.length} resources`);
    return found[0];
}

/** The grants as data: name, bucket, role, member and condition of each BucketIAMMember. */
function grants(mocks: StackMocks) {
    return mocks
        .ofType(T.member)
        .map((m) => ({
            name: m.name,
            bucket: m.inputs.bucket,
            role: m.inputs.role,
            member: m.inputs.member,
            condition: m.inputs.condition,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
}

describe("GCP readiness of the train stack (Pulumi.train.yaml)", function () {
    this.timeout(60000);
    let mocks: StackMocks;
    let outputs: StackValues;
    before(async () => {
        ({ mocks, outputs } = await buildStack("train"));
    });

    it("enables the TPU, Compute, IAM and Storage APIs, never disabling them on destroy", () => {
        const services = mocks.ofType(T.service).map((s) => [s.name, s.inputs]);
        assert.deepStrictEqual(services, [
            ...["tpu", "compute", "iam", "storage"].map((api) => [
                `services-${api}`,
                {
                    project: PROJECT,
                    service: `${api}.googleapis.com`,
                    disableOnDestroy: false,
                    disableDependentServices: false,
                },
            ]),
        ]);
    });

    it("creates one service account for the stack and runs the VMs as it", () => {
        const account = one(mocks, T.account);
        assert.strictEqual(account.name, "identity-account");
        assert.deepStrictEqual(account.inputs, {
            project: PROJECT,
            accountId: "tpu-sft-train",
            displayName: "tpu-sft train VMs (stack train)",
            description: "Runs the tpu-sft TPU VMs; granted access on the artifact bucket only.",
        });
        assert.deepStrictEqual(one(mocks, T.vm).inputs.serviceAccount, { email: TRAIN_SA, scopes: [CLOUD_PLATFORM] });
        assert.strictEqual(outputs.access.serviceAccount, TRAIN_SA);
    });

    it("grants the account object read/write/delete and bucket metadata on the artifact bucket only, unconditioned", () => {
        assert.deepStrictEqual(grants(mocks), [
            {
                name: `bucket-access-${BUCKET}-legacyBucketReader`,
                bucket: BUCKET,
                role: "roles/storage.legacyBucketReader",
                member: `serviceAccount:${TRAIN_SA}`,
                condition: undefined,
            },
            {
                name: `bucket-access-${BUCKET}-objectUser`,
                bucket: BUCKET,
                role: "roles/storage.objectUser",
                member: `serviceAccount:${TRAIN_SA}`,
                condition: undefined,
            },
        ]);
    });

    it("admits tcp:22 from the configured ranges to the slice's network tag only, and tags the VM with it", () => {
        const rule = one(mocks, T.firewall);
        assert.deepStrictEqual(rule.inputs, {
            project: PROJECT,
            name: "mllm-jax-v6e-16-sft-ssh",
            network: "default",
            direction: "INGRESS",
            allows: [{ protocol: "tcp", ports: ["22"] }],
            sourceRanges: DEPLOYER_RANGES,
            targetTags: ["mllm-jax-v6e-16-sft-ssh"],
            description: "SSH from the tpu-sft deployer to the slice's workers (managed by Pulumi).",
        });
        assert.deepStrictEqual(one(mocks, T.vm).inputs.tags, ["mllm-jax-v6e-16-sft-ssh"]);
        assert.deepStrictEqual(
            { tag: outputs.access.networkTag, rule: outputs.access.firewallRule },
            { tag: "mllm-jax-v6e-16-sft-ssh", rule: "mllm-jax-v6e-16-sft-ssh" },
        );
    });

    it("turns OS Login off on the VM itself, so the ssh-keys metadata is honoured", () => {
        const metadata = one(mocks, T.vm).inputs.metadata;
        assert.deepStrictEqual(Object.keys(metadata).sort(), ["enable-oslogin", "ssh-keys"]);
        assert.strictEqual(metadata["enable-oslogin"], "FALSE");
        assert.match(metadata["ssh-keys"], /^root:ssh-ed25519 \S+ root$/);
        assert.strictEqual(outputs.access.osLogin, false);
    });

    it("deletes noncurrent versions after 7 days, and creates the bucket (no import) by default", () => {
        const bucket = one(mocks, T.bucket);
        assert.deepStrictEqual(bucket.inputs.lifecycleRules, [
            { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 7, withState: "ARCHIVED" } },
        ]);
        assert.strictEqual(bucket.id, undefined);
    });
});

describe("GCP readiness: the choices a user makes", function () {
    this.timeout(60000);

    it("bucket.adopt imports the kept bucket by name with the same inputs (a re-`up` after destroy)", async () => {
        const created = one((await buildStack("train")).mocks, T.bucket);
        const adopted = one((await buildStack("train", (v) => (v.bucket.adopt = true))).mocks, T.bucket);
        assert.strictEqual(adopted.id, BUCKET);
        assert.strictEqual(adopted.name, created.name, "same resource name, so later ups see the same resource");
        assert.deepStrictEqual(adopted.inputs, created.inputs, "an import must match the bucket the program made");
    });

    it("bucket.noncurrentVersionDays sets the lifecycle rule's age", async () => {
        const { mocks } = await buildStack("train", (v) => (v.bucket.noncurrentVersionDays = "30"));
        assert.deepStrictEqual(one(mocks, T.bucket).inputs.lifecycleRules[0].condition, {
            daysSinceNoncurrentTime: 30,
            withState: "ARCHIVED",
        });
    });

    it("tpu.osLogin: enable-oslogin TRUE and no ssh-keys metadata", async () => {
        const { mocks } = await buildStack("train", (v) => (v.tpu.osLogin = true));
        assert.deepStrictEqual(one(mocks, T.vm).inputs.metadata, { "enable-oslogin": "TRUE" });
    });

    it("tpu.firewall.create false: no rule, the VM still carries the tag a user's rule can target", async () => {
        const { mocks, outputs } = await buildStack("train", (v) => (v.tpu.firewall.create = false));
        assert.strictEqual(mocks.ofType(T.firewall).length, 0);
        assert.deepStrictEqual(one(mocks, T.vm).inputs.tags, ["mllm-jax-v6e-16-sft-ssh"]);
        assert.strictEqual(outputs.access.firewallRule, undefined);
    });

    it("an empty tpu.firewall.sourceRanges is refused, never turned into 0.0.0.0/0", async () => {
        await assert.rejects(
            buildStack("train", (v) => (v.tpu.firewall.sourceRanges = [])),
            // loadConfig stops it before any resource exists (the component refuses it too, as a second guard).
            /tpu-sft:tpu\.firewall\.sourceRanges = \[\]: is required when target is gcp[^\n]*never opens 0\.0\.0\.0\/0[\s\S]*Fix: pulumi config set --path 'tpu\.firewall\.sourceRanges\[0\]'/,
        );
    });

    it("project.enableServices false: no Service resources", async () => {
        const { mocks } = await buildStack("train", (v) => (v.project = { enableServices: false }));
        assert.strictEqual(mocks.ofType(T.service).length, 0);
        assert.strictEqual(mocks.ofType(T.vm).length, 1);
    });

    it("tpu.serviceAccount.email: no account created; the VM runs as it and the grants go to it", async () => {
        const email = "trainer@other-proj.iam.gserviceaccount.com";
        const { mocks } = await buildStack(
            "train",
            (v) => (v.tpu.serviceAccount = { email, scopes: [CLOUD_PLATFORM] }),
        );
        assert.strictEqual(mocks.ofType(T.account).length, 0);
        assert.strictEqual(one(mocks, T.vm).inputs.serviceAccount.email, email);
        assert.deepStrictEqual(
            grants(mocks).map((g) => [g.role, g.member]),
            [
                ["roles/storage.legacyBucketReader", `serviceAccount:${email}`],
                ["roles/storage.objectUser", `serviceAccount:${email}`],
            ],
        );
    });

    it("the local target (the rehearsal) creates no API, account, grant, firewall or bucket", async () => {
        const { mocks, outputs } = await buildStack("train", (v) => {
            v.target = "local";
            v.local = {
                hosts: [2, 3, 4, 5].map((i) => ({ host: `10.0.0.${i}`, port: 22 })),
                storageEndpoint: "http://10.0.0.1:4443",
            };
        });
        const gcpTypes = mocks.resources.map((r) => r.type).filter((t) => t.startsWith("gcp:"));
        assert.deepStrictEqual(gcpTypes, []);
        assert.strictEqual(outputs.access, undefined);
    });
});

describe("GCP readiness of the eval stack (Pulumi.eval.yaml)", function () {
    this.timeout(60000);
    before(() => {
        installFakeStorage();
        seedEvalArtifacts();
    });
    after(removeFakeStorage);

    it("its own account reads the checkpoints' bucket and writes only under <prefix>/eval/ (an IAM Condition)", async () => {
        const { mocks } = await buildStack("eval");
        assert.strictEqual(one(mocks, T.account).inputs.accountId, "tpu-sft-eval");
        assert.strictEqual(mocks.ofType(T.bucket).length, 0, "the eval stack never creates the bucket");
        assert.deepStrictEqual(grants(mocks), [
            {
                name: `bucket-access-${BUCKET}-objectUser`,
                bucket: BUCKET,
                role: "roles/storage.objectUser",
                member: `serviceAccount:${EVAL_SA}`,
                condition: {
                    title: "tpu-sft eval artifacts only",
                    description: `Objects under gs://${BUCKET}/sft_match_official/eval/`,
                    expression: `resource.name.startsWith("projects/_/buckets/${BUCKET}/objects/sft_match_official/eval/")`,
                },
            },
            {
                name: `bucket-access-${BUCKET}-objectViewer`,
                bucket: BUCKET,
                role: "roles/storage.objectViewer",
                member: `serviceAccount:${EVAL_SA}`,
                condition: undefined,
            },
        ]);
        const vm = one(mocks, T.vm).inputs;
        assert.deepStrictEqual(vm.serviceAccount, { email: EVAL_SA, scopes: [CLOUD_PLATFORM] });
        assert.deepStrictEqual(vm.tags, ["mllm-jax-v6e-8-sft-eval-ssh"]);
        assert.strictEqual(vm.metadata["enable-oslogin"], "FALSE");
        assert.strictEqual(one(mocks, T.firewall).inputs.name, "mllm-jax-v6e-8-sft-eval-ssh");
        assert.strictEqual(mocks.ofType(T.service).length, 4);
    });

    it("explicit checkpoints in another bucket: read granted on that bucket too, write still only on its own prefix", async () => {
        const { mocks } = await buildStack("eval", (v) => {
            delete v.eval.trainStack;
            v.eval.checkpoints = {
                office: {
                    best: {
                        uri: "gs://other-team-ckpts/sft/office/sft_state_best.msgpack",
                        crc32c: "IcOvzQ==",
                        size: 3560000000,
                    },
                },
                industrial: {
                    last: {
                        uri: "gs://other-team-ckpts/sft/industrial/sft_state_last.msgpack",
                        crc32c: "AAAAAA==",
                        size: 3560000001,
                    },
                },
            };
        });
        assert.deepStrictEqual(
            grants(mocks).map((g) => [g.bucket, g.role, g.condition?.expression ?? null]),
            [
                [
                    BUCKET,
                    "roles/storage.objectUser",
                    `resource.name.startsWith("projects/_/buckets/${BUCKET}/objects/sft_match_official/eval/")`,
                ],
                [BUCKET, "roles/storage.objectViewer", null],
                ["other-team-ckpts", "roles/storage.objectViewer", null],
            ],
        );
    });
});

describe("GCP readiness: names and plans (pure)", () => {
    it("derives a valid service account id (6-30 chars) from the stack, hashing long names apart", () => {
        assert.strictEqual(serviceAccountId("train"), "tpu-sft-train");
        assert.strictEqual(serviceAccountId("Eval_EU"), "tpu-sft-eval-eu");
        const a = serviceAccountId("rehearsal-20261129-0123456789-train");
        const b = serviceAccountId("rehearsal-20261129-0123456789-eval");
        for (const id of [a, b]) {
            assert.match(id, /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
            assert.ok(id.startsWith("tpu-sft-rehearsal-"), id);
        }
        assert.notStrictEqual(a, b);
    });

    it("derives the slice's network tag and firewall rule name from the VM name, at most 63 characters", () => {
        assert.strictEqual(sliceNetworkTag("mllm-jax-v6e-16-sft"), "mllm-jax-v6e-16-sft-ssh");
        assert.strictEqual(sshFirewallName("mllm-jax-v6e-16-sft"), "mllm-jax-v6e-16-sft-ssh");
        const long = `a${"b".repeat(62)}`;
        const tag = sliceNetworkTag(long);
        assert.strictEqual(tag.length, 63);
        assert.match(tag, /^ab+-[0-9a-f]{6}-ssh$/);
    });

    it("plans the identity: created by default, an existing email, nothing for an adopted VM without one", () => {
        assert.deepStrictEqual(serviceAccountPlan("train", {}, false), { kind: "create", accountId: "tpu-sft-train" });
        assert.deepStrictEqual(serviceAccountPlan("train", { email: "x@p.iam.gserviceaccount.com" }, false), {
            kind: "existing",
            email: "x@p.iam.gserviceaccount.com",
        });
        assert.deepStrictEqual(
            serviceAccountPlan("train", { email: "runner@p.iam.gserviceaccount.com", create: true }, false),
            { kind: "create", accountId: "runner" },
        );
        assert.deepStrictEqual(serviceAccountPlan("train", { create: false }, false), { kind: "none" });
        assert.deepStrictEqual(serviceAccountPlan("train", {}, true), { kind: "none" });
        assert.deepStrictEqual(serviceAccountPlan("train", { email: "x@p.iam.gserviceaccount.com" }, true), {
            kind: "existing",
            email: "x@p.iam.gserviceaccount.com",
        });
    });

    it("grants: train's two roles; eval's read on each checkpoint bucket once and its conditioned write", () => {
        assert.deepStrictEqual(
            trainBucketGrants("b").map((g) => [g.bucket, g.role]),
            [
                ["b", "roles/storage.objectUser"],
                ["b", "roles/storage.legacyBucketReader"],
            ],
        );
        const evalGrants = evalBucketGrants({ artifactBucket: "b", prefix: "p/q", checkpointBuckets: ["c", "b", "c"] });
        assert.deepStrictEqual(
            evalGrants.map((g) => [g.bucket, g.role, g.condition?.expression ?? null]),
            [
                ["b", "roles/storage.objectViewer", null],
                ["c", "roles/storage.objectViewer", null],
                ["b", "roles/storage.objectUser", 'resource.name.startsWith("projects/_/buckets/b/objects/p/q/eval/")'],
            ],
        );
        assert.strictEqual(grantResourceName("access", evalGrants[2]), "access-b-objectUser");
        assert.strictEqual(bucketOfUri("gs://b/p/x.msgpack"), "b");
        assert.throws(() => bucketOfUri("s3://b/x"), { message: "not a gs:// object URI: s3://b/x" });
    });

    it("refuses firewall ranges that are empty or not CIDR", () => {
        const args = { project: "p", ruleName: "r", network: "default", targetTag: "t" };
        assert.match(validateSshFirewallArgs({ ...args, sourceRanges: [] }) ?? "", /^`sourceRanges` is empty/);
        assert.strictEqual(
            validateSshFirewallArgs({ ...args, sourceRanges: ["203.0.113.7"] }),
            "`sourceRanges` must be CIDR ranges such as 203.0.113.7/32; got 203.0.113.7",
        );
        assert.strictEqual(validateSshFirewallArgs({ ...args, sourceRanges: ["203.0.113.7/32"] }), undefined);
    });

    it("a 0-day lifecycle rule sends the zero explicitly (the provider drops a plain 0)", () => {
        assert.deepStrictEqual(noncurrentVersionRule(0), [
            {
                action: { type: "Delete" },
                condition: {
                    daysSinceNoncurrentTime: 0,
                    withState: "ARCHIVED",
                    sendDaysSinceNoncurrentTimeIfZero: true,
                },
            },
        ]);
    });
});
