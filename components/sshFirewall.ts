/**
 * The firewall rule that lets `pulumi up` reach the slice's workers on tcp:22: ingress to the slice's network
 * tag only, from the source ranges the user sets. The `default-allow-ssh` rule is often deleted and some
 * organizations have no default network, so the program does not rely on it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/gcp/compute";

export interface SshFirewallArgs {
    readonly project: string;
    /** The rule's name (unique in the project). */
    readonly ruleName: string;
    /** `default`, or `projects/<p>/global/networks/<n>`. */
    readonly network: string;
    /** The network tag on the slice's VMs; the rule admits nothing else. */
    readonly targetTag: string;
    /** CIDR ranges allowed to connect, e.g. the deploying machine's address as `203.0.113.7/32`. Never empty. */
    readonly sourceRanges: readonly string[];
}

/**
 * An ingress rule without sources admits 0.0.0.0/0 (GCE fills it in), so an empty list is refused here even
 * if config validation missed it.
 */
export function validateSshFirewallArgs(args: SshFirewallArgs): string | undefined {
    if (args.sourceRanges.length === 0) {
        return (
            "`sourceRanges` is empty, which GCE would turn into 0.0.0.0/0. " +
            "Fix: pulumi config set --path 'tpu.firewall.sourceRanges[0]' <your-ip>/32"
        );
    }
    const bad = args.sourceRanges.find((r) => !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(r));
    if (bad !== undefined) {
        return `\`sourceRanges\` must be CIDR ranges such as 203.0.113.7/32; got ${bad}`;
    }
    return undefined;
}

export class SshFirewall extends pulumi.ComponentResource {
    public readonly ruleName: pulumi.Output<string>;

    constructor(name: string, args: SshFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:gcp:SshFirewall", name, {}, opts);
        const problem = validateSshFirewallArgs(args);
        if (problem) {
            throw new pulumi.ResourceError(problem, this);
        }
        const rule = new compute.Firewall(
            `${name}-rule`,
            {
                project: args.project,
                name: args.ruleName,
                network: args.network,
                direction: "INGRESS",
                allows: [{ protocol: "tcp", ports: ["22"] }],
                sourceRanges: [...args.sourceRanges],
                targetTags: [args.targetTag],
                description: "SSH from the tpu-sft deployer to the slice's workers (managed by Pulumi).",
            },
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.ruleName = rule.name;
        this.registerOutputs({ ruleName: this.ruleName });
    }
}
