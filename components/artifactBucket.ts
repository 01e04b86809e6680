/**
 * The GCS bucket that carries checkpoints from the train VM to the eval VM. A created bucket is kept on
 * `pulumi destroy` (retainOnDelete): reclaiming TPUs must never delete checkpoints.
 */
import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/gcp/storage";
import { withProgramLabels } from "./config/labels";

export interface ArtifactBucketArgs {
    readonly project: string;
    readonly bucketName: string;
    /** Create it (and keep it on destroy), or use an existing bucket of that name. */
    readonly create: boolean;
    /** A region next to the TPUs, so multi-GB checkpoints do not cross regions. */
    readonly location: string;
    readonly labels: Readonly<Record<string, string>>;
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
                    forceDestroy: false,
                    labels: withProgramLabels(args.labels),
                },
                { parent: this, retainOnDelete: true },
            );
            this.bucketName = bucket.name;
        } else {
            this.bucketName = pulumi.output(args.bucketName);
        }
        this.url = pulumi.interpolate`gs://${this.bucketName}`;
        this.registerOutputs({ bucketName: this.bucketName, url: this.url });
    }
}
