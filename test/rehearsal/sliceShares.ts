// The rehearsal's check of a stack's slice accounting (components/lifecycle/sliceHold.ts): every run's share is
// measured from the hosts' boot, the shares follow each other without gap or overlap, the bucket's records hold the
// same shares as the outputs, and the stack's cost output adds them up.
import { isDeepStrictEqual } from "util";
import { SliceHold } from "../../components/lifecycle/sliceHold";
import { StackCost } from "../../components/lifecycle/stackCost";

export interface SliceShareInput {
    /** The stack's runs as its outputs give them. */
    readonly runs: Readonly<Record<string, { readonly slice?: SliceHold }>>;
    readonly cost: StackCost;
    /** Each run's share as its record in the bucket holds it (the handoff manifest or the eval record). */
    readonly recorded: Readonly<Record<string, SliceHold | undefined>>;
}

/** What is wrong with the accounting; empty when it holds. */
export function sliceShareProblems(input: SliceShareInput): string[] {
    const problems: string[] = [];
    const holds: [string, SliceHold][] = [];
    for (const [run, value] of Object.entries(input.runs)) {
        if (!value.slice) {
            problems.push(`run ${run} has no slice share`);
            continue;
        }
        holds.push([run, value.slice]);
        // Equal values, whatever order each side lists the fields in.
        if (!isDeepStrictEqual(input.recorded[run], value.slice)) {
            problems.push(
                `run ${run}: the bucket records ${JSON.stringify(input.recorded[run])}, the outputs ${JSON.stringify(value.slice)}`,
            );
        }
    }
    holds.sort(([, a], [, b]) => a.heldFrom - b.heldFrom);
    holds.forEach(([run, hold], i) => {
        const from = i === 0 ? hold.upSince : holds[i - 1][1].heldUntil;
        if (hold.upSince !== holds[0][1].upSince)
            problems.push(`run ${run} was on a slice up since ${hold.upSince}, not ${holds[0][1].upSince}`);
        if (hold.heldFrom !== from) problems.push(`run ${run}'s share starts at ${hold.heldFrom}, not ${from}`);
        if (hold.heldUntil <= hold.heldFrom)
            problems.push(`run ${run}'s share is empty (${hold.heldFrom}–${hold.heldUntil})`);
    });
    const { cost } = input;
    const sum = (pick: (h: SliceHold) => number) => holds.reduce((total, [, h]) => total + pick(h), 0);
    if (cost.unmeasuredRuns !== 0) problems.push(`the cost output counts ${cost.unmeasuredRuns} unmeasured run(s)`);
    if (cost.sliceChipHours === null || Math.abs(cost.sliceChipHours - sum((h) => h.sliceChipHours)) > 1e-5) {
        problems.push(`the cost output's sliceChipHours ${cost.sliceChipHours} is not the runs' sum`);
    }
    if (cost.idleChipHours === null || Math.abs(cost.idleChipHours - sum((h) => h.idleChipHours)) > 1e-5) {
        problems.push(`the cost output's idleChipHours ${cost.idleChipHours} is not the runs' sum`);
    }
    if (cost.sliceChipHours !== null && cost.sliceChipHours + 1e-5 < cost.workChipHours) {
        problems.push(
            `the slice was held ${cost.sliceChipHours} chip-hours, less than the ${cost.workChipHours} of work`,
        );
    }
    return problems;
}

/** The check's detail: the figures, or what is wrong. */
export function sliceShareDetail(input: SliceShareInput): string {
    const problems = sliceShareProblems(input);
    const { cost } = input;
    const figures = `work ${cost.workChipHours}, slice ${cost.sliceChipHours}, idle ${cost.idleChipHours} chip-hours`;
    return problems.length === 0 ? figures : `${figures}; ${problems.join("; ")}`;
}
