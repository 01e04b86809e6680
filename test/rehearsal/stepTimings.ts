// Per-step wall times of one `pulumi up`, read from the engine's own event log (`pulumi up --event-log`): each
// resource's pre event and its outputs event carry the engine's timestamps (whole seconds).
import * as fs from "fs";

export interface StepTiming {
    /** The resource's name, e.g. office-wait-w2. */
    readonly name: string;
    /** The step kind, the name without the run and worker, e.g. wait. */
    readonly step: string;
    readonly type: string;
    readonly op: string;
    readonly seconds: number;
    /** The engine's timestamps of the resource's pre and outputs events (epoch seconds). */
    readonly started: number;
    readonly finished: number;
}

interface EngineEvent {
    readonly timestamp?: number;
    readonly resourcePreEvent?: { metadata?: { urn?: string; type?: string; op?: string } };
    readonly resOutputsEvent?: { metadata?: { urn?: string; type?: string; op?: string } };
}

/** The step kind of a resource name: `industrial-upload-best` → upload, `bootstrap-w3` → bootstrap. */
export function stepKind(name: string, runNames: readonly string[]): string {
    let rest = name;
    for (const run of runNames) {
        if (rest.startsWith(`${run}-`)) {
            rest = rest.slice(run.length + 1);
            break;
        }
    }
    return rest.replace(/-w\d+$/, "").replace(/-(best|last)$/, "");
}

/** Timings of the resources that ran (same and read operations are left out). */
export function readStepTimings(file: string, runNames: readonly string[]): StepTiming[] {
    if (!fs.existsSync(file)) return [];
    const started = new Map<string, { timestamp: number; type: string; op: string }>();
    const timings: StepTiming[] = [];
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (!line.trim()) continue;
        const event = JSON.parse(line) as EngineEvent;
        const pre = event.resourcePreEvent?.metadata;
        const done = event.resOutputsEvent?.metadata;
        if (pre?.urn && event.timestamp !== undefined) {
            started.set(pre.urn, { timestamp: event.timestamp, type: pre.type ?? "", op: pre.op ?? "" });
        } else if (done?.urn && event.timestamp !== undefined) {
            const begin = started.get(done.urn);
            if (!begin || begin.op === "same" || begin.op === "read") continue;
            const name = done.urn.split("::").pop() ?? done.urn;
            timings.push({
                name,
                step: stepKind(name, runNames),
                type: begin.type,
                op: begin.op,
                seconds: event.timestamp - begin.timestamp,
                started: begin.timestamp,
                finished: event.timestamp,
            });
        }
    }
    return timings;
}

/** Seconds per step kind, summed over runs and workers, with the count and the longest one. */
export function summarizeSteps(
    timings: readonly StepTiming[],
): Record<string, { count: number; totalSeconds: number; maxSeconds: number }> {
    const summary: Record<string, { count: number; totalSeconds: number; maxSeconds: number }> = {};
    for (const t of timings) {
        if (!t.type.startsWith("command:")) continue;
        const entry = (summary[t.step] ??= { count: 0, totalSeconds: 0, maxSeconds: 0 });
        entry.count += 1;
        entry.totalSeconds += t.seconds;
        entry.maxSeconds = Math.max(entry.maxSeconds, t.seconds);
    }
    return summary;
}

/**
 * Wall seconds of the steps that `select` picks, run in parallel or not: from the first one's start to the last
 * one's end. Undefined when none ran.
 */
export function spanSeconds(timings: readonly StepTiming[], select: (t: StepTiming) => boolean): number | undefined {
    const picked = timings.filter(select);
    if (picked.length === 0) return undefined;
    return Math.max(...picked.map((t) => t.finished)) - Math.min(...picked.map((t) => t.started));
}
