/**
 * Bucket-level IAM grants for the slice's service account, one `BucketIAMMember` per grant (additive: other
 * members of the bucket's policy are left alone). What each stack gets is in components/gcp/bucketGrants.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/gcp/storage";
import { BucketGrant } from "./gcp/bucketGrants";

export interface BucketAccessArgs {
    /** The IAM member, e.g. `serviceAccount:<email>`. */
    readonly member: pulumi.Input<string>;
    /** Plain data: the grants decide which resources exist. */
    readonly grants: readonly BucketGrant[];
}

/** The child's name: stable per (bucket, role), so reordering grants replaces nothing. */
export function grantResourceName(name: string, grant: BucketGrant): string {
    return `${name}-${grant.bucket}-${grant.role.replace(/^roles\/(storage\.)?/, "")}`;
}

export class BucketAccess extends pulumi.ComponentResource {
    public readonly members: storage.BucketIAMMember[];

    constructor(name: string, args: BucketAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:gcp:BucketAccess", name, {}, opts);
        const names = args.grants.map((g) => grantResourceName(name, g));
        const duplicate = names.find((n, i) => names.indexOf(n) !== i);
        if (duplicate) {
            throw new pulumi.ResourceError(`two grants of the same role on the same bucket: ${duplicate}`, this);
        }
        this.members = args.grants.map(
            (grant, i) =>
                new storage.BucketIAMMember(
                    names[i],
                    {
                        bucket: grant.bucket,
                        role: grant.role,
                        member: args.member,
                        condition: grant.condition && {
                            title: grant.condition.title,
                            description: grant.condition.description,
                            expression: grant.condition.expression,
                        },
                    },
                    { parent: this, dependsOn: opts?.dependsOn },
                ),
        );
        this.registerOutputs({ grants: this.members.map((m) => m.role) });
    }
}
