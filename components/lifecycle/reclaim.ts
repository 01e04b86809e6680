/**
 * Whether a stack still needs its slice (`tpu.reclaim`): once every run of the stack is complete in the bucket, a
 * stack that reclaims declares no slice, so the update deletes it; its outputs then come from the records in the
 * bucket, and stay what they were. A stack that keeps its slice, or one whose records cannot be read, keeps it.
 */
/** A run's state in the bucket (a train run's HandoffStatus, an eval run's EvalRecordStatus). */
export interface RunStatus {
    readonly state: "complete" | "absent" | "stale";
    readonly reason: string;
}

export type ReclaimPolicy = "after-handoff" | "after-eval" | "keep";

export type ReclaimPlan =
    { readonly slice: "declared"; readonly reason: string } | { readonly slice: "reclaimed"; readonly reason: string };

/** The plan from the policy and each run's status (or the error that kept the statuses from being read). */
export function reclaimPlan(
    policy: ReclaimPolicy,
    statuses: Readonly<Record<string, RunStatus>> | { readonly error: string },
): ReclaimPlan {
    if (policy === "keep") return { slice: "declared", reason: "tpu.reclaim is keep: the slice stays" };
    if ("error" in statuses && typeof statuses.error === "string") {
        return {
            slice: "declared",
            reason: `the records in the bucket could not be read (${statuses.error}), so the slice stays`,
        };
    }
    const runs = Object.entries(statuses as Readonly<Record<string, RunStatus>>);
    const open = runs.filter(([, s]) => s.state !== "complete");
    if (runs.length > 0 && open.length === 0) {
        return {
            slice: "reclaimed",
            reason: `tpu.reclaim is ${policy} and every run (${runs.map(([r]) => r).join(", ")}) is recorded in the bucket: the slice is deleted, the outputs come from the records`,
        };
    }
    return {
        slice: "declared",
        reason: `runs still to do: ${open.map(([r, s]) => `${r} (${s.reason})`).join("; ")}`,
    };
}

/** The stack output that says where the slice stands, and what reclaims it. */
export interface LifecycleOutput {
    readonly reclaim: ReclaimPolicy;
    readonly slice: "up" | "reclaimed";
    /** True when the slice is up although every run is done: the next `pulumi up` (the supervisor runs it) deletes it. */
    readonly reclaimPending: boolean;
    readonly note: string;
}

/** After a successful update every run is done, so a declared slice under a reclaiming policy is pending deletion. */
export function lifecycleOutput(policy: ReclaimPolicy, plan: ReclaimPlan): LifecycleOutput {
    if (plan.slice === "reclaimed") {
        return { reclaim: policy, slice: "reclaimed", reclaimPending: false, note: plan.reason };
    }
    if (policy === "keep") {
        return { reclaim: policy, slice: "up", reclaimPending: false, note: "tpu.reclaim is keep: the slice stays up" };
    }
    return {
        reclaim: policy,
        slice: "up",
        reclaimPending: true,
        note: "every run is done: run `pulumi up` again (npm run supervise does it at once) to delete the slice; the outputs stay",
    };
}

/**
 * Each run's recorded entry, in `names` order, for a stack whose plan reclaims its slice (the plan is "reclaimed"
 * only when every status is complete, so a missing one is a bug).
 */
export function recordedEntries<E>(
    names: readonly string[],
    statuses: Readonly<Record<string, { readonly state: string; readonly entry?: E }>>,
    what: string,
): (readonly [string, E])[] {
    return names.map((name) => {
        const status = statuses[name];
        if (status?.state !== "complete" || status.entry === undefined) {
            throw new Error(`${what} ${name} is not recorded, but the slice is reclaimed (a bug)`);
        }
        return [name, status.entry] as const;
    });
}
