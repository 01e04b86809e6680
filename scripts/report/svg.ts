/**
 * The report as an SVG chart: two panels, HR@K and NDCG@K against K on a log axis, one solid polyline with point
 * markers per run and the SOP's figures as a dashed line in the same colour. Self-contained (no external fonts,
 * images or scripts), all text XML-escaped, and deterministic: the same runs give the same bytes. Pure: no I/O.
 */
import { RunReport } from "./compare";

/** Tableau 10: distinct colours that survive greyscale printing reasonably well. Runs cycle through it. */
export const PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
];

const WIDTH = 1000;
const PANEL_WIDTH = WIDTH / 2;
const PLOT_LEFT = 70; // within a panel: room for the y tick labels
const PLOT_RIGHT = 475;
const PLOT_TOP = 90;
const PLOT_BOTTOM = 390;
const X_PAD = 18; // keeps the first and last K off the frame
const LEGEND_TOP = 455;
const LEGEND_ROW = 22;
const FONT = "sans-serif";

/**
 * Escapes text for XML content and attribute values. Characters XML 1.0 forbids (C0 controls other than tab,
 * newline and carriage return; lone surrogates; U+FFFE, U+FFFF) become U+FFFD, so any run name gives a valid document.
 */
export function escapeXml(text: string): string {
    return text
        .replace(
            // XML 1.0 forbids these characters, so they are exactly what this must match.
            // eslint-disable-next-line no-control-regex
            /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
            "\ufffd",
        )
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;")
        .replace(/'/g, "&apos;");
}

/** Coordinates with two decimals; -0 printed as 0. */
function num(value: number): string {
    const text = value.toFixed(2).replace(/\.?0+$/, "");
    return text === "-0" ? "0" : text;
}

/**
 * A y axis from 0 to a "nice" maximum a little above maxValue: the finest step of 1, 2, 2.5 or 5 times a power of ten
 * that needs at most `maxIntervals` intervals.
 */
export function niceAxis(maxValue: number, maxIntervals = 6): { max: number; ticks: number[]; decimals: number } {
    const top = maxValue > 0 ? maxValue * 1.04 : 1;
    const magnitude = 10 ** Math.floor(Math.log10(top / maxIntervals));
    const steps = [1, 2, 2.5, 5, 10, 20].map((m) => m * magnitude);
    const step = steps.find((st) => Math.ceil(top / st - 1e-9) <= maxIntervals) as number;
    const count = Math.ceil(top / step - 1e-9);
    const ticks = Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
    let decimals = 0;
    while (decimals < 10 && !ticks.every((t) => Math.abs(Number(t.toFixed(decimals)) - t) < 1e-12)) decimals++;
    return { max: ticks[ticks.length - 1] as number, ticks, decimals };
}

interface Series {
    run: RunReport;
    colour: string;
    values: number[];
    reference: (number | null)[] | null;
}

/** The K at which the SOP has a figure for this run, with that figure. */
function referencePoints(s: Series): { k: number; v: number }[] {
    const ref = s.reference;
    if (ref === null) return [];
    return s.run.k.flatMap((k, i) => {
        const v = ref[i];
        return v === null || v === undefined ? [] : [{ k, v }];
    });
}

function legendLabel(run: RunReport): string {
    return `${run.name} (n=${run.n})${run.reference === null ? " — no SOP figures" : ""}`;
}

/** A rough text width for the legend layout: sans-serif at 12px averages about 7px per character. */
function textWidth(text: string): number {
    return 7 * [...text].length;
}

interface LegendItem {
    label: string;
    colour: string;
    dashed: boolean;
    x: number;
    y: number;
}

function layoutLegend(runs: RunReport[], referenceLabel: string): { items: LegendItem[]; height: number } {
    const entries = runs.map((run, i) => ({
        label: legendLabel(run),
        colour: PALETTE[i % PALETTE.length] as string,
        dashed: false,
    }));
    entries.push({ label: referenceLabel, colour: "#555555", dashed: true });
    const items: LegendItem[] = [];
    let x = 40;
    let y = LEGEND_TOP;
    for (const entry of entries) {
        const width = 40 + textWidth(entry.label) + 28;
        if (x > 40 && x + width > WIDTH - 20) {
            x = 40;
            y += LEGEND_ROW;
        }
        items.push({ ...entry, x, y });
        x += width;
    }
    return { items, height: y + LEGEND_ROW };
}

function renderPanel(
    title: string,
    metric: "HR" | "NDCG",
    series: Series[],
    kTicks: number[],
    offsetX: number,
): string[] {
    const out: string[] = [];
    const left = offsetX + PLOT_LEFT;
    const right = offsetX + PLOT_RIGHT;
    const all = series.flatMap((s) => [...s.values, ...(s.reference ?? []).filter((v): v is number => v !== null)]);
    const axis = niceAxis(Math.max(0, ...all));
    const y = (v: number) => PLOT_BOTTOM - (v / axis.max) * (PLOT_BOTTOM - PLOT_TOP);
    const logs = kTicks.map(Math.log);
    const lo = Math.min(...logs);
    const hi = Math.max(...logs);
    const x = (k: number) =>
        hi === lo ? (left + right) / 2 : left + X_PAD + ((Math.log(k) - lo) / (hi - lo)) * (right - left - 2 * X_PAD);

    out.push(`<g class="panel" id="panel-${metric.toLowerCase()}">`);
    out.push(
        `<text x="${num((left + right) / 2)}" y="${PLOT_TOP - 12}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    );
    // Grid and y axis.
    for (const tick of axis.ticks) {
        const ty = num(y(tick));
        out.push(
            `<line x1="${num(left)}" y1="${ty}" x2="${num(right)}" y2="${ty}" stroke="#e3e3e3" stroke-width="1"/>`,
        );
        out.push(
            `<line x1="${num(left - 5)}" y1="${ty}" x2="${num(left)}" y2="${ty}" stroke="#333333" stroke-width="1"/>`,
        );
        out.push(
            `<text x="${num(left - 8)}" y="${ty}" dy="0.35em" text-anchor="end" font-size="11">${tick.toFixed(axis.decimals)}</text>`,
        );
    }
    // x axis: one tick per K.
    for (const k of kTicks) {
        const tx = num(x(k));
        out.push(
            `<line x1="${tx}" y1="${PLOT_TOP}" x2="${tx}" y2="${PLOT_BOTTOM}" stroke="#f0f0f0" stroke-width="1"/>`,
        );
        out.push(
            `<line x1="${tx}" y1="${PLOT_BOTTOM}" x2="${tx}" y2="${PLOT_BOTTOM + 5}" stroke="#333333" stroke-width="1"/>`,
        );
        out.push(`<text x="${tx}" y="${PLOT_BOTTOM + 18}" text-anchor="middle" font-size="11">${k}</text>`);
    }
    out.push(
        `<rect x="${num(left)}" y="${PLOT_TOP}" width="${num(right - left)}" height="${PLOT_BOTTOM - PLOT_TOP}" fill="none" stroke="#333333" stroke-width="1"/>`,
    );
    out.push(
        `<text x="${num((left + right) / 2)}" y="${PLOT_BOTTOM + 36}" text-anchor="middle" font-size="12">K (log scale)</text>`,
    );
    const yLabelX = num(offsetX + 18);
    const yLabelY = num((PLOT_TOP + PLOT_BOTTOM) / 2);
    out.push(
        `<text x="${yLabelX}" y="${yLabelY}" text-anchor="middle" font-size="12" transform="rotate(-90 ${yLabelX} ${yLabelY})">${metric}@K</text>`,
    );

    // The SOP's figures first, so the runs' solid lines are drawn over them.
    for (const s of series) {
        const points = referencePoints(s);
        if (points.length === 0) continue;
        const name = escapeXml(s.run.name);
        out.push(`<g class="reference" data-run="${name}">`);
        out.push(
            `<polyline class="reference" points="${points.map((p) => `${num(x(p.k))},${num(y(p.v))}`).join(" ")}" fill="none" stroke="${s.colour}" stroke-width="1.5" stroke-dasharray="6 4" stroke-opacity="0.85"/>`,
        );
        out.push("</g>");
    }
    for (const s of series) {
        const name = escapeXml(s.run.name);
        out.push(`<g class="run" data-run="${name}">`);
        out.push(
            `<polyline class="run" points="${s.run.k.map((k, i) => `${num(x(k))},${num(y(s.values[i] as number))}`).join(" ")}" fill="none" stroke="${s.colour}" stroke-width="2.2" stroke-linejoin="round"/>`,
        );
        s.run.k.forEach((k, i) => {
            const v = s.values[i] as number;
            out.push(
                `<circle cx="${num(x(k))}" cy="${num(y(v))}" r="3.8" fill="${s.colour}" stroke="#ffffff" stroke-width="1"><title>${name} ${metric}@${k} = ${v.toFixed(5)}</title></circle>`,
            );
        });
        out.push("</g>");
    }
    // The SOP's points last, as open squares, so they stay visible where a run sits on (or near) the SOP's figure.
    for (const s of series) {
        const marks = referencePoints(s);
        if (marks.length === 0) continue;
        const name = escapeXml(s.run.name);
        out.push(`<g class="reference-points" data-run="${name}">`);
        for (const p of marks) {
            out.push(
                `<rect x="${num(x(p.k) - 5)}" y="${num(y(p.v) - 5)}" width="10" height="10" fill="none" stroke="${s.colour}" stroke-width="1.3"><title>${name} SOP ${metric}@${p.k} = ${p.v.toFixed(5)}</title></rect>`,
            );
        }
        out.push("</g>");
    }
    out.push("</g>");
    return out;
}

export interface SvgOptions {
    /** Shown as the chart's title, e.g. "Eval runs of stack eval". */
    title: string;
    /** Where the SOP's figures come from; shown in the legend. */
    referenceLabel: string;
}

/** The whole SVG document as a string, ending with a newline. */
export function renderSvg(runs: RunReport[], options: SvgOptions): string {
    const kTicks = [...new Set(runs.flatMap((r) => r.k))].sort((a, b) => a - b);
    const series = (metric: "hr" | "ndcg"): Series[] =>
        runs.map((run, i) => ({
            run,
            colour: PALETTE[i % PALETTE.length] as string,
            values: run[metric],
            reference: run.reference === null ? null : run.reference[metric],
        }));
    const legend = layoutLegend(runs, `dashed line, open squares: ${options.referenceLabel}, same colour as the run`);
    const height = legend.height + 10;
    const out: string[] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" fill="#222222">`,
        `<title>${escapeXml(options.title)}</title>`,
        `<desc>HR@K and NDCG@K against K for each eval run (solid), with the SOP's observed figures (dashed, same colour). ${escapeXml(options.referenceLabel)}</desc>`,
        `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
        `<text x="${WIDTH / 2}" y="30" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(options.title)}</text>`,
        ...renderPanel("HR@K", "HR", series("hr"), kTicks, 0),
        ...renderPanel("NDCG@K", "NDCG", series("ndcg"), kTicks, PANEL_WIDTH),
        '<g class="legend">',
    ];
    for (const item of legend.items) {
        const midY = item.y;
        const dash = item.dashed ? ' stroke-dasharray="6 4"' : "";
        out.push(
            `<line x1="${item.x}" y1="${midY}" x2="${item.x + 30}" y2="${midY}" stroke="${item.colour}" stroke-width="${item.dashed ? 1.5 : 2.2}"${dash}/>`,
        );
        out.push(
            item.dashed
                ? `<rect x="${item.x + 10}" y="${midY - 5}" width="10" height="10" fill="none" stroke="${item.colour}" stroke-width="1.3"/>`
                : `<circle cx="${item.x + 15}" cy="${midY}" r="3.8" fill="${item.colour}" stroke="#ffffff" stroke-width="1"/>`,
        );
        out.push(`<text x="${item.x + 38}" y="${midY}" dy="0.35em" font-size="12">${escapeXml(item.label)}</text>`);
    }
    out.push("</g>", "</svg>");
    return `${out.join("\n")}\n`;
}
