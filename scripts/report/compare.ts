/**
 * Pairs each eval run with the SOP's figures for the run of the same name, K by K, and computes the differences.
 * Pure: no I/O.
 */
import { EvalRuns } from "./outputs";
import { ObservedFigures } from "./reference";

/** Per-K values aligned with RunReport.k; null where the reference has no figure for that K. */
export interface MetricPair {
    hr: (number | null)[];
    ndcg: (number | null)[];
}

export interface RunReport {
    name: string;
    n: number;
    invalid: number;
    wandbUrl: string;
    agreement: { agree: boolean; maxAbsDiff: number };
    /** Ascending. */
    k: number[];
    hr: number[];
    ndcg: number[];
    /** The SOP's figures at the same K, or null when the SOP has no run of this name. */
    reference: MetricPair | null;
    /** Run minus reference, rounded to 12 decimals to drop binary noise; null exactly where `reference` is. */
    delta: MetricPair | null;
}

/** Rounds away floating-point noise (0.0882 - 0.08816 is 4.0000000000001e-5) without touching real digits. */
export function roundDelta(value: number): number {
    const rounded = Number(value.toFixed(12));
    return rounded === 0 ? 0 : rounded;
}

/** Code-unit order, so the result does not depend on the locale. */
function byName(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** One RunReport per run, ordered by run name. Runs are matched to the SOP's runs by exact name. */
export function buildReport(runs: EvalRuns, observed: ObservedFigures): RunReport[] {
    return Object.keys(runs)
        .sort(byName)
        .map((name) => {
            const run = runs[name]!;
            const k = [...run.k].sort((a, b) => a - b);
            const hr = k.map((kk) => run.hr[String(kk)]!);
            const ndcg = k.map((kk) => run.ndcg[String(kk)]!);
            const ref = Object.prototype.hasOwnProperty.call(observed.runs, name) ? observed.runs[name] : undefined;
            let reference: MetricPair | null = null;
            let delta: MetricPair | null = null;
            if (ref !== undefined) {
                const at = (values: number[], kk: number): number | null => {
                    const i = observed.k.indexOf(kk);
                    return i < 0 ? null : (values[i] ?? null);
                };
                reference = { hr: k.map((kk) => at(ref.hr, kk)), ndcg: k.map((kk) => at(ref.ndcg, kk)) };
                const diff = (mine: number[], theirs: (number | null)[]) =>
                    mine.map((v, i) => {
                        const r = theirs[i];
                        return r === null || r === undefined ? null : roundDelta(v - r);
                    });
                delta = { hr: diff(hr, reference.hr), ndcg: diff(ndcg, reference.ndcg) };
            }
            return {
                name,
                n: run.n,
                invalid: run.invalid,
                wandbUrl: run.wandbUrl,
                agreement: run.agreement,
                k,
                hr,
                ndcg,
                reference,
                delta,
            };
        });
}
