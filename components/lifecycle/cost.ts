/**
 * Chip-hours and their estimated price. A TPU slice bills every chip for as long as the node exists, busy or
 * idle (cloud.google.com/tpu/pricing), so a stack's cost is its slice uptime; the work is what the runs used and
 * the rest is idle. Prices come from config (tpu.prices); this file only multiplies.
 */

export interface ChipHourPrices {
    /** USD per chip-hour for spot slices; unset: no estimate for spot (tpu.prices has no default for it). */
    readonly spotPerChipHour?: number;
    /** USD per chip-hour on demand (also used to estimate reserved slices). */
    readonly onDemandPerChipHour: number;
}

export type Provisioning = "spot" | "on-demand" | "reserved";

export interface CostSummary {
    /** Chip-hours the runs' jobs took. */
    readonly workChipHours: number;
    /** Chip-hours the slice existed (what is billed). */
    readonly uptimeChipHours: number;
    /** uptime − work, never below 0. */
    readonly idleChipHours: number;
    readonly pricePerChipHour: number;
    /** uptime × price, USD, rounded to cents. */
    readonly estimatedUsd: number;
    readonly idleUsd: number;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Chip-hours of `chips` busy from `startedAt` to `finishedAt` (unix seconds), rounded to 1e-6. */
export function chipHours(chips: number, startedAt: number, finishedAt: number): number {
    return Math.round((chips * Math.max(0, finishedAt - startedAt) * 1e6) / 3600) / 1e6;
}

/** The price that applies, or undefined when it is not set (spot without tpu.prices.spotPerChipHour). */
export function pricePerChipHour(prices: ChipHourPrices, provisioning: Provisioning): number | undefined {
    return provisioning === "spot" ? prices.spotPerChipHour : prices.onDemandPerChipHour;
}

/** The cost of a slice of `chips` that existed `uptimeSeconds` and did `workChipHours` of work. */
export function costSummary(chips: number, uptimeSeconds: number, workChipHours: number, price: number): CostSummary {
    const uptimeChipHours = round((chips * Math.max(0, uptimeSeconds)) / 3600, 6);
    const idleChipHours = round(Math.max(0, uptimeChipHours - workChipHours), 6);
    return {
        workChipHours: round(workChipHours, 6),
        uptimeChipHours,
        idleChipHours,
        pricePerChipHour: price,
        estimatedUsd: round(uptimeChipHours * price, 2),
        idleUsd: round(idleChipHours * price, 2),
    };
}
