/**
 * A run's share of its slice's uptime. A slice bills every chip from the moment it exists until it is deleted,
 * busy or not, so a run costs more than its job: the bootstrap before it, the upload of the run before it, and
 * any wait in between. Each run is charged the slice's time from the later of the slice's boot and the previous
 * run's end, up to its own job's end; the shares of a slice's runs then add up to its uptime until its last run
 * ended, without overlap. The time after that, until the slice is deleted, belongs to no run: `npm run supervise`
 * measures it (its summary's "idle after the work").
 *
 * The slice's boot is the earliest boot time its workers report to `identify` (V2Vm exposes no creation time).
 * "Charges for Cloud TPU accrue while your TPU node is in a READY state" (cloud.google.com/tpu/pricing), and a node
 * turns READY once its hosts are up, so the boot is close to the start of billing; the seconds between the boot and
 * READY, if any, are counted as idle.
 */
import { z } from "zod";
import { chipHours } from "./cost";

const unixSeconds = z.number().int().nonnegative();

export const sliceHoldSchema = z.strictObject({
    /** When the slice the run ran on came up (unix seconds): its earliest worker's boot. */
    upSince: unixSeconds,
    /** Start of the run's share: the slice's boot, or the previous run's end on it when that is later. */
    heldFrom: unixSeconds,
    /** End of the run's share: the last worker's exit. */
    heldUntil: unixSeconds,
    /** chips × (heldUntil − heldFrom) / 3600: what the slice billed for this run. */
    sliceChipHours: z.number().nonnegative(),
    /** sliceChipHours − the run's work chip-hours, never below 0. */
    idleChipHours: z.number().nonnegative(),
});
export type SliceHold = z.infer<typeof sliceHoldSchema>;

export interface HoldInputs {
    readonly chips: number;
    /** The slice's boot (unix seconds). */
    readonly upSince: number;
    /** The previous run's end on this slice (unix seconds), when there is one. */
    readonly previousEnd?: number;
    /** The run's job: first worker's start, last worker's exit (unix seconds). */
    readonly startedAt: number;
    readonly finishedAt: number;
}

/** The run's share of the slice, and of it what its job did not use. */
export function sliceHold(inputs: HoldInputs): SliceHold {
    const { chips, upSince, startedAt, finishedAt } = inputs;
    // A clock that disagrees with the boot time (a job recorded before the slice came up) never gives a share
    // longer than the time the slice has existed, nor a negative one.
    const heldUntil = Math.max(finishedAt, upSince);
    const heldFrom = Math.min(heldUntil, Math.max(upSince, inputs.previousEnd ?? 0));
    const held = chipHours(chips, heldFrom, heldUntil);
    const work = chipHours(chips, Math.max(startedAt, heldFrom), heldUntil);
    return {
        upSince,
        heldFrom,
        heldUntil,
        sliceChipHours: held,
        idleChipHours: Math.round(Math.max(0, held - work) * 1e6) / 1e6,
    };
}
