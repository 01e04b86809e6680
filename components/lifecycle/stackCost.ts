/**
 * The `cost` output of a stack: the chip-hours its runs' jobs took and their estimated price. Slice uptime and
 * idle chip-hours are measured by `npm run supervise` (its summary), which sees the wall clock; a Pulumi program
 * only sees the steps' own start and end times.
 */
import { z } from "zod";
import { ChipHourPrices, pricePerChipHour, Provisioning } from "./cost";

export const stackCostSchema = z.object({
    chips: z.number().int().positive(),
    provisioning: z.enum(["spot", "on-demand", "reserved"]),
    /** USD per chip-hour from tpu.prices; null when no price is set for this provisioning. */
    pricePerChipHour: z.number().positive().nullable(),
    workChipHours: z.number().nonnegative(),
    /** workChipHours × price, USD rounded to cents; null without a price. */
    workUsd: z.number().nonnegative().nullable(),
});
export type StackCost = z.infer<typeof stackCostSchema>;

export function stackCost(
    chips: number,
    provisioning: Provisioning,
    prices: ChipHourPrices,
    runChipHours: readonly number[],
): StackCost {
    const workChipHours = Math.round(runChipHours.reduce((a, b) => a + b, 0) * 1e6) / 1e6;
    const price = pricePerChipHour(prices, provisioning);
    return {
        chips,
        provisioning,
        pricePerChipHour: price ?? null,
        workChipHours,
        workUsd: price === undefined ? null : Math.round(workChipHours * price * 100) / 100,
    };
}

/** The report's lines for a stack's cost output. */
export function formatStackCost(cost: StackCost): string {
    const priced =
        cost.workUsd === null || cost.pricePerChipHour === null
            ? `no ${cost.provisioning} price set (tpu.prices), no estimate`
            : `~USD ${cost.workUsd.toFixed(2)} at USD ${cost.pricePerChipHour.toFixed(2)}/chip-hour (${cost.provisioning})`;
    return `cost: ${cost.workChipHours} chip-hours of work on ${cost.chips} chips, ${priced}; slice uptime and idle chip-hours: see \`npm run supervise\`'s summary`;
}
