/**
 * The supervisor's decision after a failed `pulumi up`, from evidence only: the error text the update printed and
 * the slice's state read after it (SliceStateReader). A pure function: the same evidence and history always give
 * the same decision, which the unit tests pin on recorded GCP error texts (test/fixtures/gcp-errors).
 */

/** The node's state as the TPU API reports it, or MISSING when there is no node; UNKNOWN when it could not be read. */
export type SliceState =
    | "READY"
    | "CREATING"
    | "STARTING"
    | "REPAIRING"
    | "STOPPING"
    | "STOPPED"
    | "RESTARTING"
    | "DELETING"
    | "PREEMPTED"
    | "TERMINATED"
    | "MISSING"
    | "UNKNOWN";

/** States in which the slice can never run this job again: it must be deleted and created anew. */
export const DEAD_SLICE_STATES: readonly SliceState[] = ["PREEMPTED", "TERMINATED", "MISSING"];

export type FailureKind = "bad-config" | "permission" | "capacity" | "quota" | "workload" | "unreachable" | "unknown";

export interface Classified {
    readonly kind: FailureKind;
    /** The line of the error text that decided it ("" when nothing matched). */
    readonly evidence: string;
}

/** In order: the first kind whose pattern matches a line wins. Bad config and access come first: they never heal. */
const PATTERNS: readonly (readonly [FailureKind, RegExp])[] = [
    ["bad-config", /invalid configuration for stack|ConfigError|W&B is online but/],
    ["bad-config", /FAILED_PRECONDITION|INVALID_ARGUMENT|free-trial billing account/],
    [
        "permission",
        /PERMISSION_DENIED|Permission '[^']+' denied|does not have (?:the )?(?:required )?permission|Error 403|HttpError 403|\b403 Forbidden|UNAUTHENTICATED|could not find default credentials|Reauthentication (?:is )?required|invalid_grant/i,
    ],
    [
        "capacity",
        /There is no more capacity in the zone|Insufficient reserved capacity|ZONE_RESOURCE_POOL_EXHAUSTED|currently unavailable in the [a-z0-9-]+ zone|zone capacity/i,
    ],
    [
        "quota",
        /Quota limit '[^']+' has been exceeded|Quota '[^']+' (?:exhausted|exceeded)|RESOURCE_EXHAUSTED|QUOTA_EXCEEDED|HttpError 429/,
    ],
    [
        "workload",
        /job exited with code [1-9]|exited with code [1-9]\d* \(|is gone without an exit code|over the time limit of|failing worker|first failing worker/,
    ],
    [
        "unreachable",
        /failed attempts: dial tcp|dial tcp [^ ]+: (?:i\/o timeout|connect: )|ssh: handshake failed|connection refused/,
    ],
];

export function classifyFailure(text: string): Classified {
    const lines = text.split(/\r?\n/);
    for (const [kind, pattern] of PATTERNS) {
        const line = lines.find((l) => pattern.test(l));
        if (line !== undefined) return { kind, evidence: line.trim().slice(0, 400) };
    }
    return {
        kind: "unknown",
        evidence: lines
            .filter((l) => l.trim() !== "")
            .slice(-3)
            .join(" | ")
            .slice(0, 400),
    };
}

export interface SupervisorLimits {
    /** Recoveries of any kind (slice replaced, zone moved, transient retry) before giving up. */
    readonly maxRecoveries: number;
    /** Attempts of the workload itself (the first one included) before it counts as failed. */
    readonly maxAttempts: number;
    /** First backoff; doubles after each recovery, capped at maxBackoffSeconds. */
    readonly backoffSeconds: number;
    readonly maxBackoffSeconds: number;
}

export interface SupervisorHistory {
    /** Recoveries so far (each replace, zone move or transient retry). */
    readonly recoveries: number;
    /** Workload failures so far, this one not included. */
    readonly workloadFailures: number;
    /** The zone the slice is (or was being) created in. */
    readonly zone: string;
    /** tpu.zones in order (a single tpu.zone is a list of one). */
    readonly zones: readonly string[];
    readonly zonesTried: readonly string[];
}

export interface Evidence {
    /** What the failed update printed (its error and last lines). */
    readonly failure: string;
    /** The slice's state read after the failure (after a refresh). */
    readonly sliceState: SliceState;
}

/**
 * Documented exit codes: 0 done, 1 the workload failed, 2 bad config/credentials/permissions, 3 gave up, 4 done but
 * the slice could not be reclaimed (it still bills).
 */
export const EXIT = { done: 0, workloadFailed: 1, badConfig: 2, gaveUp: 3, reclaimFailed: 4 } as const;

export type Decision =
    | {
          readonly action: "replace-slice";
          readonly reason: string;
          readonly evidence: string;
          readonly waitSeconds: number;
      }
    | {
          readonly action: "next-zone";
          readonly zone: string;
          readonly reason: string;
          readonly evidence: string;
          readonly waitSeconds: number;
      }
    | { readonly action: "retry"; readonly reason: string; readonly evidence: string; readonly waitSeconds: number }
    | {
          readonly action: "stop";
          readonly exitCode: 1 | 2 | 3;
          readonly reason: string;
          readonly evidence: string;
      };

/** Capped exponential backoff before recovery number `recoveries + 1`. */
export function backoffSeconds(limits: SupervisorLimits, recoveries: number): number {
    return Math.min(limits.maxBackoffSeconds, limits.backoffSeconds * 2 ** Math.min(recoveries, 30));
}

export function decide(evidence: Evidence, history: SupervisorHistory, limits: SupervisorLimits): Decision {
    const failure = classifyFailure(evidence.failure);
    const seen = `${failure.kind}: ${failure.evidence || "(no error text)"}; slice state ${evidence.sliceState}`;
    if (failure.kind === "bad-config" || failure.kind === "permission") {
        const what =
            failure.kind === "bad-config" ? "the configuration or project setup" : "credentials or permissions";
        return {
            action: "stop",
            exitCode: EXIT.badConfig,
            reason: `${what} must be fixed by hand (retrying cannot help); fix it, then run the supervisor again`,
            evidence: seen,
        };
    }
    const giveUp = (why: string): Decision => ({
        action: "stop",
        exitCode: EXIT.gaveUp,
        reason: why,
        evidence: seen,
    });
    if (history.recoveries >= limits.maxRecoveries) {
        return giveUp(
            `gave up after ${history.recoveries} recoveries (supervisor.maxRecoveries = ${limits.maxRecoveries})`,
        );
    }
    const waitSeconds = backoffSeconds(limits, history.recoveries);
    if (failure.kind === "capacity" || failure.kind === "quota") {
        const tried = new Set([...history.zonesTried, history.zone]);
        const next = history.zones.find((z) => !tried.has(z));
        if (next === undefined) {
            return giveUp(
                `no ${failure.kind === "capacity" ? "capacity" : "quota"} in ${history.zone}, and every zone of tpu.zones (${history.zones.join(", ")}) has been tried; add zones to tpu.zones or try again later`,
            );
        }
        return {
            action: "next-zone",
            zone: next,
            reason: `no ${failure.kind === "capacity" ? "capacity" : "quota"} for the slice in ${history.zone}: moving to ${next} (tpu-sft:activeZone), the bucket stays where it is`,
            evidence: seen,
            waitSeconds,
        };
    }
    if (DEAD_SLICE_STATES.includes(evidence.sliceState)) {
        return {
            action: "replace-slice",
            reason: `the slice is ${evidence.sliceState}: replacing it (fresh hosts are bootstrapped; runs already in the handoff manifest are not trained again)`,
            evidence: seen,
            waitSeconds,
        };
    }
    if (failure.kind === "workload") {
        const failures = history.workloadFailures + 1;
        if (failures >= limits.maxAttempts) {
            return {
                action: "stop",
                exitCode: EXIT.workloadFailed,
                reason: `the workload failed ${failures} time(s) (train.maxAttempts = ${limits.maxAttempts}); see the log named above`,
                evidence: seen,
            };
        }
        return {
            action: "retry",
            reason: `the workload failed on a healthy slice (attempt ${failures} of ${limits.maxAttempts}): running it again`,
            evidence: seen,
            waitSeconds,
        };
    }
    return {
        action: "retry",
        reason:
            failure.kind === "unreachable"
                ? `the workers did not answer but the slice is ${evidence.sliceState}: retrying (transient)`
                : `an unrecognised failure with the slice ${evidence.sliceState}: retrying (bounded by supervisor.maxRecoveries)`,
        evidence: seen,
        waitSeconds,
    };
}
