/**
 * The supervisor's loop: `up`, and on failure read the evidence, decide (decide.ts), act, and go again, until the
 * stack is up or a decision stops it. The Pulumi stack is behind StackDriver (scripts/supervise.ts implements it
 * with the Automation API), so the loop's bookkeeping is testable on its own.
 */
import {
    ChipHourPrices,
    costSummary,
    CostSummary,
    pricePerChipHour,
    Provisioning,
} from "../../components/lifecycle/cost";
import { classifyFailure, decide, Decision, EXIT, SupervisorLimits } from "./decide";
import { SliceStateReader } from "./sliceState";
import { evalRunCost, StackCost, stackCostSchema } from "../../components/lifecycle/stackCost";

export class UpFailure extends Error {}

export interface StackDriver {
    /** `pulumi up` (replacing `replace` URNs); its outputs, or an UpFailure whose message is what the update printed. */
    up(replace: readonly string[]): Promise<Record<string, unknown>>;
    /** The URN of the first resource of `type` in the stack's state, if any. */
    sliceUrn(type: string): Promise<string | undefined>;
    /** Sets tpu-sft:activeZone in the stack's config. */
    setActiveZone(zone: string): Promise<void>;
}

export interface LoopSettings {
    readonly stack: string;
    readonly limits: SupervisorLimits;
    /** tpu.zones in order, and the active one at the start. */
    readonly zones: readonly string[];
    readonly zone: string;
    readonly readerFor: (zone: string) => SliceStateReader;
    readonly chips: number;
    readonly provisioning: Provisioning;
    readonly prices: ChipHourPrices;
    readonly log: (line: string) => void;
    readonly sleep: (seconds: number) => Promise<void>;
    /** Milliseconds since the epoch. */
    readonly now: () => number;
}

export interface DecisionRecord {
    readonly at: string;
    readonly sliceState: string;
    readonly decision: Decision;
}

export interface Summary {
    readonly stack: string;
    readonly exitCode: number;
    readonly reason: string;
    /** `up` calls made. */
    readonly attempts: number;
    readonly recoveries: number;
    readonly preemptions: number;
    readonly workloadFailures: number;
    readonly zonesTried: readonly string[];
    readonly decisions: readonly DecisionRecord[];
    /** Chip-hours of the runs trained in this session (runs recalled from the manifest count 0). */
    readonly workChipHours: number;
    /**
     * Estimated slice uptime in this session: the duration of every `up` after which a slice existed, times its
     * chips (an upper bound: the slice is counted from the start of the update that created it).
     */
    readonly cost: CostSummary;
    /** USD per chip-hour used for the estimate; undefined when the price for this provisioning is not set. */
    readonly price: number | undefined;
    /** What became of the slice once the work was done (tpu.reclaim). */
    readonly slice: SliceEnd;
    /**
     * The stack's `cost` output after its last successful update: every run's work and share of its slice, as the
     * runs recorded them (recalled runs included); undefined when no update succeeded or the stack has none.
     */
    readonly recorded?: StackCost;
}

/**
 * `reclaimed`: deleted by a second update right after the work; `kept`: tpu.reclaim keep (it bills until
 * `pulumi destroy`); `reclaim-failed`: the reclaiming update failed, or left the slice up; `not-done`: the work did
 * not finish.
 */
export interface SliceEnd {
    readonly fate: "reclaimed" | "kept" | "reclaim-failed" | "not-done";
    /**
     * Chip-hours the slice stood after the update that finished the work, until it was deleted (reclaimed by a second
     * update only; absent when the first update found every run recorded and deleted the slice itself).
     */
    readonly idleAfterWorkChipHours?: number;
    readonly idleAfterWorkSeconds?: number;
    /** Why a slice under a reclaiming policy stays up (the stack's lifecycle note). */
    readonly note?: string;
}

/** The stack's `lifecycle` output (components/lifecycle/reclaim.ts), if it has one. */
function lifecycleOf(outputs: Record<string, unknown>): { reclaim?: unknown; slice?: unknown; note?: unknown } {
    const lifecycle = outputs.lifecycle;
    return typeof lifecycle === "object" && lifecycle !== null ? (lifecycle as Record<string, unknown>) : {};
}

function reclaimPending(outputs: Record<string, unknown>): boolean {
    return (lifecycleOf(outputs) as { reclaimPending?: unknown }).reclaimPending === true;
}

/** What became of the slice after an update that needs no other: deleted by it, or kept (and why, unless keep). */
function sliceAfter(outputs: Record<string, unknown>): SliceEnd {
    const lifecycle = lifecycleOf(outputs);
    if (lifecycle.slice === "reclaimed") return { fate: "reclaimed" };
    const note = lifecycle.reclaim !== undefined && lifecycle.reclaim !== "keep" ? lifecycle.note : undefined;
    return typeof note === "string" ? { fate: "kept", note } : { fate: "kept" };
}

/** The stack's `cost` output (components/lifecycle/stackCost.ts), when it has one in that shape. */
export function recordedCostOf(outputs: Record<string, unknown>): StackCost | undefined {
    const parsed = stackCostSchema.safeParse(outputs.cost);
    return parsed.success ? parsed.data : undefined;
}

/**
 * Chip-hours of work in a stack's outputs: the runs that ran a job in this update (not recalled). A train run
 * carries its `chipHours`; an eval run its `evalSeconds` on the slice's `chips`.
 */
export function workChipHoursOf(outputs: Record<string, unknown>, chips: number): number {
    const ran = (runs: unknown) =>
        typeof runs === "object" && runs !== null
            ? (Object.values(runs) as { chipHours?: unknown; evalSeconds?: unknown; recalled?: unknown }[]).filter(
                  (r) => r.recalled !== true,
              )
            : [];
    let total = 0;
    for (const r of ran(outputs.runs)) if (typeof r.chipHours === "number") total += r.chipHours;
    for (const r of ran(outputs.evalRuns))
        if (typeof r.evalSeconds === "number") total += evalRunCost(chips, { evalSeconds: r.evalSeconds }).chipHours;
    return Math.round(total * 1e6) / 1e6;
}

export async function supervise(driver: StackDriver, settings: LoopSettings): Promise<Summary> {
    const { limits, log } = settings;
    const stamp = () => new Date(settings.now()).toISOString();
    let zone = settings.zone;
    const zonesTried: string[] = [];
    const decisions: DecisionRecord[] = [];
    let attempts = 0;
    let recoveries = 0;
    let preemptions = 0;
    let workloadFailures = 0;
    let upSecondsWithSlice = 0;
    let workChipHours = 0;
    let replace: string[] = [];
    const price = pricePerChipHour(settings.prices, settings.provisioning);
    let slice: SliceEnd = { fate: "not-done" };
    let recorded: StackCost | undefined;
    const finish = (exitCode: number, reason: string): Summary => {
        const cost = costSummary(settings.chips, upSecondsWithSlice, workChipHours, price ?? 0);
        return {
            stack: settings.stack,
            exitCode,
            reason,
            attempts,
            recoveries,
            preemptions,
            workloadFailures,
            zonesTried: [...zonesTried, zone].filter((z, i, all) => all.indexOf(z) === i),
            decisions,
            workChipHours,
            cost,
            price,
            slice,
            ...(recorded ? { recorded } : {}),
        };
    };
    // Every run is done and the stack reclaims its slice: one more update deletes it, the outputs stay.
    const reclaim = async (): Promise<[number, string]> => {
        const workDone = settings.now();
        log(
            `[${stamp()}] supervise ${settings.stack}: decision reclaim: every run is done and tpu.reclaim deletes the slice; pulumi up again`,
        );
        let outputs: Record<string, unknown>;
        try {
            outputs = await driver.up([]);
        } catch (err) {
            if (!(err instanceof UpFailure)) throw err;
            slice = { fate: "reclaim-failed" };
            log(`[${stamp()}] supervise ${settings.stack}: reclaiming failed:\n${err.message.slice(-2000)}`);
            return [
                EXIT.reclaimFailed,
                "the work is done, but the slice could not be deleted and still bills: run `pulumi up` again, or `pulumi destroy`",
            ];
        }
        const seconds = (settings.now() - workDone) / 1000;
        upSecondsWithSlice += seconds;
        recorded = recordedCostOf(outputs) ?? recorded;
        const lifecycle = lifecycleOf(outputs);
        if (lifecycle.slice !== "reclaimed") {
            slice = { fate: "reclaim-failed" };
            const why = typeof lifecycle.note === "string" ? lifecycle.note : "the stack has no lifecycle output";
            log(`[${stamp()}] supervise ${settings.stack}: the reclaiming update left the slice up: ${why}`);
            return [
                EXIT.reclaimFailed,
                `the work is done, but the reclaiming update left the slice up (${why}); it still bills: run \`pulumi up\` again, or \`pulumi destroy\``,
            ];
        }
        slice = {
            fate: "reclaimed",
            idleAfterWorkSeconds: Math.round(seconds * 10) / 10,
            idleAfterWorkChipHours: Math.round(((settings.chips * seconds) / 3600) * 1e6) / 1e6,
        };
        log(
            `[${stamp()}] supervise ${settings.stack}: the slice is deleted ${seconds.toFixed(1)} s after the work ended`,
        );
        return [EXIT.done, "done; the slice is reclaimed"];
    };
    for (;;) {
        attempts += 1;
        log(
            `[${stamp()}] supervise ${settings.stack}: pulumi up, attempt ${attempts}, zone ${zone}${replace.length ? `, replacing ${replace.join(", ")}` : ""}`,
        );
        const started = settings.now();
        let failure: string;
        try {
            const outputs = await driver.up(replace);
            upSecondsWithSlice += (settings.now() - started) / 1000;
            workChipHours = Math.round((workChipHours + workChipHoursOf(outputs, settings.chips)) * 1e6) / 1e6;
            recorded = recordedCostOf(outputs) ?? recorded;
            log(`[${stamp()}] supervise ${settings.stack}: the stack is up`);
            if (!reclaimPending(outputs)) {
                slice = sliceAfter(outputs);
                return finish(EXIT.done, "done");
            }
            return finish(...(await reclaim()));
        } catch (err) {
            if (!(err instanceof UpFailure)) throw err;
            failure = err.message;
        }
        const elapsed = (settings.now() - started) / 1000;
        const reader = settings.readerFor(zone);
        const sliceState = await reader.read();
        const kind = classifyFailure(failure).kind;
        // A slice that could not be created (no capacity or quota) bills nothing.
        if (kind !== "capacity" && kind !== "quota") upSecondsWithSlice += elapsed;
        const decision = decide(
            { failure, sliceState },
            { recoveries, workloadFailures, zone, zones: settings.zones, zonesTried },
            limits,
        );
        decisions.push({ at: stamp(), sliceState, decision });
        log(
            `[${stamp()}] supervise ${settings.stack}: decision ${decision.action}${decision.action === "stop" ? ` (exit ${decision.exitCode})` : ""}: ${decision.reason}\n` +
                `    evidence: ${decision.evidence}\n    slice state from: ${reader.describe}`,
        );
        if (kind === "workload" && decision.action !== "replace-slice") workloadFailures += 1;
        replace = [];
        switch (decision.action) {
            case "stop":
                return finish(decision.exitCode, decision.reason);
            case "replace-slice": {
                preemptions += 1;
                const urn = await driver.sliceUrn(reader.resourceType);
                if (urn) replace = [urn];
                break;
            }
            case "next-zone":
                zonesTried.push(zone);
                zone = decision.zone;
                await driver.setActiveZone(zone);
                break;
            case "retry":
                break;
        }
        recoveries += 1;
        if (decision.waitSeconds > 0) {
            log(`[${stamp()}] supervise ${settings.stack}: waiting ${decision.waitSeconds} s before the next attempt`);
            await settings.sleep(decision.waitSeconds);
        }
    }
}

/** The summary as the lines the supervisor prints last. */
export function formatSummary(s: Summary, provisioning: Provisioning): string {
    const usd = (n: number) => `USD ${n.toFixed(2)}`;
    const priced =
        s.price === undefined
            ? `no ${provisioning} price set (tpu.prices.spotPerChipHour): no cost estimate`
            : `at ${usd(s.price)}/chip-hour (${provisioning}): ~${usd(s.cost.estimatedUsd)}, of it idle ~${usd(s.cost.idleUsd)}`;
    return [
        `supervise ${s.stack}: ${s.exitCode === 0 ? "done" : "stopped"} (exit ${s.exitCode}): ${s.reason}`,
        `  attempts ${s.attempts}, recoveries ${s.recoveries}, preemptions ${s.preemptions}, workload failures ${s.workloadFailures}`,
        `  zones tried: ${s.zonesTried.join(", ")}`,
        `  chip-hours: work ${s.cost.workChipHours}, slice uptime (estimated) ${s.cost.uptimeChipHours}, idle ${s.cost.idleChipHours}`,
        ...(s.recorded ? [`  ${recordedLine(s.recorded)}`] : []),
        `  slice: ${sliceLine(s.slice)}`,
        `  cost: ${priced}`,
    ].join("\n");
}

/** The runs' own records (the stack's cost output), which span every session, not only this one. */
function recordedLine(cost: StackCost): string {
    const share =
        cost.sliceChipHours === null || cost.idleChipHours === null
            ? "their share of the slice is not measured"
            : `their share of the slice ${cost.sliceChipHours}, of it idle ${cost.idleChipHours}`;
    const unmeasured = cost.unmeasuredRuns > 0 ? ` (${cost.unmeasuredRuns} run(s) recorded without it)` : "";
    return `recorded by the runs (cost output): work ${cost.workChipHours} chip-hours, ${share}${unmeasured}`;
}

function sliceLine(end: SliceEnd): string {
    switch (end.fate) {
        case "reclaimed":
            return end.idleAfterWorkSeconds === undefined
                ? "reclaimed by the update itself (every run was already recorded)"
                : `reclaimed ${end.idleAfterWorkSeconds} s after the work ended (idle after work: ${end.idleAfterWorkChipHours} chip-hours)`;
        case "kept":
            return end.note === undefined
                ? "kept (tpu.reclaim keep): it bills until `pulumi destroy`"
                : `kept: ${end.note}; it bills until \`pulumi destroy\``;
        case "reclaim-failed":
            return "still up: the reclaiming update failed or left it up";
        case "not-done":
            return "the work did not finish";
    }
}
