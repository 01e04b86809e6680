/**
 * The artifact bucket's name against GCS (JSON API `buckets.get`): 404 means free, 200 means it exists and names
 * its project number, 403 means it exists and someone else owns it (bucket names are global).
 *
 * - train, creating: free is fine; one owned in this project must be in the stack's state, or be imported
 *   (`bucket.adopt`), else the create fails with 409 after a `pulumi destroy` kept it.
 * - train using an existing bucket, and eval: it must exist and be readable; eval's grants use IAM Conditions,
 *   which need uniform bucket-level access on it.
 */
import { StackConfig } from "../../components/config/loadConfig";
import { bucketOfUri } from "../../components/gcp/readiness";
import { apiError, GoogleApis } from "./apis";
import { CheckResult, fail, pass, warn } from "./result";
import { StateAnswer } from "./stackState";

interface BucketResource {
    readonly projectNumber?: string;
    readonly iamConfiguration?: { readonly uniformBucketLevelAccess?: { readonly enabled?: boolean } };
}

export interface BucketCheckContext {
    readonly api: GoogleApis;
    readonly config: StackConfig;
    readonly projectNumber: string;
    /** Asked only when the answer matters. */
    readonly stateHoldsBucket: () => Promise<StateAnswer>;
}

export async function checkBucket(ctx: BucketCheckContext): Promise<CheckResult[]> {
    const { api, config } = ctx;
    const name = config.bucketName;
    const set = (path: string, value: string) => `pulumi config set --path ${path} ${value} --stack ${config.stack}`;
    const response = await api.get("storage", `/storage/v1/b/${encodeURIComponent(name)}`);
    const bucket = response.data as BucketResource;
    const ours = response.status === 200 && bucket.projectNumber === ctx.projectNumber;
    const creating = config.role === "train" && config.bucket.create;

    if (response.status !== 200 && response.status !== 404 && response.status !== 403) {
        return [
            fail(
                "bucket",
                `cannot read gs://${name}: ${apiError(response)}`,
                `gcloud storage buckets describe gs://${name}`,
            ),
        ];
    }
    if (creating) {
        if (response.status === 403) {
            return [
                fail(
                    "bucket",
                    `gs://${name} exists and belongs to someone else (bucket names are global)`,
                    set("bucket.name", "<another-globally-unique-name>"),
                ),
            ];
        }
        if (response.status === 200 && !ours) {
            return [
                fail(
                    "bucket",
                    `gs://${name} exists in another project (number ${bucket.projectNumber}), not ${config.gcpProject}`,
                    `${set("bucket.name", "<another-name>")}, or ${set("bucket.create", "false")} to use it as it is`,
                ),
            ];
        }
        if (response.status === 404) {
            return config.bucket.adopt
                ? [
                      fail(
                          "bucket",
                          `bucket.adopt is true but gs://${name} does not exist, so there is nothing to import`,
                          set("bucket.adopt", "false"),
                      ),
                  ]
                : [pass("bucket", `gs://${name} is free; pulumi up creates it in ${config.bucketLocation}`)];
        }
        if (config.bucket.adopt) {
            return [pass("bucket", `gs://${name} exists in ${config.gcpProject}; pulumi up imports it (bucket.adopt)`)];
        }
        const state = await ctx.stateHoldsBucket();
        if (state.known && state.holds) {
            return [pass("bucket", `gs://${name} exists and this stack's state holds it`)];
        }
        if (state.known) {
            return [
                fail(
                    "bucket",
                    `gs://${name} exists in ${config.gcpProject} but not in stack ${config.stack}'s state (kept by an earlier pulumi destroy?); creating it again fails with 409`,
                    set("bucket.adopt", "true"),
                ),
            ];
        }
        return [
            warn(
                "bucket",
                `gs://${name} exists in ${config.gcpProject}; could not read the stack's state (${state.why}) to tell whether pulumi up would import or re-create it`,
                `if pulumi destroy kept it: ${set("bucket.adopt", "true")}`,
            ),
        ];
    }

    const results: CheckResult[] = [];
    const what = config.role === "eval" ? "eval's artifact bucket" : "bucket (bucket.create false)";
    if (response.status === 404) {
        results.push(
            fail(
                "bucket",
                `${what} gs://${name} does not exist`,
                config.role === "eval"
                    ? `pulumi up --stack train first (it creates the bucket), or ${set("bucket.name", "<the train stack's bucket>")}`
                    : `${set("bucket.create", "true")}, or gcloud storage buckets create gs://${name} --project ${config.gcpProject} --location ${config.bucketLocation} --uniform-bucket-level-access`,
            ),
        );
    } else if (response.status === 403) {
        results.push(
            fail(
                "bucket",
                `${what} gs://${name} exists but these credentials cannot read it: ${apiError(response)}`,
                `gcloud storage buckets add-iam-policy-binding gs://${name} --member user:<you> --role roles/storage.admin (by the bucket's owner)`,
            ),
        );
    } else if (config.role === "eval" && bucket.iamConfiguration?.uniformBucketLevelAccess?.enabled !== true) {
        results.push(
            fail(
                "bucket",
                `gs://${name} lacks uniform bucket-level access, which eval's conditioned grant (writes under ${config.bucket.prefix}/eval/ only) needs`,
                `gcloud storage buckets update gs://${name} --uniform-bucket-level-access`,
            ),
        );
    } else {
        results.push(
            pass("bucket", `${what} gs://${name} exists${ours ? "" : ` (in project number ${bucket.projectNumber})`}`),
        );
    }
    for (const other of explicitCheckpointBuckets(config).filter((b) => b !== name)) {
        const r = await api.get("storage", `/storage/v1/b/${encodeURIComponent(other)}`);
        results.push(
            r.status === 200
                ? pass("checkpoint bucket", `gs://${other} exists`)
                : fail(
                      "checkpoint bucket",
                      `gs://${other} (named by eval.checkpoints) ${r.status === 404 ? "does not exist" : `cannot be read: ${apiError(r)}`}`,
                      `pulumi config set --path 'eval.checkpoints.<run>.<kind>.uri' gs://<bucket>/<object> --stack ${config.stack}`,
                  ),
        );
    }
    return results;
}

function explicitCheckpointBuckets(config: StackConfig): string[] {
    const uris = Object.values(config.eval?.checkpoints ?? {}).flatMap((kinds) =>
        Object.values(kinds).flatMap((c) => (c ? [c.uri] : [])),
    );
    return [...new Set(uris.map(bucketOfUri))].sort();
}
