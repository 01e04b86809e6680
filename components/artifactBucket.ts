/**
 * The GCS bucket that carries checkpoints from the train VM to the eval VM. A created bucket is kept on
 * `pulumi destroy` (retainOnDelete): reclaiming TPUs must never delete checkpoints.
 *
 * Because it is kept, a later `pulumi up` of a destroyed stack would create it again and fail with 409 ("you
 * already own it"). With `adopt` the bucket is imported instead (Pulumi's `import` resource option): the
 * first `up` reads the existing bucket into the stack's state, and once it is there the option is a no-op
 * (the engine treats a resource whose state ID equals the import ID like any other), so `adopt` can stay set.
 * The import succeeds only if these inputs match the bucket; they do for a bucket this program created.
 * Why not detect it: knowing whether the bucket exists means reading it while the program is evaluated,
 * which a `pulumi preview` must not do; `npm run preflight` reads it and says when to set `bucket.adopt`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/gcp/storage";
import { withProgramLabels } from "./config/labels";

export interface ArtifactBucketArgs {
    readonly project: string;
    readonly bucketName: string;
    /** Create it (and keep it on destroy), or use an existing bucket of that name. */
    readonly create: boolean;
    /** With `create`: import the existing bucket of that name (kept by an earlier destroy) instead of creating it. */
    readonly adopt: boolean;
    /** A region next to the TPUs, so multi-GB checkpoints do not cross regions. */
    readonly location: string;
    /** Noncurrent versions (overwritten checkpoints, deleted upload parts) are deleted after this many days. */
    readonly noncurrentVersionDays: number;
    readonly labels: Readonly<Record<string, string>>;
}

/**
 * Versioning keeps every overwritten checkpoint and every parallel-upload part as a noncurrent version; this
 * rule deletes them `days` after they became noncurrent. 0 needs the provider's explicit send flag.
 */
export function noncurrentVersionRule(days: number): storage.BucketArgs["lifecycleRules"] {
    return [
        {
            action: { type: "Delete" },
            condition: {
                daysSinceNoncurrentTime: days,
                withState: "ARCHIVED",
                ...(days === 0 ? { sendDaysSinceNoncurrentTimeIfZero: true } : {}),
            },
        },
    ];
}

export class ArtifactBucket extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: ArtifactBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:storage:ArtifactBucket", name, {}, opts);
        if (args.create) {
            const bucket = new storage.Bucket(
                `${name}-bucket`,
                {
                    name: args.bucketName,
                    project: args.project,
                    location: args.location,
                    uniformBucketLevelAccess: true,
                    publicAccessPrevention: "enforced",
                    versioning: { enabled: true },
                    lifecycleRules: noncurrentVersionRule(args.noncurrentVersionDays),
                    forceDestroy: false,
                    labels: withProgramLabels(args.labels),
                },
                {
                    parent: this,
                    retainOnDelete: true,
                    dependsOn: opts?.dependsOn,
                    // A bucket's import ID is its name.
                    import: args.adopt ? args.bucketName : undefined,
                },
            );
            this.bucketName = bucket.name;
        } else {
            this.bucketName = pulumi.output(args.bucketName);
        }
        this.url = pulumi.interpolate`gs://${this.bucketName}`;
        this.registerOutputs({ bucketName: this.bucketName, url: this.url });
    }
}
