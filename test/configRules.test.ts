// The pure rules behind the config checks: GCP identifiers, repository URLs, checkout paths, did-you-mean,
// the `--path` spelling of keys, and how values are shown.
import * as assert from "assert";
import { RunError } from "@pulumi/pulumi";
import { ConfigError } from "../components/config/loadConfig";
import {
    checkBucketLocation,
    checkBucketName,
    checkCidr,
    checkHost,
    checkLabelKey,
    checkLabelValue,
    checkProjectId,
    checkResourceName,
    checkServiceAccountEmail,
} from "../components/config/identifiers";
import { correctPath, knownKeysAt, parsePath, suggestKey } from "../components/config/keyTree";
import { PROGRAM_LABELS, RESERVED_LABEL_KEYS, withProgramLabels } from "../components/config/labels";
import { describeValue, pathText } from "../components/config/problems";
import { isWithin, normalizeRepoPath } from "../components/config/repoPath";
import { classifyRepoUrl } from "../components/config/repoUrl";
import { didYouMean, editDistance } from "../components/config/suggest";

describe("GCP identifiers", () => {
    it("project IDs, including legacy domain-scoped ones", () => {
        const cases: [string, string | undefined][] = [
            ["my-proj", undefined],
            ["a23456789012345678901234567890", undefined],
            ["example.com:my-proj", undefined],
            ["abcde", "must be 6-30 characters long (got 5)"],
            ["a234567890123456789012345678901", "must be 6-30 characters long (got 31)"],
            ["1project", "must start with a lowercase letter"],
            ["my-proj-", "must not end with '-'"],
            ["my_proj", "must use only lowercase letters, digits and '-'"],
            [
                "example:my-proj",
                "has a domain part that is not a domain name (a legacy domain-scoped ID looks like example.com:my-project)",
            ],
        ];
        for (const [id, problem] of cases) assert.strictEqual(checkProjectId(id), problem, id);
    });

    it("TPU node names", () => {
        assert.strictEqual(checkResourceName("mllm-jax-v6e-16-sft", "TPU node name"), undefined);
        assert.strictEqual(checkResourceName("a", "TPU node name"), undefined);
        assert.strictEqual(
            checkResourceName("", "TPU node name"),
            "a TPU node name must be 1-63 characters long (got 0)",
        );
        assert.strictEqual(checkResourceName("v-", "TPU node name"), "a TPU node name must not end with '-'");
        assert.strictEqual(
            checkResourceName("-v", "TPU node name"),
            "a TPU node name must start with a lowercase letter",
        );
        assert.strictEqual(
            checkResourceName("v.m", "TPU node name"),
            "a TPU node name may use only lowercase letters, digits and '-'",
        );
    });

    it("service account emails: user-managed, domain-scoped project, Compute Engine default", () => {
        for (const email of [
            "tpu-sft-train@my-proj.iam.gserviceaccount.com",
            "trainer@my-proj.example.com.iam.gserviceaccount.com",
            "123456789012-compute@developer.gserviceaccount.com",
        ]) {
            assert.strictEqual(checkServiceAccountEmail(email), undefined, email);
        }
        assert.strictEqual(
            checkServiceAccountEmail("trainer@my_proj.iam.gserviceaccount.com"),
            "names no valid project ID between '@' and '.iam.gserviceaccount.com'",
        );
        assert.strictEqual(
            checkServiceAccountEmail("Trainer@my-proj.iam.gserviceaccount.com"),
            "the part before '@' must start with a lowercase letter",
        );
        assert.match(checkServiceAccountEmail("me@example.com") ?? "", /^must be a service account email/);
    });

    it("bucket names: every GCS rule", () => {
        const part = "a".repeat(63);
        const longDotted = [part, part, part, "a".repeat(30)].join("."); // 222 characters
        assert.strictEqual(longDotted.length, 222);
        const cases: [string, string | undefined][] = [
            ["my-proj-mllm-jax-artifacts", undefined],
            ["ckpt_2026.example.com", undefined],
            [longDotted, undefined],
            [`${longDotted}a`, "must be 3-222 characters long (got 223)"],
            ["a".repeat(64), "must be 3-63 characters long (up to 222 when it contains dots) (got 64)"],
            ["ab", "must be 3-63 characters long (up to 222 when it contains dots) (got 2)"],
            ["Ckpts", "may use only lowercase letters, digits, '-', '_' and '.'"],
            ["ckpts_", "must start and end with a letter or digit"],
            ["a..b", "must not contain '..'"],
            ["10.0.0.1", "must not be an IP address in dotted-decimal form"],
            ["goog-ckpts", "must not start with 'goog'"],
            ["my-google", "must not contain 'google' or a close misspelling of it"],
            ["my-g00gle", "must not contain 'google' or a close misspelling of it"],
            ["my-goog1e", "must not contain 'google' or a close misspelling of it"],
            ["my-googl3", "must not contain 'google' or a close misspelling of it"],
        ];
        for (const [name, problem] of cases) assert.strictEqual(checkBucketName(name), problem, name);
    });

    it("bucket locations: multi-regions, dual-regions, TPU regions, any case", () => {
        for (const location of ["US", "eu", "ASIA", "NAM4", "eur4", "us-east5", "EUROPE-WEST4"]) {
            assert.strictEqual(checkBucketLocation(location), undefined, location);
        }
        assert.match(checkBucketLocation("us-east99") ?? "", /is not a Cloud Storage location/);
    });

    it("label keys and values, with international lowercase letters", () => {
        assert.strictEqual(checkLabelKey("workload"), undefined);
        assert.strictEqual(checkLabelKey("équipe"), undefined);
        assert.strictEqual(checkLabelKey("Team"), "a label key must start with a lowercase letter");
        assert.strictEqual(checkLabelKey("a.b"), "a label key may use only lowercase letters, digits, '_' and '-'");
        assert.strictEqual(checkLabelKey(""), "a label key must be 1-63 characters long (got 0)");
        assert.strictEqual(checkLabelValue(""), undefined);
        assert.strictEqual(checkLabelValue("minionerec-sid_sft-2026"), undefined);
        assert.strictEqual(checkLabelValue("a b"), "a label value may use only lowercase letters, digits, '_' and '-'");
    });

    it("the program's own labels are reserved, with the provider's attribution label", () => {
        assert.deepStrictEqual(PROGRAM_LABELS, { "managed-by": "pulumi-tpu-sft" });
        assert.deepStrictEqual(RESERVED_LABEL_KEYS, ["managed-by", "goog-pulumi-provisioned"]);
        assert.deepStrictEqual(withProgramLabels({ workload: "sft" }), {
            workload: "sft",
            "managed-by": "pulumi-tpu-sft",
        });
    });

    it("CIDR ranges, IPv4 and IPv6", () => {
        for (const range of ["0.0.0.0/0", "35.235.240.0/20", "198.51.100.7/32", "2001:db8::/32", "::/0"]) {
            assert.strictEqual(checkCidr(range), undefined, range);
        }
        assert.strictEqual(checkCidr("10.0.0.0/33"), "an IPv4 prefix length must be 0-32");
        assert.strictEqual(checkCidr("2001:db8::/129"), "an IPv6 prefix length must be 0-128");
        for (const range of ["10.0.0.0", "010.0.0.0/8", "256.0.0.0/8", "laptop/32", "10.0.0.0/8 "]) {
            assert.match(checkCidr(range) ?? "", /^must be an IPv4 or IPv6 range in CIDR form/, range);
        }
    });

    it("local SSH hosts: addresses and names, never an option", () => {
        for (const host of ["10.9.0.2", "::1", "worker-0.internal"])
            assert.strictEqual(checkHost(host), undefined, host);
        for (const host of ["-oProxyCommand=id", "a b", "host_1"]) assert.ok(checkHost(host), host);
    });
});

describe("repository URLs", () => {
    it("accepts https, ssh, scp-style and (as local) absolute paths and file:// URLs", () => {
        const cases: [string, string][] = [
            ["https://github.com/demon2036/MLLM-JAX.git", "https"],
            ["ssh://git@github.com/demon2036/MLLM-JAX.git", "ssh"],
            ["ssh://git@[2001:db8::1]:2222/srv/repo.git", "ssh"],
            ["git@github.com:demon2036/MLLM-JAX.git", "scp"],
            ["github.com:demon2036/MLLM-JAX.git", "scp"],
            ["/srv/git/MLLM-JAX.git", "local"],
            ["file:///srv/git/MLLM-JAX.git", "local"],
            [`/tmp/it's $(touch x) \`id\` ☃ "q"/MLLM-JAX.git`, "local"],
        ];
        for (const [url, kind] of cases) assert.deepStrictEqual(classifyRepoUrl(url), { kind }, url);
    });

    it("refuses options, transports, other schemes, credentials, whitespace and control characters", () => {
        const cases: [string, string][] = [
            ["", "is empty"],
            ["-uhttps://x", "starts with '-', which git would read as an option"],
            ["ext::sh -c id", "uses a `<transport>::<address>` form (such as ext::), which can run commands"],
            ["fd::17", "uses a `<transport>::<address>` form (such as ext::), which can run commands"],
            [
                "http://github.com/x.git",
                "uses http://; only https://, ssh:// and scp-style user@host:path are accepted",
            ],
            ["git://github.com/x.git", "uses git://; only https://, ssh:// and scp-style user@host:path are accepted"],
            [
                "https://user:token@github.com/x.git",
                "embeds credentials, which would be stored in the Pulumi state and shown in logs; use a credential helper or a deploy key",
            ],
            ["ssh://git:pw@github.com/x.git", "embeds a password"],
            ["https://github.com", "names no repository path after the host"],
            ["https://github.com/a b.git", "contains whitespace"],
            ["https://github.com/x.git\tid", "contains a control character"],
            ["file://srv/x.git", "a file:// URL must name an absolute path (file:///srv/repo.git)"],
            ["/srv/../etc/x.git", "a local path must not contain '..'"],
            ["git@github.com:-oProxyCommand=id", "has a path that starts with '-'"],
            [
                "repo.git",
                "is not a git URL this program accepts: https://host/path, ssh://[user@]host/path or user@host:path (and, for target local, an absolute path)",
            ],
        ];
        for (const [url, problem] of cases) assert.deepStrictEqual(classifyRepoUrl(url), { problem }, url);
    });
});

describe("paths inside the checkout", () => {
    it("normalizes '.', '..', '//' and a trailing '/'", () => {
        const cases: [string, string][] = [
            ["runs/a", "runs/a"],
            ["runs/./a/", "runs/a"],
            ["./runs//a", "runs/a"],
            ["runs/b/../a", "runs/a"],
            ["workdir/MiniOneRec/data/info.txt", "workdir/MiniOneRec/data/info.txt"],
        ];
        for (const [input, path] of cases) assert.deepStrictEqual(normalizeRepoPath(input), { path }, input);
    });

    it("refuses paths that leave or are the checkout, absolute paths and odd segments", () => {
        const cases: [string, string][] = [
            ["", "is empty"],
            ["..", "leaves the MLLM-JAX checkout ('..' above its root)"],
            ["runs/../../etc", "leaves the MLLM-JAX checkout ('..' above its root)"],
            ["./", "names the checkout itself, not a path inside it"],
            ["runs/..", "names the checkout itself, not a path inside it"],
            ["/root/x", "must be relative to the MLLM-JAX checkout, not an absolute path"],
            ["runs/-x", "has the segment \"-x\"; use letters, digits, '_', '.' and '-' (not first)"],
            ["runs/a b", "has the segment \"a b\"; use letters, digits, '_', '.' and '-' (not first)"],
            ["runs/a\nb", "contains a control character"],
        ];
        for (const [input, problem] of cases) assert.deepStrictEqual(normalizeRepoPath(input), { problem }, input);
    });

    it("knows when one directory lies inside another", () => {
        assert.strictEqual(isWithin("runs/a/b", "runs/a"), true);
        assert.strictEqual(isWithin("runs/a", "runs/a"), true);
        assert.strictEqual(isWithin("runs/ab", "runs/a"), false);
    });
});

describe("did-you-mean and key paths", () => {
    it("edit distance counts an adjacent swap as one edit", () => {
        assert.strictEqual(editDistance("zone", "zoen"), 1);
        assert.strictEqual(editDistance("provisioning", "provisoning"), 1);
        assert.strictEqual(editDistance("", "abc"), 3);
        assert.strictEqual(editDistance("kitten", "sitting"), 3);
    });

    it("suggests the closest candidate, ignoring case and separators, or nothing", () => {
        assert.strictEqual(didYouMean("Service_Account", ["serviceAccount", "scopes"]), "serviceAccount");
        assert.strictEqual(didYouMean("pollSecond", ["pollSeconds", "progressSeconds"]), "pollSeconds");
        assert.strictEqual(didYouMean("colour", ["role", "target", "tpu"]), undefined);
    });

    it("finds a key's siblings, or a nested key of that name for a top-level key", () => {
        assert.deepStrictEqual(knownKeysAt(["tpu", "firewall"]), ["create", "sourceRanges"]);
        assert.deepStrictEqual(knownKeysAt(["train", "runs", 0]), ["name", "config", "outputDir", "checkpoints"]);
        assert.strictEqual(knownKeysAt(["tpu", "labels"]), undefined);
        assert.strictEqual(suggestKey(["tpu"], "zoen"), "tpu.zone");
        assert.strictEqual(suggestKey([], "zone"), "tpu.zone");
        assert.strictEqual(suggestKey([], "noncurrentVersionDays"), "bucket.noncurrentVersionDays");
        assert.strictEqual(suggestKey(["eval", "runs", 1], "topK"), "eval.runs[1].topk");
    });

    it("parses and corrects dotted paths as Pulumi spells them", () => {
        assert.deepStrictEqual(parsePath("tpu.zones[0]"), ["tpu", "zones", 0]);
        assert.deepStrictEqual(parsePath('tpu.labels["a.b"]'), ["tpu", "labels", "a.b"]);
        assert.strictEqual(parsePath("tpu..zone"), undefined);
        assert.deepStrictEqual(correctPath(["tpu", "zoen"]), { path: "tpu.zone", corrected: true });
        assert.deepStrictEqual(correctPath(["tpu", "firewall", "sourceRanges", 2]), {
            path: "tpu.firewall.sourceRanges[2]",
            corrected: false,
        });
        assert.strictEqual(correctPath(["tpu", "colour"]), undefined);
    });

    it("writes keys the way `pulumi config set --path` reads them", () => {
        assert.strictEqual(pathText(["train", "runs", 1, "outputDir"]), "train.runs[1].outputDir");
        assert.strictEqual(pathText(["tpu", "labels", "a.b"]), 'tpu.labels["a.b"]');
        assert.strictEqual(pathText(["tpu", "labels", "managed-by"]), "tpu.labels.managed-by");
    });

    it("shows values as JSON, with NaN and Infinity as themselves", () => {
        assert.strictEqual(describeValue(undefined), "(unset)");
        assert.strictEqual(describeValue("x"), '"x"');
        assert.strictEqual(describeValue(NaN), "NaN");
        assert.strictEqual(describeValue({ a: [1, Infinity, -Infinity] }), '{"a":[1,Infinity,-Infinity]}');
        assert.strictEqual(describeValue("a".repeat(200)), `"${"a".repeat(156)}...`);
    });

    it("a ConfigError is a RunError, so the engine prints its problems without a stack trace", () => {
        const error = new ConfigError(
            [{ key: "gcp:project", value: "(unset)", problem: "is not set", fix: "set it" }],
            "train",
        );
        assert.ok(RunError.isInstance(error));
        assert.strictEqual(
            error.message,
            'invalid configuration for stack "train" (1 problem):\n  - gcp:project = (unset): is not set.\n    Fix: set it',
        );
        assert.strictEqual(error.stackName, "train");
    });
});
