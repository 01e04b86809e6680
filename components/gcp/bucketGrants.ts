/**
 * What each stack's VMs may do on the artifact bucket, granted on the bucket (never on the project), so the
 * steps work when the default compute account has no roles. Pure data; components/bucketAccess.ts grants it.
 *
 * Object-name conditions narrow object reads and writes, but not listing: `storage.objects.list` is checked
 * against the bucket (`projects/_/buckets/<b>`), so a `startsWith(".../objects/...")` condition is false for it.
 * `gcloud storage cp` lists the destination prefix when the object does not exist yet, so every stack keeps
 * an unconditional list through roles/storage.objectViewer or objectUser.
 */

export interface BucketGrantCondition {
    readonly title: string;
    readonly description: string;
    /** CEL over `resource.name`; IAM Conditions on a bucket need uniform bucket-level access (the bucket has it). */
    readonly expression: string;
}

export interface BucketGrant {
    readonly bucket: string;
    readonly role: string;
    readonly condition?: BucketGrantCondition;
    /** Why the stack needs it; kept next to the grant so a reviewer need not guess. */
    readonly why: string;
}

/** Every value reaching CEL sits in a double-quoted string literal. */
function celString(text: string): string {
    return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The IAM resource name of objects under `prefix/` in `bucket`, as IAM Conditions see it. */
export function objectResourcePrefix(bucket: string, prefix: string): string {
    return `projects/_/buckets/${bucket}/objects/${prefix.replace(/\/+$/, "")}/`;
}

/**
 * Train writes checkpoints and logs to its own bucket.
 * - roles/storage.objectUser: create, get, list and delete objects. Delete is needed twice: overwriting an
 *   object (a replaced checkpoint) requires storage.objects.delete, and parallel composite uploads (gcloud's
 *   default above 150 MiB, so every checkpoint) upload temporary parts, compose them and delete the parts.
 *   objectCreator + objectViewer lack delete; objectAdmin would add ACL and IAM changes the VMs never need.
 * - roles/storage.legacyBucketReader: storage.buckets.get. Before a composite upload gcloud reads the bucket
 *   (storage class, retention); without it gcloud logs an error and falls back to one slow stream per file.
 */
export function trainBucketGrants(bucket: string): BucketGrant[] {
    return [
        {
            bucket,
            role: "roles/storage.objectUser",
            why: "write checkpoints and logs; delete for overwrites and for parallel composite upload parts",
        },
        {
            bucket,
            role: "roles/storage.legacyBucketReader",
            why: "gcloud reads bucket metadata before a parallel composite upload",
        },
    ];
}

export interface EvalGrantArgs {
    /** Where eval writes its artifacts: gs://<bucket>/<prefix>/eval/<run>/. */
    readonly artifactBucket: string;
    readonly prefix: string;
    /** The buckets of the checkpoints eval reads (from the train stack's outputs or explicit URIs). */
    readonly checkpointBuckets: readonly string[];
}

/**
 * Eval reads checkpoints and writes only under `<prefix>/eval/`.
 * - roles/storage.objectViewer on every checkpoint bucket and on the artifact bucket: read the checkpoints and
 *   object metadata (the size/crc32c checks), and list (see the module comment).
 * - roles/storage.objectUser on the artifact bucket, conditioned on `<prefix>/eval/`: create its artifacts and
 *   replace them on a re-run (storage.objects.delete), nowhere else: eval cannot overwrite a checkpoint.
 */
export function evalBucketGrants(args: EvalGrantArgs): BucketGrant[] {
    const readable = [...new Set([...args.checkpointBuckets, args.artifactBucket])].sort();
    const evalPrefix = objectResourcePrefix(args.artifactBucket, `${args.prefix}/eval`);
    return [
        ...readable.map((bucket) => ({
            bucket,
            role: "roles/storage.objectViewer",
            why:
                bucket === args.artifactBucket
                    ? "read checkpoints and the eval artifacts' metadata; list for gcloud storage cp"
                    : "read checkpoints",
        })),
        {
            bucket: args.artifactBucket,
            role: "roles/storage.objectUser",
            condition: {
                title: "tpu-sft eval artifacts only",
                description: `Objects under gs://${args.artifactBucket}/${args.prefix}/eval/`,
                expression: `resource.name.startsWith(${celString(evalPrefix)})`,
            },
            why: "write and replace eval artifacts under <prefix>/eval/ only",
        },
    ];
}
