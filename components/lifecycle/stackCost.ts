/**
 * The `cost` output of a stack: per its runs, the chip-hours their jobs took, their shares of the slice's uptime
 * (sliceHold.ts) and of that what was idle, with estimated prices. The slice's time after its last run, until it
 * is deleted, belongs to no run: `npm run supervise` measures it (its summary's "idle after the work").
 */
import { z } from "zod";
import { ChipHourPrices, pricePerChipHour, Provisioning } from "./cost";
import { SliceHold } from "./sliceHold";

export const stackCostSchema = z.object({
    chips: z.number().int().positive(),
    provisioning: z.enum(["spot", "on-demand", "reserved"]),
    /** USD per chip-hour from tpu.prices; null when no price is set for this provisioning. */
    pricePerChipHour: z.number().positive().nullable(),
    workChipHours: z.number().nonnegative(),
    /** workChipHours × price, USD rounded to cents; null without a price. */
    workUsd: z.number().nonnegative().nullable(),
    /** The runs' shares of the slice's uptime (what was billed for them); null when no run's share is measured. */
    sliceChipHours: z.number().nonnegative().nullable(),
    /** Of sliceChipHours, what the jobs did not use (bootstrap, uploads, waits); null like sliceChipHours. */
    idleChipHours: z.number().nonnegative().nullable(),
    /** sliceChipHours × price and idleChipHours × price, USD; null without a price or a measured share. */
    sliceUsd: z.number().nonnegative().nullable(),
    idleUsd: z.number().nonnegative().nullable(),
    /** Runs whose share is not measured (recorded before it was): their work is in workChipHours only. */
    unmeasuredRuns: z.number().int().nonnegative(),
});
export type StackCost = z.infer<typeof stackCostSchema>;

/** What a stack knows of one run's cost. */
export interface RunCost {
    /** Chip-hours the run's job took. */
    readonly chipHours: number;
    /** Its share of the slice, when measured. */
    readonly slice?: SliceHold;
}

/** An eval run's cost: its eval job's seconds on all the slice's chips, and its share of the slice when measured. */
export function evalRunCost(chips: number, run: { readonly evalSeconds: number; readonly slice?: SliceHold }): RunCost {
    return { chipHours: (chips * run.evalSeconds) / 3600, slice: run.slice };
}

const sum = (values: readonly number[]) => Math.round(values.reduce((a, b) => a + b, 0) * 1e6) / 1e6;
const usd = (chipHours: number | null, price: number | undefined) =>
    chipHours === null || price === undefined ? null : Math.round(chipHours * price * 100) / 100;

export function stackCost(
    chips: number,
    provisioning: Provisioning,
    prices: ChipHourPrices,
    runs: readonly RunCost[],
): StackCost {
    const workChipHours = sum(runs.map((r) => r.chipHours));
    const holds = runs.flatMap((r) => (r.slice ? [r.slice] : []));
    const sliceChipHours = holds.length > 0 ? sum(holds.map((h) => h.sliceChipHours)) : null;
    const idleChipHours = holds.length > 0 ? sum(holds.map((h) => h.idleChipHours)) : null;
    const price = pricePerChipHour(prices, provisioning);
    return {
        chips,
        provisioning,
        pricePerChipHour: price ?? null,
        workChipHours,
        workUsd: usd(workChipHours, price),
        sliceChipHours,
        idleChipHours,
        sliceUsd: usd(sliceChipHours, price),
        idleUsd: usd(idleChipHours, price),
        unmeasuredRuns: runs.length - holds.length,
    };
}

/** The report's line for a stack's cost output. */
export function formatStackCost(cost: StackCost): string {
    const price = cost.pricePerChipHour;
    const money = (value: number | null) => (price !== null && value !== null ? ` (~USD ${value.toFixed(2)})` : "");
    const parts = [`cost on ${cost.chips} chips: ${cost.workChipHours} chip-hours of work${money(cost.workUsd)}`];
    if (cost.sliceChipHours !== null && cost.idleChipHours !== null) {
        parts.push(
            `the runs held the slice ${cost.sliceChipHours} chip-hours${money(cost.sliceUsd)}, ${cost.idleChipHours} of them idle${money(cost.idleUsd)}`,
        );
    }
    if (cost.unmeasuredRuns > 0) {
        parts.push(`${cost.unmeasuredRuns} run(s) recorded before slice time was measured count as work only`);
    }
    parts.push(
        price !== null
            ? `at USD ${price.toFixed(2)}/chip-hour (${cost.provisioning})`
            : `no ${cost.provisioning} price set (tpu.prices), no estimate`,
    );
    return `${parts.join("; ")}. The slice's time after its last run is in \`npm run supervise\`'s summary.`;
}
