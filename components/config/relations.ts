/**
 * Checks between keys (zones and accelerator, role and sections, intervals and time limit, runs among
 * themselves, names derived from the stack) and the values derived from them. Each check uses only values that
 * are valid on their own, so a bad value is reported once, where it is, and not again here.
 */
import {
    AcceleratorShape,
    parseAcceleratorType,
    regionOf,
    RUNTIMES_BY_GENERATION,
    ZONES_BY_GENERATION,
    knownAcceleratorTypes,
} from "./accelerators";
import { checkBucketName, checkResourceName, checkServiceAccountId, MAX_LABELS } from "./identifiers";
import { PROGRAM_LABELS, RESERVED_LABEL_KEYS } from "./labels";
import type { Checker } from "./loadConfig";
import { ConfigPath } from "./problems";
import { classifyRepoUrl } from "./repoUrl";
import { isWithin } from "./repoPath";
import {
    bucketFields,
    evalFields,
    evalRunSchema,
    firewallSchema,
    localSchema,
    SECTIONS,
    serviceAccountSchema,
    sshFields,
    tpuFields,
    trainFields,
    trainRunSchema,
    wandbSchema,
} from "./schema";

/** Values derived while checking; all defined when no problem was reported. */
export interface Derived {
    readonly shape?: AcceleratorShape;
    readonly zones?: readonly string[];
    readonly zone?: string;
    readonly region?: string;
    readonly vmName?: string;
    readonly bucketName?: string;
    readonly bucketLocation?: string;
    readonly serviceAccountCreate?: boolean;
    readonly serviceAccountId?: string;
}

/** The Cloud IAP TCP-forwarding range, the usual source when SSH goes through IAP. */
export const IAP_SOURCE_RANGE = "35.235.240.0/20";

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function checkRelations(c: Checker, gcpProject: string | undefined): Derived {
    const role = c.pick(SECTIONS.role, ["role"]);
    const target = c.pick(SECTIONS.target, ["target"]);
    checkSectionsForRoleAndTarget(c, role, target);

    const tpuOk = isObject(c.at(["tpu"]));
    const type = c.pick(tpuFields.acceleratorType, ["tpu", "acceleratorType"]);
    const shape = type === undefined ? undefined : parseAcceleratorType(type);
    const { zones, zone } = tpuOk ? checkZones(c, shape, target) : { zones: undefined, zone: undefined };
    if (shape) checkShape(c, shape, role, target);

    checkAccess(c);
    const serviceAccount = tpuOk ? checkServiceAccount(c, target) : { create: undefined, id: undefined };
    if (tpuOk) {
        checkFirewall(c, target);
        checkLabels(c);
    }
    checkRepos(c, target);
    if (role === "train" && isObject(c.at(["train"]))) checkRuns(c, "train");
    if (role === "eval" && isObject(c.at(["eval"]))) {
        checkRuns(c, "eval");
        checkEvalSources(c);
    }

    const vmName = tpuOk && type !== undefined ? nameOfVm(c, type) : undefined;
    const bucketName = nameOfBucket(c, gcpProject);
    const location = c.pick(bucketFields.location, ["bucket", "location"]);
    return {
        shape,
        zones,
        zone,
        region: zone === undefined ? undefined : regionOf(zone),
        vmName,
        bucketName,
        bucketLocation: location?.toUpperCase() ?? (zones ? regionOf(zones[0]).toUpperCase() : undefined),
        serviceAccountCreate: serviceAccount.create,
        serviceAccountId: serviceAccount.id,
    };
}

function checkSectionsForRoleAndTarget(c: Checker, role: string | undefined, target: string | undefined): void {
    const example = `see Pulumi.${role ?? "train"}.yaml in the repository`;
    if (role === "train" && c.at(["train"]) === undefined) {
        c.add(["train"], "is required for a train stack (role train)", `add a train section with runs (${example})`);
    }
    if (role === "eval" && c.at(["eval"]) === undefined) {
        c.add(["eval"], "is required for an eval stack (role eval)", `add an eval section with runs (${example})`);
    }
    for (const [section, owner] of [
        ["train", "train"],
        ["eval", "eval"],
    ] as const) {
        if (role !== undefined && role !== owner && c.at([section]) !== undefined) {
            c.add(
                [section],
                `is only read by a${owner === "eval" ? "n" : ""} ${owner} stack, and this stack's role is ${role}`,
                c.fix.rmKey(section),
            );
        }
    }
    if (target === "local" && c.at(["local"]) === undefined) {
        c.add(
            ["local"],
            "must list the hosts and the storage endpoint when target is local",
            c.fix.set(["local", "hosts", 0, "host"], "10.0.0.2"),
        );
    }
    if (target === "gcp" && c.at(["local"]) !== undefined) {
        c.add(["local"], "is only read when target is local, and this stack's target is gcp", c.fix.rmKey("local"));
    }
}

function checkZones(
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

function checkShape(c: Checker, shape: AcceleratorShape, role: string | undefined, target: string | undefined): void {
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

function checkAccess(c: Checker): void {
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

function checkServiceAccount(c: Checker, target: string | undefined): { create?: boolean; id?: string } {
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

function checkFirewall(c: Checker, target: string | undefined): void {
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

function checkLabels(c: Checker): void {
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

function checkRepos(c: Checker, target: string | undefined): void {
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

function checkRuns(c: Checker, section: "train" | "eval"): void {
    const runs = c.at([section, "runs"]);
    if (!Array.isArray(runs)) return;
    const runSchema = section === "train" ? trainRunSchema : evalRunSchema;
    const fields = section === "train" ? trainFields : evalFields;
    const seen = new Map<string, number>();
    const dirs: (string | undefined)[] = [];
    const configs: (string | undefined)[] = [];
    runs.forEach((_, i) => {
        const name = c.pick(runSchema.shape.name, [section, "runs", i, "name"]);
        if (name !== undefined) {
            const first = seen.get(name);
            if (first !== undefined) {
                c.add(
                    [section, "runs", i, "name"],
                    `repeats ${section}.runs[${first}].name`,
                    c.fix.set([section, "runs", i, "name"], "<another-name>"),
                );
            } else {
                seen.set(name, i);
            }
        }
        dirs.push(c.pick(runSchema.shape.outputDir, [section, "runs", i, "outputDir"]));
        configs.push(c.pick(runSchema.shape.config, [section, "runs", i, "config"]));
    });
    dirs.forEach((dir, j) => {
        if (dir === undefined) return;
        for (let i = 0; i < j; i++) {
            const other = dirs[i];
            if (other === undefined) continue;
            const relation =
                dir === other
                    ? "is the same directory as"
                    : isWithin(dir, other)
                      ? "lies inside"
                      : isWithin(other, dir)
                        ? "contains"
                        : undefined;
            if (relation === undefined) continue;
            c.add(
                [section, "runs", j, "outputDir"],
                `${relation} ${section}.runs[${i}].outputDir (${other} and ${dir} after normalization); each run needs its own output directory`,
                c.fix.set([section, "runs", j, "outputDir"], "runs/<another-dir>"),
            );
            break;
        }
    });
    configs.forEach((config, j) => {
        const first = config === undefined ? -1 : configs.indexOf(config);
        if (first >= 0 && first < j) {
            c.add(
                [section, "runs", j, "config"],
                `is the same YAML as ${section}.runs[${first}].config, so both runs would write its one output_dir`,
                c.fix.set([section, "runs", j, "config"], "projects/minionerec/sft/configs/<name>.yaml"),
            );
        }
    });
    checkTiming(c, section, fields);
}

function checkTiming(c: Checker, section: "train" | "eval", fields: typeof trainFields | typeof evalFields): void {
    const minutes = c.pick(fields.timeLimitMinutes, [section, "timeLimitMinutes"]);
    const poll = c.pick(fields.pollSeconds, [section, "pollSeconds"]);
    const grace = c.pick(fields.graceSeconds, [section, "graceSeconds"]);
    const progress = c.pick(fields.progressSeconds, [section, "progressSeconds"]);
    if (minutes === undefined) return;
    const limit = minutes * 60;
    const within = `the time limit of ${limit} s (${section}.timeLimitMinutes ${minutes})`;
    const raise = c.fix.set([section, "timeLimitMinutes"], String(Math.max(minutes, 60)));
    if (poll !== undefined && poll >= limit) {
        c.add(
            [section, "pollSeconds"],
            `is not shorter than ${within}`,
            `${c.fix.set([section, "pollSeconds"], String(Math.max(1, Math.floor(limit / 10))))}, or raise the limit: ${raise}`,
        );
    } else if (poll !== undefined && grace !== undefined && poll + grace > limit) {
        c.add(
            [section, "graceSeconds"],
            `plus ${section}.pollSeconds (${poll}) is ${poll + grace} s, longer than ${within}`,
            `${c.fix.set([section, "graceSeconds"], String(Math.max(0, Math.floor((limit - poll) / 2))))}, or raise the limit: ${raise}`,
        );
    }
    if (progress !== undefined && progress > limit) {
        c.add(
            [section, "progressSeconds"],
            `is longer than ${within}, so no progress line would ever be printed`,
            `${c.fix.set([section, "progressSeconds"], String(Math.max(1, Math.floor(limit / 4))))}, or raise the limit: ${raise}`,
        );
    }
}

function checkEvalSources(c: Checker): void {
    const trainStackGiven = c.at(["eval", "trainStack"]) !== undefined;
    const checkpointsGiven = c.at(["eval", "checkpoints"]) !== undefined;
    if (trainStackGiven === checkpointsGiven) {
        c.add(
            ["eval", "trainStack"],
            trainStackGiven ? "and eval.checkpoints are both set; choose one source" : "names no source of checkpoints",
            `${c.fix.set(["eval", "trainStack"], "organization/tpu-sft/train")}, or list explicit gs:// checkpoints under eval.checkpoints`,
        );
        return;
    }
    const checkpoints = c.pick(evalFields.checkpoints, ["eval", "checkpoints"]);
    const runs = c.at(["eval", "runs"]);
    if (!checkpoints || !Array.isArray(runs)) return;
    runs.forEach((_, i) => {
        const trainRun = c.pick(evalRunSchema.shape.trainRun, ["eval", "runs", i, "trainRun"]);
        const kind = c.pick(evalRunSchema.shape.checkpoint, ["eval", "runs", i, "checkpoint"]);
        if (trainRun === undefined || kind === undefined || checkpoints[trainRun]?.[kind]) return;
        c.add(
            ["eval", "runs", i, "trainRun"],
            `has no '${kind}' checkpoint under eval.checkpoints`,
            c.fix.set(
                ["eval", "checkpoints", trainRun, kind, "uri"],
                `gs://my-bucket/sft_match_official/${trainRun}/sft_state_${kind}.msgpack`,
            ),
        );
    });
}

function nameOfVm(c: Checker, type: string): string | undefined {
    const given = c.at(["tpu", "name"]);
    if (given !== undefined) return c.pick(tpuFields.name, ["tpu", "name"]);
    const derived = `mllm-jax-${type}-${c.stack}`;
    const problem = checkResourceName(derived, "TPU node name");
    if (problem) {
        c.add(
            ["tpu", "name"],
            `is unset, and the default derived from the stack name, "${derived}", is not valid: ${problem}`,
            c.fix.set(["tpu", "name"], `mllm-jax-${type}-sft`),
        );
        return undefined;
    }
    return derived;
}

function nameOfBucket(c: Checker, gcpProject: string | undefined): string | undefined {
    if (c.at(["bucket", "name"]) !== undefined) return c.pick(bucketFields.name, ["bucket", "name"]);
    if (gcpProject === undefined) return undefined;
    const derived = `${gcpProject}-mllm-jax-artifacts`;
    const problem = checkBucketName(derived);
    if (problem) {
        c.add(
            ["bucket", "name"],
            `is unset, and the default derived from gcp:project, "${derived}", is not a valid bucket name: it ${problem}`,
            c.fix.set(["bucket", "name"], "my-project-mllm-jax-artifacts"),
        );
        return undefined;
    }
    return derived;
}
