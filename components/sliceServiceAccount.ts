/**
 * The identity the slice's VMs run as: a service account this stack creates (one per stack, so the train and
 * eval VMs get different bucket grants), or an existing account given by email. New organizations give the
 * default compute account no roles, so the program never relies on it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";

export interface SliceServiceAccountArgs {
    readonly project: string;
    /** Create the account `accountId` (6-30 characters), or use the existing account `email`. */
    readonly create: boolean;
    readonly accountId?: string;
    readonly email?: string;
    /** Shown in the console, e.g. "tpu-sft train VMs". */
    readonly displayName: string;
}

export function validateSliceServiceAccountArgs(args: SliceServiceAccountArgs): string | undefined {
    if (args.create && !args.accountId) return "`accountId` is required when `create` is true";
    if (args.create && !/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(args.accountId ?? "")) {
        return `\`accountId\` must be 6-30 lowercase letters, digits or '-', starting with a letter; got ${args.accountId}`;
    }
    if (!args.create && !args.email) return "`email` is required when `create` is false";
    return undefined;
}

export class SliceServiceAccount extends pulumi.ComponentResource {
    public readonly email: pulumi.Output<string>;
    /** The IAM member, `serviceAccount:<email>`. */
    public readonly member: pulumi.Output<string>;

    constructor(name: string, args: SliceServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:gcp:SliceServiceAccount", name, {}, opts);
        const problem = validateSliceServiceAccountArgs(args);
        if (problem) {
            throw new pulumi.ResourceError(problem, this);
        }
        if (args.create) {
            const account = new serviceaccount.Account(
                `${name}-account`,
                {
                    project: args.project,
                    accountId: args.accountId,
                    displayName: args.displayName,
                    description: "Runs the tpu-sft TPU VMs; granted access on the artifact bucket only.",
                },
                { parent: this, dependsOn: opts?.dependsOn },
            );
            this.email = account.email;
        } else {
            this.email = pulumi.output(args.email as string);
        }
        this.member = pulumi.interpolate`serviceAccount:${this.email}`;
        this.registerOutputs({ email: this.email, member: this.member });
    }
}
