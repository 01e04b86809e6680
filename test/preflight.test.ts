// `npm run preflight` against recorded Google API responses at the HTTP level: a local server on 127.0.0.1
// answers each method and path with a response from test/fixtures/preflight/responses.json, and preflight reaches
// it through google-auth-library's real client (a static access token), so URL building, auth headers, JSON and
// error handling all run for real. The stack's state comes from recorded `pulumi stack export` output. Not proven
// here: that the live APIs still answer in these documented shapes.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { OAuth2Client } from "google-auth-library";
import { runPreflight } from "../scripts/preflight/run";
import { REPO_ROOT, StackValues } from "./helpers/trainConfig";

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "preflight");
const RECORDED = JSON.parse(fs.readFileSync(path.join(FIXTURES, "responses.json"), "utf8")) as Record<
    string,
    { status: number; body: unknown }
>;
const TOKEN = "recorded-access-token";
const BUCKET_PATH = "GET /storage/storage/v1/b/my-proj-mllm-jax-artifacts";
const QUOTA_PATH = "GET /cloudquotas/v1/projects/my-proj/locations/global/services/tpu.googleapis.com/quotaInfos";
const FIREWALLS = "GET /compute/compute/v1/projects/my-proj/global/firewalls";

interface Seen {
    readonly key: string;
    readonly query: string;
    readonly authorization?: string;
    readonly body: string;
}

/** Serves recorded responses by `METHOD path` (or `METHOD path?query` when recorded with its query). */
class RecordedGoogle {
    readonly seen: Seen[] = [];
    readonly unexpected: string[] = [];
    private server?: http.Server;
    constructor(private readonly routes: Record<string, string>) {}

    async start(): Promise<string> {
        this.server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://127.0.0.1");
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                const key = `${req.method} ${url.pathname}`;
                this.seen.push({
                    key,
                    query: url.search,
                    authorization: req.headers.authorization,
                    body: Buffer.concat(chunks).toString("utf8"),
                });
                const name = this.routes[`${key}${url.search}`] ?? this.routes[key];
                const recorded = name ? RECORDED[name] : undefined;
                if (!recorded) {
                    this.unexpected.push(`${key}${url.search}`);
                }
                res.writeHead(recorded?.status ?? 501, { "content-type": "application/json; charset=UTF-8" });
                res.end(
                    JSON.stringify(recorded?.body ?? { error: { code: 501, message: `nothing recorded for ${key}` } }),
                );
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}

/** The routes of a project where `pulumi up --stack <role>` can start, as recorded. */
function allClear(role: "train" | "eval"): Record<string, string> {
    return {
        "GET /cloudresourcemanager/v1/projects/my-proj": "project",
        "GET /serviceusage/v1/projects/my-proj/services:batchGet": "services-enabled",
        [`${QUOTA_PATH}/TPUV6EPreemptiblePerProjectPerZoneForTPUAPI`]: "quota-v6e-spot",
        "GET /compute/compute/v1/projects/my-proj/global/networks/default": "network-default-auto",
        "POST /cloudresourcemanager/v1/projects/my-proj:getEffectiveOrgPolicy": "org-policy-not-enforced",
        "GET /compute/compute/v1/projects/my-proj": "compute-project-oslogin-on",
        [BUCKET_PATH]: role === "train" ? "bucket-not-found" : "bucket-owned",
    };
}

let tmp: string;
before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-preflight-"));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A project directory holding Pulumi.<stack>.yaml: the checked-in file plus what a user sets, then `mutate`. */
function stackDir(role: "train" | "eval", mutate?: (config: StackValues) => void): string {
    const doc = yaml.load(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${role}.yaml`), "utf8")) as {
        config: StackValues;
    };
    doc.config["gcp:project"] = "my-proj";
    doc.config["tpu-sft:wandbApiKey"] = { secure: "v1:cmVjb3JkZWQ=" };
    doc.config["tpu-sft:tpu"].firewall = { sourceRanges: ["198.51.100.7/32"] };
    mutate?.(doc.config);
    const dir = fs.mkdtempSync(path.join(tmp, `${role}-`));
    fs.writeFileSync(path.join(dir, `Pulumi.${role}.yaml`), yaml.dump(doc));
    return dir;
}

/** A `pulumi` that answers `stack export` with a recorded export, or fails like a stack that does not exist. */
function fakePulumi(exportFile: string | "no-stack"): string[] {
    const code =
        exportFile === "no-stack"
            ? "process.stderr.write(\"error: no stack named 'train' found\\n\"); process.exit(255);"
            : `if (process.argv.slice(1).join(" ") !== "stack export --stack train") process.exit(3);` +
              `process.stdout.write(require("fs").readFileSync(${JSON.stringify(path.join(FIXTURES, exportFile))}, "utf8"));`;
    return [process.execPath, "-e", code];
}

async function preflight(
    role: "train" | "eval",
    options: {
        routes?: Record<string, string | undefined>;
        mutate?: (config: StackValues) => void;
        pulumi?: string[];
    } = {},
) {
    const routes = Object.fromEntries(
        Object.entries({ ...allClear(role), ...options.routes }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const google = new RecordedGoogle(routes);
    const root = await google.start();
    try {
        const authClient = new OAuth2Client();
        authClient.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3_600_000 });
        const report = await runPreflight({
            stack: role,
            dir: stackDir(role, options.mutate),
            authClient,
            apiRoot: root,
            pulumiCommand: options.pulumi ?? [process.execPath, "-e", "process.exit(9)"],
        });
        assert.deepStrictEqual(google.unexpected, [], "preflight asked for something nothing was recorded for");
        for (const s of google.seen) {
            assert.strictEqual(s.authorization, `Bearer ${TOKEN}`, `${s.key} without the credentials' token`);
        }
        return { ...report, google };
    } finally {
        await google.stop();
    }
}

/** The report's line for `check`; exactly one must exist. */
function line(lines: readonly string[], check: string): string {
    const found = lines.filter(
        (l) => l.startsWith(`PASS ${check}:`) || new RegExp(`^(FAIL|WARN|SKIP) ${check}:`).test(l),
    );
    assert.strictEqual(found.length, 1, `lines for "${check}": ${JSON.stringify(lines)}`);
    return found[0];
}

describe("preflight on recorded Google API responses", function () {
    this.timeout(60000);

    it("all clear for the train stack: every check passes and pulumi up can start", async () => {
        const report = await preflight("train");
        assert.deepStrictEqual(report.lines, [
            "PASS config: Pulumi.train.yaml is valid",
            "PASS wandb: tpu-sft:wandbApiKey is set (a secure value)",
            "PASS credentials: application-default credentials issue an access token",
            "PASS project: my-proj (number 123456789012) is reachable",
            "PASS services: tpu.googleapis.com, compute.googleapis.com, iam.googleapis.com, storage.googleapis.com are enabled",
            "PASS quota us-east5-b: TPUV6EPreemptiblePerProjectPerZoneForTPUAPI is 16 chips; v6e-16 needs 16",
            "PASS network: default exists in my-proj",
            "PASS subnetwork: default is an auto-mode network: it has a subnetwork in us-east5",
            "PASS firewall: pulumi up creates mllm-jax-v6e-16-sft-ssh: tcp:22 from 198.51.100.7/32 to tag mllm-jax-v6e-16-sft-ssh",
            "PASS os login policy: constraints/compute.requireOsLogin is not enforced for my-proj",
            "PASS os login: the project's metadata turns OS Login on; the VMs' own enable-oslogin=FALSE overrides it",
            "PASS service account: pulumi up creates tpu-sft-train@my-proj.iam.gserviceaccount.com for the VMs and grants it access on the bucket only",
            "PASS bucket: gs://my-proj-mllm-jax-artifacts is free; pulumi up creates it in US-EAST5",
            "13 passed, 0 failed, 0 warnings, 0 skipped: pulumi up can start",
        ]);
        assert.strictEqual(report.ok, true);
        const batchGet = report.google.seen.find((s) => s.key.endsWith("services:batchGet"))!;
        assert.deepStrictEqual(new URLSearchParams(batchGet.query).getAll("names"), [
            "projects/my-proj/services/tpu.googleapis.com",
            "projects/my-proj/services/compute.googleapis.com",
            "projects/my-proj/services/iam.googleapis.com",
            "projects/my-proj/services/storage.googleapis.com",
        ]);
        const policy = report.google.seen.find((s) => s.key.endsWith(":getEffectiveOrgPolicy"))!;
        assert.deepStrictEqual(JSON.parse(policy.body), { constraint: "constraints/compute.requireOsLogin" });
    });

    it("all clear for the eval stack: its zone's quota, the train stack's bucket with uniform access", async () => {
        const report = await preflight("eval");
        assert.strictEqual(report.ok, true, report.lines.join("\n"));
        assert.strictEqual(
            line(report.lines, "quota europe-west4-a"),
            "PASS quota europe-west4-a: TPUV6EPreemptiblePerProjectPerZoneForTPUAPI is 8 chips; v6e-8 needs 8",
        );
        assert.strictEqual(
            line(report.lines, "bucket"),
            "PASS bucket: eval's artifact bucket gs://my-proj-mllm-jax-artifacts exists",
        );
        assert.strictEqual(
            line(report.lines, "service account"),
            "PASS service account: pulumi up creates tpu-sft-eval@my-proj.iam.gserviceaccount.com for the VMs and grants it access on the bucket only",
        );
        assert.strictEqual(report.lines.at(-1), "13 passed, 0 failed, 0 warnings, 0 skipped: pulumi up can start");
    });

    it("a project the credentials cannot read: one failure naming the setting, and no further calls", async () => {
        const report = await preflight("train", {
            routes: { "GET /cloudresourcemanager/v1/projects/my-proj": "project-denied" },
        });
        assert.strictEqual(
            line(report.lines, "project"),
            "FAIL project: cannot read project my-proj: The caller does not have permission (HTTP 403). Fix: pulumi config set gcp:project <a-project-id-from: gcloud projects list> --stack train",
        );
        assert.strictEqual(line(report.lines, "cloud"), "SKIP cloud: the remaining checks need project my-proj");
        assert.deepStrictEqual(
            report.google.seen.map((s) => s.key),
            ["GET /cloudresourcemanager/v1/projects/my-proj"],
        );
        assert.strictEqual(report.ok, false);
    });

    it("disabled APIs with project.enableServices false: the gcloud command, and the checks that need them wait", async () => {
        const report = await preflight("train", {
            routes: { "GET /serviceusage/v1/projects/my-proj/services:batchGet": "services-tpu-compute-disabled" },
            mutate: (c) => (c["tpu-sft:project"] = { enableServices: false }),
        });
        assert.strictEqual(
            line(report.lines, "services"),
            "FAIL services: tpu.googleapis.com, compute.googleapis.com are disabled and project.enableServices is false. Fix: gcloud services enable tpu.googleapis.com compute.googleapis.com --project my-proj, or pulumi config set --path project.enableServices true --stack train",
        );
        assert.strictEqual(
            line(report.lines, "quota us-east5-b"),
            "SKIP quota us-east5-b: tpu.googleapis.com is not enabled yet; run preflight again after: gcloud services enable tpu.googleapis.com --project my-proj",
        );
        assert.strictEqual(
            line(report.lines, "network"),
            "SKIP network: compute.googleapis.com is not enabled yet; run preflight again after: gcloud services enable compute.googleapis.com --project my-proj",
        );
        assert.strictEqual(report.ok, false);
    });

    it("disabled APIs the program enables (the default): pulumi up can start", async () => {
        const report = await preflight("train", {
            routes: { "GET /serviceusage/v1/projects/my-proj/services:batchGet": "services-tpu-compute-disabled" },
        });
        assert.strictEqual(
            line(report.lines, "services"),
            "PASS services: tpu.googleapis.com, compute.googleapis.com disabled now; pulumi up enables them (project.enableServices)",
        );
        assert.strictEqual(report.ok, true, report.lines.join("\n"));
    });

    it("no spot v6e quota in the zone: the quota request command, or another zone", async () => {
        const report = await preflight("train", {
            routes: { [`${QUOTA_PATH}/TPUV6EPreemptiblePerProjectPerZoneForTPUAPI`]: "quota-v6e-spot-zero" },
        });
        assert.strictEqual(
            line(report.lines, "quota us-east5-b"),
            "FAIL quota us-east5-b: TPUV6EPreemptiblePerProjectPerZoneForTPUAPI is 0 chips in us-east5-b; v6e-16 needs 16 (spot). Fix: gcloud quotas preferences create --service=tpu.googleapis.com --quota-id=TPUV6EPreemptiblePerProjectPerZoneForTPUAPI --preferred-value=16 --dimensions=zone=us-east5-b --project=my-proj --email=<your-email>, or pulumi config set --path tpu.zone <a-zone-with-quota> --stack train",
        );
        assert.strictEqual(report.ok, false);
    });

    it("on-demand provisioning reads the on-demand quota id", async () => {
        const report = await preflight("train", {
            routes: {
                [`${QUOTA_PATH}/TPUV6EPreemptiblePerProjectPerZoneForTPUAPI`]: undefined,
                [`${QUOTA_PATH}/TPUV6EPerProjectPerZoneForTPUAPI`]: "quota-v6e-on-demand",
            },
            mutate: (c) => (c["tpu-sft:tpu"].provisioning = "on-demand"),
        });
        assert.match(
            line(report.lines, "quota us-east5-b"),
            /^FAIL quota us-east5-b: TPUV6EPerProjectPerZoneForTPUAPI is 8 chips in us-east5-b; v6e-16 needs 16 \(on-demand\)\. Fix: gcloud quotas preferences create --service=tpu\.googleapis\.com --quota-id=TPUV6EPerProjectPerZoneForTPUAPI /,
        );
    });

    it("an unreadable quota is a warning with its fix, not a failure", async () => {
        const report = await preflight("train", {
            routes: { [`${QUOTA_PATH}/TPUV6EPreemptiblePerProjectPerZoneForTPUAPI`]: "quota-api-disabled" },
        });
        assert.match(
            line(report.lines, "quota us-east5-b"),
            /^WARN quota us-east5-b: could not read TPUV6EPreemptiblePerProjectPerZoneForTPUAPI: Cloud Quotas API has not been used in project 123456789012 .* \(HTTP 403\)\. Fix: gcloud services enable cloudquotas\.googleapis\.com --project my-proj$/,
        );
        assert.strictEqual(report.ok, true);
    });

    it("no default network: create it, or name another", async () => {
        const report = await preflight("train", {
            routes: { "GET /compute/compute/v1/projects/my-proj/global/networks/default": "network-not-found" },
        });
        assert.strictEqual(
            line(report.lines, "network"),
            "FAIL network: network default does not exist in project my-proj. Fix: gcloud compute networks create default --project my-proj --subnet-mode auto, or pulumi config set --path tpu.network <existing-network> --stack train",
        );
        assert.strictEqual(report.ok, false);
    });

    it("tpu.firewall.create false and no rule admits tcp:22 to the slice (disabled, internal-only and other-tag rules do not count)", async () => {
        const report = await preflight("train", {
            routes: { [FIREWALLS]: "firewalls-no-ssh", [`${FIREWALLS}?pageToken=page-2`]: "firewalls-page-2-empty" },
            mutate: (c) => (c["tpu-sft:tpu"].firewall = { create: false }),
        });
        assert.strictEqual(
            line(report.lines, "firewall"),
            "FAIL firewall: tpu.firewall.create is false and no enabled ingress rule on default admits tcp:22 from outside the VPC to tag mllm-jax-v6e-16-sft-ssh or to all instances. Fix: gcloud compute firewall-rules create mllm-jax-v6e-16-sft-ssh --project my-proj --network default --direction INGRESS --allow tcp:22 --target-tags mllm-jax-v6e-16-sft-ssh --source-ranges <your-public-ip>/32, or pulumi config set --path tpu.firewall.create true --stack train",
        );
        assert.strictEqual(report.ok, false);
    });

    it("tpu.firewall.create false and a rule on the next page admits tcp:22 to the slice's tag", async () => {
        const report = await preflight("train", {
            routes: {
                [FIREWALLS]: "firewalls-no-ssh",
                [`${FIREWALLS}?pageToken=page-2`]: "firewalls-page-2-tagged-ssh",
            },
            mutate: (c) => (c["tpu-sft:tpu"].firewall = { create: false }),
        });
        assert.strictEqual(
            line(report.lines, "firewall"),
            "PASS firewall: rule tpu-ssh-from-office admits tcp:22 from 203.0.113.0/24 to tag mllm-jax-v6e-16-sft-ssh on default",
        );
        assert.strictEqual(report.ok, true);
    });

    it("tpu.firewall.create false with the deployer's range set: a rule for other sources does not count", async () => {
        const report = await preflight("train", {
            routes: {
                [FIREWALLS]: "firewalls-no-ssh",
                [`${FIREWALLS}?pageToken=page-2`]: "firewalls-page-2-tagged-ssh",
            },
            mutate: (c) => (c["tpu-sft:tpu"].firewall = { create: false, sourceRanges: ["198.51.100.7/32"] }),
        });
        assert.strictEqual(
            line(report.lines, "firewall"),
            "FAIL firewall: tpu.firewall.create is false and no enabled ingress rule on default admits tcp:22 from 198.51.100.7/32 to tag mllm-jax-v6e-16-sft-ssh or to all instances. Fix: gcloud compute firewall-rules create mllm-jax-v6e-16-sft-ssh --project my-proj --network default --direction INGRESS --allow tcp:22 --target-tags mllm-jax-v6e-16-sft-ssh --source-ranges 198.51.100.7/32, or pulumi config set --path tpu.firewall.create true --stack train",
        );
    });

    it("an organization policy forcing OS Login fails clearly unless tpu.osLogin is chosen", async () => {
        const enforced = {
            "POST /cloudresourcemanager/v1/projects/my-proj:getEffectiveOrgPolicy": "org-policy-enforced",
        };
        const report = await preflight("train", { routes: enforced });
        assert.strictEqual(
            line(report.lines, "os login policy"),
            "FAIL os login policy: constraints/compute.requireOsLogin is enforced for my-proj: the VM's enable-oslogin=FALSE and its ssh-keys metadata are ignored, so pulumi up could not log in. Fix: pulumi config set --path tpu.osLogin true --stack train, set ssh.user to your OS Login user and add the stack's key to your profile (see the README), or have an organization admin run: gcloud resource-manager org-policies disable-enforce compute.requireOsLogin --project my-proj",
        );
        assert.strictEqual(report.ok, false);
        const chosen = await preflight("train", { routes: enforced, mutate: (c) => (c["tpu-sft:tpu"].osLogin = true) });
        assert.strictEqual(
            line(chosen.lines, "os login policy"),
            "PASS os login policy: constraints/compute.requireOsLogin is enforced for my-proj",
        );
        assert.strictEqual(
            line(chosen.lines, "os login"),
            "PASS os login: tpu.osLogin is true: the VMs accept keys in the OS Login profile of ssh.user (root); the ssh-keys metadata is not set",
        );
        assert.strictEqual(chosen.ok, true);
    });

    it("a bucket name someone else owns", async () => {
        const report = await preflight("train", { routes: { [BUCKET_PATH]: "bucket-taken" } });
        assert.strictEqual(
            line(report.lines, "bucket"),
            "FAIL bucket: gs://my-proj-mllm-jax-artifacts exists and belongs to someone else (bucket names are global). Fix: pulumi config set --path bucket.name <another-globally-unique-name> --stack train",
        );
        assert.strictEqual(report.ok, false);
    });

    it("a bucket kept by pulumi destroy, not in the stack's state: set bucket.adopt (else 409)", async () => {
        const report = await preflight("train", {
            routes: { [BUCKET_PATH]: "bucket-owned" },
            pulumi: fakePulumi("stack-export-train-destroyed.json"),
        });
        assert.strictEqual(
            line(report.lines, "bucket"),
            "FAIL bucket: gs://my-proj-mllm-jax-artifacts exists in my-proj but not in stack train's state (kept by an earlier pulumi destroy?); creating it again fails with 409. Fix: pulumi config set --path bucket.adopt true --stack train",
        );
        const neverCreated = await preflight("train", {
            routes: { [BUCKET_PATH]: "bucket-owned" },
            pulumi: fakePulumi("no-stack"),
        });
        assert.match(
            line(neverCreated.lines, "bucket"),
            /^FAIL bucket: .*Fix: pulumi config set --path bucket\.adopt true --stack train$/,
        );
    });

    it("a bucket the stack's state holds passes; bucket.adopt imports an owned bucket and fails on a missing one", async () => {
        const holds = await preflight("train", {
            routes: { [BUCKET_PATH]: "bucket-owned" },
            pulumi: fakePulumi("stack-export-train-holds-bucket.json"),
        });
        assert.strictEqual(
            line(holds.lines, "bucket"),
            "PASS bucket: gs://my-proj-mllm-jax-artifacts exists and this stack's state holds it",
        );
        const adopt = (c: StackValues) => (c["tpu-sft:bucket"].adopt = true);
        const adopting = await preflight("train", { routes: { [BUCKET_PATH]: "bucket-owned" }, mutate: adopt });
        assert.strictEqual(
            line(adopting.lines, "bucket"),
            "PASS bucket: gs://my-proj-mllm-jax-artifacts exists in my-proj; pulumi up imports it (bucket.adopt)",
        );
        const missing = await preflight("train", { mutate: adopt });
        assert.strictEqual(
            line(missing.lines, "bucket"),
            "FAIL bucket: bucket.adopt is true but gs://my-proj-mllm-jax-artifacts does not exist, so there is nothing to import. Fix: pulumi config set --path bucket.adopt false --stack train",
        );
    });

    it("an unreadable state is a warning that names bucket.adopt", async () => {
        const report = await preflight("train", { routes: { [BUCKET_PATH]: "bucket-owned" } });
        assert.match(
            line(report.lines, "bucket"),
            /^WARN bucket: gs:\/\/my-proj-mllm-jax-artifacts exists in my-proj; could not read the stack's state \(.*\) to tell whether pulumi up would import or re-create it\. Fix: if pulumi destroy kept it: pulumi config set --path bucket\.adopt true --stack train$/,
        );
        assert.strictEqual(report.ok, true);
    });

    it("eval: the train stack's bucket missing, or without uniform bucket-level access", async () => {
        const missing = await preflight("eval", { routes: { [BUCKET_PATH]: "bucket-not-found" } });
        assert.strictEqual(
            line(missing.lines, "bucket"),
            "FAIL bucket: eval's artifact bucket gs://my-proj-mllm-jax-artifacts does not exist. Fix: pulumi up --stack train first (it creates the bucket), or pulumi config set --path bucket.name <the train stack's bucket> --stack eval",
        );
        const noUbla = await preflight("eval", { routes: { [BUCKET_PATH]: "bucket-owned-no-ubla" } });
        assert.strictEqual(
            line(noUbla.lines, "bucket"),
            "FAIL bucket: gs://my-proj-mllm-jax-artifacts lacks uniform bucket-level access, which eval's conditioned grant (writes under sft_match_official/eval/ only) needs. Fix: gcloud storage buckets update gs://my-proj-mllm-jax-artifacts --uniform-bucket-level-access",
        );
    });

    it("a given service account that does not exist", async () => {
        const email = "trainer@my-proj.iam.gserviceaccount.com";
        const report = await preflight("train", {
            routes: { [`GET /iam/v1/projects/-/serviceAccounts/${email}`]: "service-account-not-found" },
            mutate: (c) => (c["tpu-sft:tpu"].serviceAccount = { email }),
        });
        assert.strictEqual(
            line(report.lines, "service account"),
            `FAIL service account: ${email} (tpu.serviceAccount.email): Unknown service account (HTTP 404). Fix: gcloud iam service-accounts create trainer --project my-proj, or pulumi config set --path tpu.serviceAccount.create true --stack train without an email`,
        );
    });

    it("the W&B key unset: loadConfig's failure and fix, and the cloud checks still run", async () => {
        const report = await preflight("train", { mutate: (c) => delete c["tpu-sft:wandbApiKey"] });
        assert.strictEqual(
            line(report.lines, "wandb"),
            "FAIL wandb: tpu-sft:wandbApiKey = (unset): W&B mode is online but the API key secret is not set. Fix: pulumi config set --secret tpu-sft:wandbApiKey <key> --stack train, or pulumi config set --path wandb.mode disabled --stack train",
        );
        assert.strictEqual(
            line(report.lines, "bucket"),
            "PASS bucket: gs://my-proj-mllm-jax-artifacts is free; pulumi up creates it in US-EAST5",
        );
        assert.strictEqual(
            report.lines.at(-1),
            "12 passed, 1 failed, 0 warnings, 0 skipped: fix the failures above before pulumi up",
        );
        assert.strictEqual(report.ok, false);
    });

    it("a config loadConfig rejects: its problems, and no call to Google", async () => {
        const report = await preflight("train", { mutate: (c) => (c["tpu-sft:tpu"].zone = "us-nowhere1-z") });
        assert.strictEqual(
            line(report.lines, "config"),
            'FAIL config: tpu-sft:tpu.zone = "us-nowhere1-z": does not offer v6e TPUs (v6e zones: us-central1-b, us-east1-d, us-east5-a, us-east5-b, us-south1-a, us-south1-b, us-west1-c, europe-west4-a, asia-northeast1-b, southamerica-east1-c). Fix: pulumi config set --path tpu.zone us-central1-b --stack train, or pulumi config set --path tpu.skipZoneCheck true --stack train for a zone newer than this table',
        );
        assert.deepStrictEqual(report.google.seen, []);
    });
});

describe("npm run preflight (the CLI)", function () {
    this.timeout(60000);
    const cli = (args: string[], env: NodeJS.ProcessEnv) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
            execFile(
                process.execPath,
                [
                    require.resolve("ts-node/dist/bin.js"),
                    "--transpile-only",
                    path.join(REPO_ROOT, "scripts", "preflight.ts"),
                    ...args,
                ],
                { cwd: REPO_ROOT, env: { ...process.env, ...env } },
                (err, stdout, stderr) =>
                    resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
        });

    it("without application-default credentials: the login command, exit 1", async () => {
        const dir = stackDir("train");
        const run = await cli(["--stack", "train", "--dir", dir], {
            GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, "none.json"),
        });
        const lines = run.stdout.trim().split("\n");
        assert.strictEqual(lines[0], "preflight for stack train");
        assert.match(
            line(lines, "credentials"),
            /^FAIL credentials: no usable application-default credentials: The file at .*none\.json does not exist, or it is not a file\..*\. Fix: gcloud auth application-default login$/,
        );
        assert.strictEqual(
            lines.at(-1),
            "2 passed, 1 failed, 0 warnings, 0 skipped: fix the failures above before pulumi up",
        );
        assert.strictEqual(run.code, 1);
    });

    it("bad arguments: usage on stderr, exit 2", async () => {
        const run = await cli(["--stak", "train"], {});
        assert.strictEqual(
            run.stderr.trim(),
            'unexpected argument "--stak"; usage: preflight --stack <name> [--dir <pulumi project dir>]',
        );
        assert.strictEqual(run.code, 2);
    });
});
