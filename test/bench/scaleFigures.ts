// The figures of `npm run bench:scale` (test/bench/scale.ts) from one train `pulumi up`: its wall time, the
// engine event log's step timings (test/rehearsal/stepTimings.ts) and the run's own train wall time; and the table
// printed from them. Pure functions: no engine, no hosts.
import { spanSeconds, StepTiming, summarizeSteps } from "../rehearsal/stepTimings";

/** The phases of a train `up`, each the wall span of its steps (parallel over workers), in the order they run. */
export const PHASES: readonly { readonly name: string; readonly pick: (step: string) => boolean }[] = [
    { name: "slice create", pick: (s) => s === "hosts-slice" },
    { name: "slice state check", pick: (s) => s === "hosts-state" },
    {
        name: "identify (copy, run)",
        pick: (s) => s === "bootstrap-identify" || s.startsWith("bootstrap-copy-identify"),
    },
    {
        name: "script copies",
        pick: (s) => s.startsWith("bootstrap-copy-") && !s.startsWith("bootstrap-copy-identify"),
    },
    { name: "bootstrap command", pick: (s) => s === "bootstrap" },
    { name: "bootstrap (all of it)", pick: (s) => s.startsWith("bootstrap") },
    { name: "recall", pick: (s) => s === "recall" },
    { name: "launch", pick: (s) => s === "launch" },
    { name: "wait", pick: (s) => s === "wait" },
    { name: "locate", pick: (s) => s === "locate" },
    { name: "upload", pick: (s) => s === "upload" },
    { name: "handoff", pick: (s) => s === "handoff" },
    { name: "all steps", pick: () => true },
];

export interface SizeFigures {
    readonly acceleratorType: string;
    readonly hosts: number;
    /** Wall seconds of the `pulumi up` process. */
    readonly totalSeconds: number;
    readonly sliceCreateSeconds: number | undefined;
    /** From the first identify or script copy to the last worker's bootstrap command (parallel over workers). */
    readonly bootstrapSeconds: number | undefined;
    /** The run's train wall time as the workers measured it (first worker's start to last worker's exit). */
    readonly jobSeconds: number;
    /** total − job. */
    readonly overheadSeconds: number;
    /** Wall span per phase (PHASES), whole seconds from the event log. */
    readonly phaseSeconds: Record<string, number | undefined>;
    /** Per step kind: how many ran, their seconds summed over workers, the longest, and their wall span. */
    readonly steps: Record<string, { count: number; totalSeconds: number; maxSeconds: number; spanSeconds: number }>;
    readonly destroySeconds?: number;
    /**
     * CPU seconds of the operator's side of the `up` (the pulumi CLI and everything under it: engine, language host,
     * providers; test/bench/operatorCpu.ts): what scales with the slice on the machine that runs `pulumi up` on GCP.
     */
    readonly operatorCpuSeconds?: number;
    /** operatorCpuSeconds by process name (pulumi, the language host, node, the providers). */
    readonly operatorCpuByProcess?: Record<string, number>;
    /** CPU seconds the whole machine used during the `up` (every process; machineBusySeconds). */
    readonly machineCpuSeconds?: number;
    /** Cores of the machine: machineCpuSeconds / (cores × totalSeconds) is how busy it was. */
    readonly cores?: number;
}

/** The figures of one size's `up`: only command steps count (components have no work of their own). */
export function sizeFigures(
    acceleratorType: string,
    hosts: number,
    totalSeconds: number,
    jobSeconds: number,
    timings: readonly StepTiming[],
): SizeFigures {
    const commands = timings.filter((t) => t.type.startsWith("command:"));
    const phaseSeconds = Object.fromEntries(
        PHASES.map((p) => [p.name, spanSeconds(commands, (t) => p.pick(t.step))] as const),
    );
    const summary = summarizeSteps(commands);
    const steps = Object.fromEntries(
        Object.entries(summary).map(([step, s]) => [
            step,
            { ...s, spanSeconds: spanSeconds(commands, (t) => t.step === step) ?? 0 },
        ]),
    );
    return {
        acceleratorType,
        hosts,
        totalSeconds,
        sliceCreateSeconds: phaseSeconds["slice create"],
        bootstrapSeconds: phaseSeconds["bootstrap (all of it)"],
        jobSeconds,
        overheadSeconds: totalSeconds - jobSeconds,
        phaseSeconds,
        steps,
    };
}

/** Each size's overhead and total relative to the first (smallest) size's. */
export function ratios(sizes: readonly SizeFigures[]): { hosts: number; overhead: number; total: number }[] {
    const base = sizes[0];
    return sizes.map((s) => ({
        hosts: s.hosts,
        overhead: base ? s.overheadSeconds / base.overheadSeconds : NaN,
        total: base ? s.totalSeconds / base.totalSeconds : NaN,
    }));
}

const num = (value: number | undefined, digits = 1) => (value === undefined ? "-" : value.toFixed(digits));

/** The printed table: one row per size, then the phases' wall spans side by side. */
export function renderTable(sizes: readonly SizeFigures[], runName: string): string {
    const r = ratios(sizes);
    const lines: string[] = [];
    const head = ["type", "hosts", "total s", "slice s", "bootstrap s", "job s", "overhead s", "overhead ×", "total ×"];
    const base = sizes[0] ? `${sizes[0].hosts} host${sizes[0].hosts === 1 ? "" : "s"}` : "the first row";
    const widths = [8, 5, 8, 8, 11, 6, 10, 10, 7];
    const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])));
    lines.push(
        `train stack \`pulumi up\` on the twin slice, run "${runName}" only (whole seconds from the event log for`,
    );
    lines.push(
        "slice and bootstrap; total is the CLI's wall time; job is the workers' own train wall time; overhead =",
    );
    lines.push(`total − job; × = relative to ${base})`);
    lines.push(row(head).join("  "));
    sizes.forEach((s, i) =>
        lines.push(
            row([
                s.acceleratorType,
                String(s.hosts),
                num(s.totalSeconds),
                num(s.sliceCreateSeconds, 0),
                num(s.bootstrapSeconds, 0),
                num(s.jobSeconds),
                num(s.overheadSeconds),
                num(r[i].overhead, 2),
                num(r[i].total, 2),
            ]).join("  "),
        ),
    );
    lines.push("");
    lines.push("wall span per phase, seconds (parallel steps count once; summed over workers in brackets)");
    const stepOf = (phase: string) => PHASES.find((p) => p.name === phase)!;
    lines.push(["phase".padEnd(24), ...sizes.map((s) => `${s.hosts} hosts`.padStart(14))].join(""));
    for (const phase of PHASES) {
        const cells = sizes.map((s) => {
            const summed = Object.entries(s.steps)
                .filter(([step]) => stepOf(phase.name).pick(step))
                .reduce((sum, [, t]) => sum + t.totalSeconds, 0);
            const span = s.phaseSeconds[phase.name];
            return (span === undefined ? "-" : `${span.toFixed(0)} (${summed.toFixed(0)})`).padStart(14);
        });
        lines.push([phase.name.padEnd(24), ...cells].join(""));
    }
    const engine = sizes.map((s) => {
        const steps = s.phaseSeconds["all steps"];
        return (steps === undefined ? "-" : (s.totalSeconds - steps).toFixed(1)).padStart(14);
    });
    lines.push(["CLI outside the steps".padEnd(24), ...engine].join(""));
    if (sizes.some((s) => s.operatorCpuSeconds !== undefined)) {
        const cpu = sizes.map((s) => num(s.operatorCpuSeconds).padStart(14));
        lines.push(["operator CPU s (up)".padEnd(24), ...cpu].join(""));
        const names = [...new Set(sizes.flatMap((s) => Object.keys(s.operatorCpuByProcess ?? {})))];
        for (const name of names) {
            const used = sizes.map((s) => num(s.operatorCpuByProcess?.[name]).padStart(14));
            lines.push([`  ${name}`.padEnd(24), ...used].join(""));
        }
    }
    if (sizes.some((s) => s.machineCpuSeconds !== undefined)) {
        const busy = sizes.map((s) =>
            (s.machineCpuSeconds === undefined || !s.cores
                ? "-"
                : `${s.machineCpuSeconds.toFixed(0)} (${((100 * s.machineCpuSeconds) / (s.cores * s.totalSeconds)).toFixed(0)}%)`
            ).padStart(14),
        );
        lines.push(["machine CPU s (busy %)".padEnd(24), ...busy].join(""));
    }
    if (sizes.some((s) => s.destroySeconds !== undefined)) {
        lines.push(["destroy (after)".padEnd(24), ...sizes.map((s) => num(s.destroySeconds).padStart(14))].join(""));
    }
    return lines.join("\n");
}
