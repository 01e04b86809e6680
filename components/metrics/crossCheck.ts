/**
 * The three-way cross-check of an eval run's metrics: upstream calc.py's stdout, the evaluator's
 * metrics JSON, and this project's TypeScript port computed from the predictions in the bucket. Any
 * two that disagree beyond printing precision (or a non-zero invalid count, unless allowed) fail the
 * stack with a side-by-side table.
 */
import { EvaluatorMetrics } from "../steps/evalreport";
import { CalcMetrics } from "./calc";
import { ParsedCalcPyStdout } from "./calcPyStdout";

export interface MetricSource {
    readonly name: string;
    /** calc.py does not print n, so it can be unknown. */
    readonly n: number | undefined;
    readonly invalid: number;
    readonly k: readonly number[];
    readonly hr: readonly number[];
    readonly ndcg: readonly number[];
    /** How far this source's floats can be from the exact value (calc.py prints 8 significant digits). */
    readonly precision: number;
}

export interface Agreement {
    readonly agree: boolean;
    readonly maxAbsDiff: number;
    readonly problems: readonly string[];
    /** Side-by-side table of every source, for the error message and the logs. */
    readonly table: string;
}

export function fromCalcPy(parsed: ParsedCalcPyStdout): MetricSource {
    return {
        name: "calc.py",
        n: undefined,
        invalid: parsed.invalid,
        k: parsed.k,
        hr: parsed.hr,
        ndcg: parsed.ndcg,
        precision: 1e-8,
    };
}

export function fromEvaluator(metrics: EvaluatorMetrics): MetricSource {
    const missing = metrics.topk.filter(
        (k) => metrics.hr[String(k)] === undefined || metrics.ndcg[String(k)] === undefined,
    );
    if (missing.length > 0) {
        throw new Error(
            `eval_predictions.metrics.json lists topk ${JSON.stringify(metrics.topk)} but has no hr/ndcg for K=${missing.join(",")}`,
        );
    }
    return {
        name: "metrics.json",
        n: metrics.n_samples,
        invalid: metrics.invalid_prediction_count,
        k: metrics.topk,
        hr: metrics.topk.map((k) => metrics.hr[String(k)]),
        ndcg: metrics.topk.map((k) => metrics.ndcg[String(k)]),
        precision: 1e-12,
    };
}

export function fromTypeScript(metrics: CalcMetrics): MetricSource {
    return {
        name: "typescript",
        n: metrics.n,
        invalid: metrics.invalid,
        k: metrics.k,
        hr: metrics.hr,
        ndcg: metrics.ndcg,
        precision: 1e-12,
    };
}

interface Row {
    readonly label: string;
    readonly values: readonly (number | undefined)[];
    readonly exact: boolean;
}

export function crossCheck(
    sources: readonly MetricSource[],
    options: { requireZeroInvalid: boolean; expectedK?: readonly number[] },
): Agreement {
    const problems: string[] = [];
    const kLists = sources.map((s) => JSON.stringify(s.k));
    if (new Set(kLists).size !== 1) {
        problems.push(`K lists differ: ${sources.map((s, i) => `${s.name} ${kLists[i]}`).join(", ")}`);
    }
    if (options.expectedK && JSON.stringify(options.expectedK) !== kLists[0]) {
        problems.push(`K list ${kLists[0]} is not the configured topk ${JSON.stringify(options.expectedK)}`);
    }
    const ks = sources[0].k;
    const rows: Row[] = [
        { label: "n", values: sources.map((s) => s.n), exact: true },
        { label: "invalid", values: sources.map((s) => s.invalid), exact: true },
        ...ks.map((k, i) => ({
            label: `HR@${k}`,
            values: sources.map((s) => (s.k[i] === k ? s.hr[i] : undefined)),
            exact: false,
        })),
        ...ks.map((k, i) => ({
            label: `NDCG@${k}`,
            values: sources.map((s) => (s.k[i] === k ? s.ndcg[i] : undefined)),
            exact: false,
        })),
    ];
    let maxAbsDiff = 0;
    const marks: string[] = [];
    for (const row of rows) {
        let rowOk = true;
        for (let a = 0; a < sources.length; a++) {
            for (let b = a + 1; b < sources.length; b++) {
                const x = row.values[a];
                const y = row.values[b];
                if (x === undefined || y === undefined) continue;
                const diff = Math.abs(x - y);
                if (!row.exact) maxAbsDiff = Math.max(maxAbsDiff, diff);
                const tolerance = row.exact ? 0 : Math.max(sources[a].precision, sources[b].precision);
                if (diff > tolerance) {
                    rowOk = false;
                    problems.push(
                        `${row.label}: ${sources[a].name} ${x} vs ${sources[b].name} ${y} (|Δ| ${diff.toExponential(2)} > ${tolerance})`,
                    );
                }
            }
        }
        marks.push(rowOk ? "" : "  <-- disagree");
    }
    const invalid = sources.find((s) => s.invalid !== 0);
    if (options.requireZeroInvalid && invalid) {
        problems.push(
            `invalid predictions: ${invalid.name} counts ${invalid.invalid}, and evaluation requires 0 (set eval.requireZeroInvalid false to allow)`,
        );
    }
    const cell = (v: number | undefined, exact: boolean) => (v === undefined ? "-" : exact ? String(v) : v.toFixed(10));
    const header = ["metric", ...sources.map((s) => s.name)];
    const body = rows.map((row) => [row.label, ...row.values.map((v) => cell(v, row.exact))]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const line = (cells: readonly string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
    const table = [line(header), ...body.map((r, i) => line(r) + marks[i])].join("\n");
    return { agree: problems.length === 0, maxAbsDiff, problems, table };
}
