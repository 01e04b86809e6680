/**
 * The report as text: a fixed-width table per run (plain mode) or one JSON line (--json). Pure: no I/O.
 */
import { formatStackCost, StackCost } from "../../components/lifecycle/stackCost";
import { RunReport } from "./compare";

export const MISSING = "—";
const DECIMALS = 5;

export function formatValue(value: number | null): string {
    return value === null ? MISSING : value.toFixed(DECIMALS);
}

/** A difference with its sign always shown; one that rounds to zero prints as +0.00000, never -0.00000. */
export function formatDelta(value: number | null): string {
    if (value === null) return MISSING;
    const text = Math.abs(value).toFixed(DECIMALS);
    return Number(text) === 0 || value > 0 ? `+${text}` : `-${text}`;
}

/** A run name as it appears in text: as is, unless it has spaces or control characters, then JSON-quoted. */
export function displayName(name: string): string {
    return name !== "" && !/[\s\p{C}]/u.test(name) ? name : JSON.stringify(name);
}

function formatMaxAbsDiff(value: number): string {
    return value === 0 ? "0" : value.toExponential(2);
}

export function formatHeader(run: RunReport): string {
    const wandb = run.wandbUrl === "" ? "(none)" : run.wandbUrl;
    const agreement = `${run.agreement.agree ? "agree" : "DISAGREE"} (max abs diff ${formatMaxAbsDiff(run.agreement.maxAbsDiff)})`;
    return `${displayName(run.name)}  n=${run.n}  invalid=${run.invalid}  W&B ${wandb}  agreement: ${agreement}`;
}

const COLUMNS = ["K", "HR", "HR (SOP)", "ΔHR", "NDCG", "NDCG (SOP)", "ΔNDCG"];
/** Minimum widths, so every run's table lines up the same whether or not it has reference figures: 0.12345, +0.12345. */
const MIN_WIDTHS = [3, 7, 8, 8, 7, 10, 8];

/**
 * The fixed-width table: K | HR | HR (SOP) | ΔHR | NDCG | NDCG (SOP) | ΔNDCG, every column right-aligned, 5 decimals,
 * "—" where the SOP has no figure. A column only widens for a K of 4 or more digits.
 */
export function formatTable(run: RunReport): string[] {
    const rows = run.k.map((k, i) => [
        String(k),
        formatValue(run.hr[i] ?? null),
        formatValue(run.reference?.hr[i] ?? null),
        formatDelta(run.delta?.hr[i] ?? null),
        formatValue(run.ndcg[i] ?? null),
        formatValue(run.reference?.ndcg[i] ?? null),
        formatDelta(run.delta?.ndcg[i] ?? null),
    ]);
    const widths = COLUMNS.map((header, c) =>
        Math.max(header.length, MIN_WIDTHS[c] as number, ...rows.map((row) => (row[c] as string).length)),
    );
    const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c] as number)).join(" | ");
    const rule = widths.map((w) => "-".repeat(w)).join("-+-");
    return [line(COLUMNS), rule, ...rows.map(line)];
}

/** Plain mode: the reference source, then a header line and a table per run, then the SVG path. */
export function formatPlainReport(
    runs: RunReport[],
    referenceSource: string,
    svgPath: string,
    cost?: StackCost,
    trainCost?: StackCost,
): string {
    const lines: string[] = [`Reference (SOP) figures: ${referenceSource}`];
    for (const run of runs) {
        lines.push("", formatHeader(run), ...formatTable(run));
    }
    if (cost) lines.push("", `eval stack ${formatStackCost(cost)}`);
    if (trainCost) lines.push("", `train stack ${formatStackCost(trainCost)}`);
    lines.push("", `SVG chart written to ${svgPath}`);
    return `${lines.join("\n")}\n`;
}

/** --json: one line, {"runs": {<name>: {...}}, "source": ..., "svg": <path>, "cost"?: eval's, "trainCost"?}. */
export function formatJsonReport(
    runs: RunReport[],
    referenceSource: string,
    svgPath: string,
    cost?: StackCost,
    trainCost?: StackCost,
): string {
    // No prototype, so a run named __proto__ is an ordinary key.
    const byName: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const run of runs) {
        byName[run.name] = {
            k: run.k,
            hr: run.hr,
            ndcg: run.ndcg,
            reference: run.reference,
            delta: run.delta,
            n: run.n,
            invalid: run.invalid,
            wandbUrl: run.wandbUrl,
            agreement: run.agreement,
        };
    }
    const costs = { ...(cost ? { cost } : {}), ...(trainCost ? { trainCost } : {}) };
    return `${JSON.stringify({ runs: byName, source: referenceSource, svg: svgPath, ...costs })}\n`;
}
