/**
 * What a fresh GCP project needs for this program, and the names the program gives what it creates there.
 * Pure: the stacks (through the components) and `npm run preflight` share these, so both agree on every name.
 */
import { createHash } from "crypto";

/**
 * The APIs `pulumi up` calls: TPU VMs, the firewall and networks, the service account, the bucket. Enabled by
 * the program (`project.enableServices`, never disabled on destroy) or named by preflight.
 */
export const REQUIRED_SERVICES = [
    "tpu.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    "storage.googleapis.com",
] as const;

/** GCE names (firewall rules) and network tags: RFC 1035 labels of at most 63 characters. */
const RFC1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function shortHash(text: string, length: number): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Lowercase letters, digits and single '-', starting with a letter. */
function slug(text: string): string {
    const cleaned = text
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^[^a-z]+/, "")
        .replace(/-+$/, "");
    return cleaned;
}

/** `base` + `suffix`, shortened with a hash of the full text when longer than `max`, so distinct inputs stay distinct. */
function bounded(base: string, suffix: string, max: number): string {
    const full = `${base}${suffix}`;
    if (full.length <= max) return full;
    const hash = `-${shortHash(full, 6)}`;
    return `${base.slice(0, max - suffix.length - hash.length).replace(/-+$/, "")}${hash}${suffix}`;
}

/**
 * The account id of the stack's service account (`<id>@<project>.iam.gserviceaccount.com`): 6 to 30 characters,
 * a lowercase letter first, letters, digits and '-', no trailing '-' (IAM's rule for service account ids).
 */
export function serviceAccountId(stack: string): string {
    const id = bounded(slug(`tpu-sft-${stack}`), "", 30);
    if (!/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(id)) {
        throw new Error(`cannot derive a service account id from stack "${stack}" (got "${id}")`);
    }
    return id;
}

/** The network tag on the slice's VMs, which the SSH firewall rule targets; unique per VM name. */
export function sliceNetworkTag(vmName: string): string {
    const tag = bounded(slug(vmName) || "tpu", "-ssh", 63);
    if (!RFC1035.test(tag) || tag.length > 63) {
        throw new Error(`cannot derive a network tag from VM name "${vmName}" (got "${tag}")`);
    }
    return tag;
}

/** The firewall rule admitting SSH to the slice; named like its tag (rule names are unique per project). */
export function sshFirewallName(vmName: string): string {
    return sliceNetworkTag(vmName);
}

/** The network's short name, from `default` or `projects/p/global/networks/default` (or a full URL). */
export function networkName(network: string): string {
    return (
        network
            .split("/")
            .filter((p) => p !== "")
            .pop() ?? network
    );
}

/** The bucket of a `gs://bucket/object` URI. */
export function bucketOfUri(uri: string): string {
    const match = /^gs:\/\/([^/]+)\//.exec(uri);
    if (!match) {
        throw new Error(`not a gs:// object URI: ${uri}`);
    }
    return match[1];
}

export interface ServiceAccountSettings {
    readonly email?: string;
    readonly create?: boolean;
}

/** Who the VMs run as: an account this stack creates, an existing one given by email, or nobody known. */
export type ServiceAccountPlan =
    | { readonly kind: "create"; readonly accountId: string }
    | { readonly kind: "existing"; readonly email: string }
    /** No account to grant to: the default compute account (which new organizations give no roles), or an adopted VM's own. */
    | { readonly kind: "none" };

/**
 * `create` defaults to true when no email is given. With an email and `create`, the account is created with the
 * email's id. An adopted VM keeps its own account, so nothing is created for it; grants go to `email` when given.
 */
export function serviceAccountPlan(
    stack: string,
    settings: ServiceAccountSettings,
    adopt: boolean,
): ServiceAccountPlan {
    const create = settings.create ?? settings.email === undefined;
    if (adopt) {
        return settings.email ? { kind: "existing", email: settings.email } : { kind: "none" };
    }
    if (create) {
        return { kind: "create", accountId: settings.email ? settings.email.split("@")[0] : serviceAccountId(stack) };
    }
    return settings.email ? { kind: "existing", email: settings.email } : { kind: "none" };
}
