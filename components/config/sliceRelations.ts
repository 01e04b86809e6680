/**
 * Checks between the slice's keys: zones against the accelerator generation and the active zone, runtime and
 * host count, SSH keys and secrets, the service account, the firewall rule, labels, and local repository paths.
 */
import {
    AcceleratorShape,
    knownAcceleratorTypes,
    parseAcceleratorType,
    RUNTIMES_BY_GENERATION,
    ZONES_BY_GENERATION,
} from "./accelerators";
import { Checker } from "./checker";
import { checkServiceAccountId, MAX_LABELS } from "./identifiers";
import { PROGRAM_LABELS, RESERVED_LABEL_KEYS } from "./labels";
import { ConfigPath } from "./problems";
import { classifyRepoUrl } from "./repoUrl";
import {
    firewallSchema,
    localSchema,
    SECTIONS,
    serviceAccountSchema,
    sshFields,
    tpuFields,
    wandbSchema,
} from "./schema";

/** The Cloud IAP TCP-forwarding range, the usual source when SSH goes through IAP. */
export const IAP_SOURCE_RANGE = "35.235.240.0/20";

export function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function checkZones(
    c: Checker,
    shape: AcceleratorShape | undefined,
    target: string | undefined,
): { zones?: readonly string[]; zone?: string } {
    const zoneGiven = c.at(["tpu", "zone"]) !== undefined;
    const zonesGiven = c.at(["tpu", "zones"]) !== undefined;
    if (zoneGiven && zonesGiven) {
        c.add(
            ["tpu", "zones"],
            "and tpu.zone are both set; set exactly one (tpu.zones lists fallback zones, first = preferred)",
            c.fix.rm(["tpu", "zone"]),
        );
        return {};
    }
    if (!zoneGiven && !zonesGiven) {
        c.add(
            ["tpu", "zone"],
            "is required: set tpu.zone, or tpu.zones for an ordered list of fallback zones",
            c.fix.set(["tpu", "zone"], "us-east5-b"),
        );
        return {};
    }
    const single = c.pick(tpuFields.zone, ["tpu", "zone"]);
    const zones = zonesGiven ? c.pick(tpuFields.zones, ["tpu", "zones"]) : single === undefined ? undefined : [single];
    const skip = c.pick(tpuFields.skipZoneCheck, ["tpu", "skipZoneCheck"]);
    if (zones && shape && target === "gcp" && skip === false) {
        const offered = ZONES_BY_GENERATION[shape.generation];
        zones.forEach((z, i) => {
            if (offered.includes(z)) return;
            const path: ConfigPath = zonesGiven ? ["tpu", "zones", i] : ["tpu", "zone"];
            c.add(
                path,
                `does not offer ${shape.generation} TPUs (${shape.generation} zones: ${offered.join(", ")})`,
                `${c.fix.set(path, offered.find((o) => !zones.includes(o)) ?? offered[0])}, or ${c.fix.set(["tpu", "skipZoneCheck"], "true")} for a zone newer than this table`,
            );
        });
    }
    const active = c.pick(SECTIONS.activeZone, ["activeZone"]);
    if (zones && active !== undefined && !zones.includes(active)) {
        c.add(
            ["activeZone"],
            `is not one of ${zonesGiven ? "tpu.zones" : "tpu.zone"} (${zones.join(", ")})`,
            zonesGiven
                ? `${c.fix.set(["activeZone"], zones[0])}, or add ${active} to tpu.zones`
                : `${c.fix.rmKey("activeZone")} (with tpu.zone alone the slice runs there), or list both zones in tpu.zones`,
        );
        return { zones };
    }
    return { zones, zone: zones ? (active ?? zones[0]) : undefined };
}

/** tpu.reclaim fits the role (train reclaims after its handoff, eval after its eval) and never deletes an adopted VM. */
export function checkReclaim(c: Checker, role: string | undefined): void {
    const reclaim = c.pick(tpuFields.reclaim, ["tpu", "reclaim"]);
    if (reclaim === undefined || reclaim === "keep") return;
    const path: ConfigPath = ["tpu", "reclaim"];
    if (c.pick(tpuFields.adopt, ["tpu", "adopt"]) === true) {
        c.add(path, "would delete an adopted VM, which this stack never deletes", c.fix.set(path, "keep"));
        return;
    }
    const fits = role === "train" ? "after-handoff" : role === "eval" ? "after-eval" : undefined;
    if (fits !== undefined && reclaim !== fits) {
        c.add(
            path,
            `is not a point ${role === "eval" ? "an" : "a"} ${role} stack reaches (it reclaims ${fits}, or keeps its slice)`,
            `${c.fix.set(path, fits)}, or ${c.fix.set(path, "keep")}`,
        );
    }
}

export function checkShape(
    c: Checker,
    shape: AcceleratorShape,
    role: string | undefined,
    target: string | undefined,
): void {
    const runtime = c.pick(tpuFields.runtimeVersion, ["tpu", "runtimeVersion"]);
    const runtimes = RUNTIMES_BY_GENERATION[shape.generation];
    if (runtime !== undefined && !runtimes.includes(runtime)) {
        c.add(
            ["tpu", "runtimeVersion"],
            `is not a runtime for ${shape.generation} (allowed: ${runtimes.join(", ")})`,
            c.fix.set(["tpu", "runtimeVersion"], runtimes[0]),
        );
    }
    if (role === "eval" && shape.hosts !== 1) {
        const single = knownAcceleratorTypes().filter((t) => {
            const s = parseAcceleratorType(t);
            return s?.generation === shape.generation && s.hosts === 1;
        });
        c.add(
            ["tpu", "acceleratorType"],
            `spans ${shape.hosts} hosts, but the eval stack runs on a single host (single-host ${shape.generation} types: ${single.join(", ")})`,
            c.fix.set(["tpu", "acceleratorType"], single[single.length - 1]),
        );
    }
    const hosts = target === "local" ? c.pick(localSchema.shape.hosts, ["local", "hosts"]) : undefined;
    if (hosts && hosts.length !== shape.hosts) {
        c.add(
            ["local", "hosts"],
            `lists ${hosts.length} host${hosts.length === 1 ? "" : "s"} but ${shape.type} has ${shape.hosts}`,
            `list exactly ${shape.hosts} host${shape.hosts === 1 ? "" : "s"} under local.hosts, one per worker, in ${c.fix.file()}`,
        );
    }
}

export function checkAccess(c: Checker): void {
    const { sshPrivateKey, wandbApiKey } = c.raw.secretsSet;
    const adopt = c.pick(tpuFields.adopt, ["tpu", "adopt"]);
    const name = c.at(["tpu", "name"]);
    const keyFix = `pulumi config set --secret tpu-sft:sshPrivateKey --stack ${c.stack} < key-file`;
    if (adopt === true && name === undefined) {
        c.add(
            ["tpu", "name"],
            "must name the existing VM when tpu.adopt is true",
            c.fix.set(["tpu", "name"], "<existing-vm-name>"),
        );
    }
    if (adopt === true && !sshPrivateKey) {
        c.add(
            ["tpu", "adopt"],
            "an adopted VM keeps its own metadata, so the program cannot install a generated SSH key on it",
            `${keyFix}, and set ssh.publicKey to a key the VM already accepts`,
        );
    }
    const publicKey = c.at(["ssh", "publicKey"]);
    if (publicKey !== undefined && c.pick(sshFields.publicKey, ["ssh", "publicKey"]) && !sshPrivateKey) {
        c.add(
            ["ssh", "publicKey"],
            "is set but the sshPrivateKey secret is not",
            `${keyFix}, or ${c.fix.rm(["ssh", "publicKey"])} to let the program generate a key`,
            "(set)",
        );
    }
    if (publicKey === undefined && sshPrivateKey) {
        c.add(
            ["ssh", "publicKey"],
            "must be set when the sshPrivateKey secret is given",
            c.fix.set(["ssh", "publicKey"], "ssh-ed25519 AAAA... you@host"),
        );
    }
    if (c.pick(wandbSchema.shape.mode, ["wandb", "mode"]) === "online" && !wandbApiKey) {
        c.addKey(
            "tpu-sft:wandbApiKey",
            "(unset)",
            "W&B mode is online but the API key secret is not set",
            `${c.fix.secret("wandbApiKey", "<key>")}, or ${c.fix.set(["wandb", "mode"], "disabled")}`,
        );
    }
}

export function checkServiceAccount(c: Checker, target: string | undefined): { create?: boolean; id?: string } {
    const base = ["tpu", "serviceAccount"];
    const email = c.pick(serviceAccountSchema.shape.email, [...base, "email"]);
    const emailGiven = c.at([...base, "email"]) !== undefined;
    const create = c.pick(serviceAccountSchema.shape.create, [...base, "create"]);
    if (create === true && emailGiven) {
        c.add(
            [...base, "create"],
            "is true but an email is also given: the program either creates an account or uses the given one",
            `${c.fix.rm([...base, "create"])} to use ${email ?? "the given account"}, or ${c.fix.rm([...base, "email"])} to create one`,
        );
        return {};
    }
    const decided = create ?? !emailGiven;
    if (!decided || target !== "gcp") return { create: decided };
    const id = `tpu-sft-${c.stack}`;
    const problem = checkServiceAccountId(id);
    if (problem) {
        c.add(
            [...base, "email"],
            `is unset, so the program creates an account named after the stack, "${id}", but ${problem}`,
            `create an account yourself and ${c.fix.set([...base, "email"], "NAME@PROJECT.iam.gserviceaccount.com")}, or use a shorter stack name`,
        );
        return { create: decided };
    }
    return { create: decided, id };
}

export function checkFirewall(c: Checker, target: string | undefined): void {
    if (target !== "gcp") return;
    const create = c.pick(firewallSchema.shape.create, ["tpu", "firewall", "create"]);
    const ranges = c.pick(firewallSchema.shape.sourceRanges, ["tpu", "firewall", "sourceRanges"]);
    if (create === true && ranges !== undefined && ranges.length === 0) {
        c.add(
            ["tpu", "firewall", "sourceRanges"],
            "is required when target is gcp and tpu.firewall.create is true: the rule admits tcp:22 only from these ranges, and the program never opens 0.0.0.0/0 by itself",
            `${c.fix.set(["tpu", "firewall", "sourceRanges", 0], "203.0.113.0/24")} with the range pulumi up connects from (${IAP_SOURCE_RANGE} is IAP's range, for SSH through IAP), or ${c.fix.set(["tpu", "firewall", "create"], "false")} if a rule already admits port 22`,
        );
    }
}

export function checkLabels(c: Checker): void {
    const labels = c.pick(tpuFields.labels, ["tpu", "labels"]);
    if (!labels) return;
    const keys = Object.keys(labels);
    for (const key of keys) {
        if (!RESERVED_LABEL_KEYS.includes(key)) continue;
        const owner = key in PROGRAM_LABELS ? "this program" : "the @pulumi/gcp provider";
        c.add(
            ["tpu", "labels", key],
            `is a label ${owner} sets on every resource it creates, so this value would be overwritten`,
            c.fix.rm(["tpu", "labels", key]),
        );
    }
    const own = RESERVED_LABEL_KEYS.filter((k) => !keys.includes(k)).length;
    if (keys.length + own > MAX_LABELS) {
        c.add(
            ["tpu", "labels"],
            `has ${keys.length} labels; with the ${own} the program and provider add (${RESERVED_LABEL_KEYS.join(", ")}) that is ${keys.length + own}, over GCP's limit of ${MAX_LABELS}`,
            `remove at least ${keys.length + own - MAX_LABELS} labels from tpu.labels in ${c.fix.file()}`,
            `(${keys.length} labels)`,
        );
    }
}

export function checkRepos(c: Checker, target: string | undefined): void {
    if (target !== "gcp") return;
    for (const [name, example] of [
        ["mllmJax", "https://github.com/demon2036/MLLM-JAX.git"],
        ["miniOneRec", "https://github.com/AkaliKong/MiniOneRec.git"],
    ] as const) {
        const url = c.at(["repos", name, "url"]);
        if (typeof url === "string" && classifyRepoUrl(url).kind === "local") {
            c.add(
                ["repos", name, "url"],
                "is a local path, which only the local target (the rehearsal) can clone; TPU workers need an https, ssh or user@host:path URL",
                c.fix.set(["repos", name, "url"], example),
            );
        }
    }
}
