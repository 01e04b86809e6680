/**
 * The network path to port 22: the VPC network and a subnetwork in the slice's region exist, and a firewall rule
 * admits tcp:22 to the slice (its network tag, or all instances). The program creates that rule unless
 * `tpu.firewall.create` is false; then one must already exist. Deny rules are not evaluated.
 */
import { StackConfig } from "../../components/config/loadConfig";
import { networkName, sliceNetworkTag, sshFirewallName } from "../../components/gcp/readiness";
import { apiError, GoogleApis } from "./apis";
import { CheckResult, fail, pass } from "./result";

export interface NetworkRef {
    readonly project: string;
    readonly name: string;
}

/** `default`, `projects/<p>/global/networks/<n>` or a full URL, with the project it lives in. */
export function networkRef(network: string, project: string): NetworkRef {
    const match = /projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(network);
    return match ? { project: match[1], name: match[2] } : { project, name: networkName(network) };
}

interface Network {
    readonly autoCreateSubnetworks?: boolean;
    readonly subnetworks?: readonly string[];
}

export async function checkNetwork(api: GoogleApis, config: StackConfig): Promise<CheckResult[]> {
    const net = networkRef(config.tpu.network, config.gcpProject);
    const set = (path: string, example: string) =>
        `pulumi config set --path ${path} ${example} --stack ${config.stack}`;
    const response = await api.get(
        "compute",
        `/compute/v1/projects/${encodeURIComponent(net.project)}/global/networks/${encodeURIComponent(net.name)}`,
    );
    if (response.status === 404) {
        return [
            fail(
                "network",
                `network ${net.name} does not exist in project ${net.project}`,
                `gcloud compute networks create ${net.name} --project ${net.project} --subnet-mode auto, or ${set("tpu.network", "<existing-network>")}`,
            ),
        ];
    }
    if (response.status !== 200) {
        return [
            fail(
                "network",
                `cannot read network ${net.name}: ${apiError(response)}`,
                `gcloud compute networks describe ${net.name} --project ${net.project}`,
            ),
        ];
    }
    const network = response.data as Network;
    const results = [pass("network", `${net.name} exists in ${net.project}`)];
    if (config.tpu.subnetwork) {
        const subnet = networkName(config.tpu.subnetwork);
        const sub = await api.get(
            "compute",
            `/compute/v1/projects/${encodeURIComponent(net.project)}/regions/${config.region}/subnetworks/${encodeURIComponent(subnet)}`,
        );
        results.push(
            sub.status === 200
                ? pass("subnetwork", `${subnet} exists in ${config.region}`)
                : fail(
                      "subnetwork",
                      `subnetwork ${subnet} in ${config.region}: ${apiError(sub)}`,
                      `gcloud compute networks subnets create ${subnet} --project ${net.project} --network ${net.name} --region ${config.region} --range <cidr, e.g. 10.20.0.0/20>, or ${set("tpu.subnetwork", "<existing-subnetwork>")}`,
                  ),
        );
    } else if (network.autoCreateSubnetworks) {
        results.push(
            pass("subnetwork", `${net.name} is an auto-mode network: it has a subnetwork in ${config.region}`),
        );
    } else if ((network.subnetworks ?? []).some((s) => s.includes(`/regions/${config.region}/subnetworks/`))) {
        results.push(pass("subnetwork", `${net.name} has a subnetwork in ${config.region}`));
    } else {
        results.push(
            fail(
                "subnetwork",
                `custom-mode network ${net.name} has no subnetwork in ${config.region}`,
                `gcloud compute networks subnets create ${net.name}-${config.region} --project ${net.project} --network ${net.name} --region ${config.region} --range <cidr, e.g. 10.20.0.0/20>`,
            ),
        );
    }
    return results;
}

export interface FirewallRule {
    readonly name: string;
    readonly network?: string;
    readonly direction?: string;
    readonly disabled?: boolean;
    readonly sourceRanges?: readonly string[];
    readonly targetTags?: readonly string[];
    readonly targetServiceAccounts?: readonly string[];
    readonly allowed?: readonly { readonly IPProtocol?: string; readonly ports?: readonly string[] }[];
}

/** `22`, `1-1024` and no ports at all cover port 22. */
function coversPort22(ports: readonly string[] | undefined): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
        const [low, high] = p.split("-").map(Number);
        return high === undefined ? low === 22 : low <= 22 && 22 <= high;
    });
}

/** An IPv4 CIDR as its first and last address; undefined for IPv6 or anything malformed. */
function ipv4Range(cidr: string): [number, number] | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr);
    if (!match) return undefined;
    const octets = match.slice(1, 5).map(Number);
    const bits = match[5] === undefined ? 32 : Number(match[5]);
    if (octets.some((o) => o > 255) || bits > 32) return undefined;
    const address = octets.reduce((a, o) => a * 256 + o, 0);
    const size = 2 ** (32 - bits);
    const start = address - (address % size);
    return [start, start + size - 1];
}

/** Whether CIDR `outer` contains CIDR `inner` (IPv4); other forms only match themselves. */
export function cidrCovers(outer: string, inner: string): boolean {
    const o = ipv4Range(outer);
    const i = ipv4Range(inner);
    if (!o || !i) return outer === inner;
    return o[0] <= i[0] && i[1] <= o[1];
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/** Where `pulumi up` connects from: the configured source ranges, or (none given) outside the VPC when the workers have external IPs. */
export interface SshSources {
    readonly ranges: readonly string[];
    readonly externalIps: boolean;
}

function describeSources(sources: SshSources): string {
    if (sources.ranges.length > 0) return ` from ${sources.ranges.join(", ")}`;
    return sources.externalIps ? " from outside the VPC" : "";
}

/**
 * Whether `rule` lets tcp:22 in to a VM tagged `tag` (or to every VM) on `network`, from where `pulumi up` runs:
 * covering every configured source range, or, with none configured and external IPs, from some non-private range
 * (default-allow-internal admits only the VPC itself).
 */
export function admitsSsh(rule: FirewallRule, network: string, tag: string, sources: SshSources): boolean {
    if (rule.disabled || (rule.direction ?? "INGRESS") !== "INGRESS") return false;
    if (!rule.network || networkName(rule.network) !== network) return false;
    const from = rule.sourceRanges ?? [];
    if (from.length === 0) return false;
    const reachable =
        sources.ranges.length > 0
            ? sources.ranges.every((r) => from.some((f) => cidrCovers(f, r)))
            : !sources.externalIps || from.some((f) => !PRIVATE_RANGES.some((p) => cidrCovers(p, f)));
    if (!reachable) return false;
    const targetsAll = !rule.targetTags?.length && !rule.targetServiceAccounts?.length;
    if (!targetsAll && !(rule.targetTags ?? []).includes(tag)) return false;
    return (rule.allowed ?? []).some(
        (a) => (a.IPProtocol === "tcp" || a.IPProtocol === "6" || a.IPProtocol === "all") && coversPort22(a.ports),
    );
}

export async function checkFirewall(api: GoogleApis, config: StackConfig): Promise<CheckResult> {
    const tag = sliceNetworkTag(config.vmName);
    const net = networkRef(config.tpu.network, config.gcpProject);
    if (config.tpu.firewall.create) {
        if (config.tpu.firewall.sourceRanges.length === 0) {
            return fail(
                "firewall",
                "tpu.firewall.sourceRanges is empty: pulumi up would have no address to admit SSH from",
                `pulumi config set --path 'tpu.firewall.sourceRanges[0]' <your-public-ip>/32 --stack ${config.stack}`,
            );
        }
        return pass(
            "firewall",
            `pulumi up creates ${sshFirewallName(config.vmName)}: tcp:22 from ${config.tpu.firewall.sourceRanges.join(", ")} to tag ${tag}`,
        );
    }
    const rules: FirewallRule[] = [];
    let pageToken: string | undefined;
    do {
        const query = pageToken ? `?pageToken=${encodeURIComponent(pageToken)}` : "";
        const response = await api.get(
            "compute",
            `/compute/v1/projects/${encodeURIComponent(net.project)}/global/firewalls${query}`,
        );
        if (response.status !== 200) {
            return fail(
                "firewall",
                `cannot list firewall rules: ${apiError(response)}`,
                `gcloud compute firewall-rules list --project ${net.project}`,
            );
        }
        const page = response.data as { items?: FirewallRule[]; nextPageToken?: string };
        rules.push(...(page.items ?? []));
        pageToken = page.nextPageToken;
    } while (pageToken);
    const sources = { ranges: config.tpu.firewall.sourceRanges, externalIps: config.tpu.enableExternalIps };
    const admitting = rules.find((r) => admitsSsh(r, net.name, tag, sources));
    if (admitting) {
        const target = admitting.targetTags?.length ? `tag ${tag}` : "all instances";
        return pass(
            "firewall",
            `rule ${admitting.name} admits tcp:22 from ${(admitting.sourceRanges ?? []).join(", ")} to ${target} on ${net.name}`,
        );
    }
    return fail(
        "firewall",
        `tpu.firewall.create is false and no enabled ingress rule on ${net.name} admits tcp:22${describeSources(sources)} to tag ${tag} or to all instances`,
        `gcloud compute firewall-rules create ${sshFirewallName(config.vmName)} --project ${net.project} --network ${net.name} --direction INGRESS --allow tcp:22 --target-tags ${tag} --source-ranges ${sources.ranges.join(",") || "<your-public-ip>/32"}, or pulumi config set --path tpu.firewall.create true --stack ${config.stack}`,
    );
}
