/**
 * Identifiers checked as Google Cloud checks them, so a name GCP would refuse fails before anything exists.
 * Each check returns undefined when the value is valid, else what is wrong with it (one sentence, no key).
 */
import { isIPv4, isIPv6 } from "net";
import { TPU_REGIONS } from "./accelerators";

const PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;

/**
 * A project ID: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter and not ending
 * with a hyphen; or a legacy domain-scoped ID such as `example.com:my-project`.
 */
export function checkProjectId(id: string): string | undefined {
    const colon = id.indexOf(":");
    const domain = colon >= 0 ? id.slice(0, colon) : undefined;
    const name = colon >= 0 ? id.slice(colon + 1) : id;
    if (domain !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(domain)) {
        return "has a domain part that is not a domain name (a legacy domain-scoped ID looks like example.com:my-project)";
    }
    if (PROJECT_ID.test(name)) return undefined;
    if (name.length < 6 || name.length > 30) return `must be 6-30 characters long (got ${name.length})`;
    if (!/^[a-z]/.test(name)) return "must start with a lowercase letter";
    if (name.endsWith("-")) return "must not end with '-'";
    return "must use only lowercase letters, digits and '-'";
}

/** A TPU node ID (and any RFC 1035 label GCP uses for names): 1-63 characters, [a-z] first, no trailing '-'. */
export function checkResourceName(name: string, what = "name"): string | undefined {
    if (/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) return undefined;
    if (name.length === 0 || name.length > 63) return `a ${what} must be 1-63 characters long (got ${name.length})`;
    if (!/^[a-z]/.test(name)) return `a ${what} must start with a lowercase letter`;
    if (name.endsWith("-")) return `a ${what} must not end with '-'`;
    return `a ${what} may use only lowercase letters, digits and '-'`;
}

/** A service account ID (the part before '@'): 6-30 characters, [a-z] first, lowercase letters, digits, '-'. */
export function checkServiceAccountId(id: string): string | undefined {
    if (/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(id)) return undefined;
    if (id.length < 6 || id.length > 30) return `a service account ID must be 6-30 characters long (got ${id.length})`;
    if (!/^[a-z]/.test(id)) return "a service account ID must start with a lowercase letter";
    if (id.endsWith("-")) return "a service account ID must not end with '-'";
    return "a service account ID may use only lowercase letters, digits and '-'";
}

/**
 * A service account email: `<id>@<project>.iam.gserviceaccount.com` (a domain-scoped project `example.com:p`
 * appears as `p.example.com`), or the Compute Engine default `<project number>-compute@developer.gserviceaccount.com`.
 */
export function checkServiceAccountEmail(email: string): string | undefined {
    if (/^[0-9]{1,20}-compute@developer\.gserviceaccount\.com$/.test(email)) return undefined;
    const match = /^([^@]*)@(.*)\.iam\.gserviceaccount\.com$/.exec(email);
    if (!match) {
        return "must be a service account email: NAME@PROJECT.iam.gserviceaccount.com, or the Compute Engine default NUMBER-compute@developer.gserviceaccount.com";
    }
    const idProblem = checkServiceAccountId(match[1]);
    if (idProblem) return idProblem.replace("a service account ID", "the part before '@'");
    // A domain-scoped project example.com:p appears as p.example.com.
    const project = match[2];
    const scoped = /^([^.]+)\.(.+)$/.exec(project);
    const valid = scoped ? !checkProjectId(`${scoped[2]}:${scoped[1]}`) : !checkProjectId(project);
    return valid ? undefined : "names no valid project ID between '@' and '.iam.gserviceaccount.com'";
}

/** Replaces look-alike digits, so that `g00gle` and `goog1e` read as `google`. */
function deLeet(text: string): string {
    return text.replace(/0/g, "o").replace(/1/g, "l").replace(/3/g, "e");
}

/**
 * Every GCS bucket naming rule (cloud.google.com/storage/docs/buckets#naming): 3-63 characters, or up to 222
 * with dots where each dot-separated part is at most 63; lowercase letters, digits, '-', '_' and '.'; a letter
 * or digit first and last; not an IP address; not starting with "goog"; no "google" or a close misspelling.
 */
export function checkBucketName(name: string): string | undefined {
    const max = name.includes(".") ? 222 : 63;
    if (name.length < 3 || name.length > max) {
        return `must be 3-${max} characters long${max === 63 ? " (up to 222 when it contains dots)" : ""} (got ${name.length})`;
    }
    if (!/^[a-z0-9_.-]+$/.test(name)) return "may use only lowercase letters, digits, '-', '_' and '.'";
    if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return "must start and end with a letter or digit";
    const long = name.split(".").find((part) => part.length > 63);
    if (long !== undefined) return `has a dot-separated part longer than 63 characters (${long.length})`;
    if (name.split(".").some((part) => part === "")) return "must not contain '..'";
    if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(name)) return "must not be an IP address in dotted-decimal form";
    if (name.startsWith("goog")) return "must not start with 'goog'";
    if (deLeet(name).includes("google")) return "must not contain 'google' or a close misspelling of it";
    return undefined;
}

/** Cloud Storage multi-regions and predefined dual-regions (cloud.google.com/storage/docs/locations). */
export const MULTI_REGIONS: readonly string[] = ["US", "EU", "ASIA"];
export const DUAL_REGIONS: readonly string[] = ["ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"];

/** The bucket locations this program accepts: multi-regions, dual-regions, and the regions that have TPUs. */
export function knownBucketLocations(): string[] {
    return [...MULTI_REGIONS, ...DUAL_REGIONS, ...TPU_REGIONS.map((r) => r.toUpperCase())];
}

export function checkBucketLocation(location: string): string | undefined {
    return knownBucketLocations().includes(location.toUpperCase())
        ? undefined
        : "is not a Cloud Storage location this program knows (a multi-region, a dual-region, or a region with TPUs)";
}

/** Label rules shared by Compute/TPU and Cloud Storage: keys 1-63, values 0-63, lowercase, digits, '_', '-'. */
export const MAX_LABELS = 64;

export function checkLabelKey(key: string): string | undefined {
    const length = [...key].length;
    if (length < 1 || length > 63) return `a label key must be 1-63 characters long (got ${length})`;
    if (!/^[\p{Ll}\p{Lo}]/u.test(key)) return "a label key must start with a lowercase letter";
    if (!/^[\p{Ll}\p{Lo}\p{N}_-]+$/u.test(key))
        return "a label key may use only lowercase letters, digits, '_' and '-'";
    return undefined;
}

export function checkLabelValue(value: string): string | undefined {
    const length = [...value].length;
    if (length > 63) return `a label value must be at most 63 characters long (got ${length})`;
    if (!/^[\p{Ll}\p{Lo}\p{N}_-]*$/u.test(value)) {
        return "a label value may use only lowercase letters, digits, '_' and '-'";
    }
    return undefined;
}

/** An IPv4 or IPv6 range in CIDR notation, e.g. 203.0.113.0/24 or 2001:db8::/32. */
export function checkCidr(range: string): string | undefined {
    const match = /^([^/]+)\/([0-9]{1,3})$/.exec(range);
    const problem = "must be an IPv4 or IPv6 range in CIDR form, e.g. 203.0.113.0/24 or 2001:db8::/32";
    if (!match) return problem;
    const [, address, bits] = match;
    if (isIPv4(address) && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){3}$/.test(address)) {
        return Number(bits) <= 32 && !/^0[0-9]/.test(bits) ? undefined : "an IPv4 prefix length must be 0-32";
    }
    if (isIPv6(address)) {
        return Number(bits) <= 128 && !/^0[0-9]/.test(bits) ? undefined : "an IPv6 prefix length must be 0-128";
    }
    return problem;
}

function projectPart(project: string): string | undefined {
    const problem = checkProjectId(project);
    return problem && `has a project part that ${problem}`;
}

/** A VPC network: a name, or `projects/P/global/networks/N`. */
export function checkNetwork(network: string): string | undefined {
    const match = /^projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(network);
    if (match) return projectPart(match[1]) ?? checkResourceName(match[2], "network name");
    return checkResourceName(network, "network name");
}

/** A subnetwork: a name, or `projects/P/regions/R/subnetworks/N`. */
export function checkSubnetwork(subnetwork: string): string | undefined {
    const match = /^projects\/([^/]+)\/regions\/([a-z]+-[a-z]+[0-9]+)\/subnetworks\/([^/]+)$/.exec(subnetwork);
    if (match) return projectPart(match[1]) ?? checkResourceName(match[3], "subnetwork name");
    return checkResourceName(subnetwork, "subnetwork name");
}

/** An SSH host for the local target: an IP address or a DNS name (never something ssh could read as an option). */
export function checkHost(host: string): string | undefined {
    if (isIPv4(host) || isIPv6(host)) return undefined;
    if (
        /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/.test(
            host,
        )
    ) {
        return undefined;
    }
    return "must be an IP address or a host name (letters, digits, '-' and '.')";
}
