/**
 * Checks between keys and the values derived from them: which sections the role and target need, the slice
 * (sliceRelations.ts), the runs (runRelations.ts), and names derived from the stack or project. Each check uses
 * only values that are valid on their own, so a bad value is reported once, where it is, and not again here.
 */
import { AcceleratorShape, parseAcceleratorType, regionOf } from "./accelerators";
import { Checker } from "./checker";
import { checkBucketName, checkResourceName } from "./identifiers";
import { checkEvalSources, checkRuns } from "./runRelations";
import { bucketFields, SECTIONS, tpuFields } from "./schema";
import {
    checkAccess,
    checkFirewall,
    checkLabels,
    checkReclaim,
    checkRepos,
    checkServiceAccount,
    checkShape,
    checkZones,
    isObject,
} from "./sliceRelations";

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

export function checkRelations(c: Checker, gcpProject: string | undefined): Derived {
    const role = c.pick(SECTIONS.role, ["role"]);
    const target = c.pick(SECTIONS.target, ["target"]);
    checkSectionsForRoleAndTarget(c, role, target);

    const tpuOk = isObject(c.at(["tpu"]));
    const type = c.pick(tpuFields.acceleratorType, ["tpu", "acceleratorType"]);
    const shape = type === undefined ? undefined : parseAcceleratorType(type);
    const { zones, zone } = tpuOk ? checkZones(c, shape, target) : { zones: undefined, zone: undefined };
    if (shape) checkShape(c, shape, role, target);
    if (tpuOk) checkReclaim(c, role);

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
    const local = c.at(["local"]) as Record<string, unknown> | undefined;
    if (target === "local" && local !== undefined && (local.hosts === undefined) === (local.slice === undefined)) {
        c.add(
            ["local"],
            local.hosts === undefined
                ? "must name either local.hosts (fixed hosts) or local.slice (the control-plane twin)"
                : "names both local.hosts and local.slice; the slice's hosts come from its control plane",
            local.hosts === undefined
                ? c.fix.set(["local", "hosts", 0, "host"], "10.0.0.2")
                : c.fix.rm(["local", "hosts"]),
        );
    }
    if (target === "gcp" && c.at(["local"]) !== undefined) {
        c.add(["local"], "is only read when target is local, and this stack's target is gcp", c.fix.rmKey("local"));
    }
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
