/**
 * An eval run already complete in its eval record (the recall step says `complete`): its steps on the host become
 * commands that only say so, and its outputs are the record's, as the eval stack gives them after a reclaim. So a
 * re-created eval slice (after a preemption, or a new run added to the stack) evaluates only the runs not recorded.
 */
import type { EvalRunOutputs } from "../evalRun";
import { shellQuote } from "../shell/quote";
import { EvalRecordEntry } from "./evalRecord";

/** A command that only prints, on stderr, that `step` of the recorded eval run does not run again. */
export function recordedEvalStep(step: string, entry: EvalRecordEntry): string {
    const note = `${step}: eval run ${entry.runId} is complete (recorded ${entry.recordedAt} in its eval record, artifacts verified); not running it again`;
    return `echo ${shellQuote(note)} >&2`;
}

/** The run's outputs from its record entry, in the shape a live update gives them. */
export function recordedEvalOutputs(entry: EvalRecordEntry): EvalRunOutputs {
    return {
        n: entry.n,
        invalid: entry.invalid,
        k: entry.k,
        hr: entry.hr,
        ndcg: entry.ndcg,
        wandbUrl: entry.wandbUrl,
        checkpoint: entry.checkpoint,
        artifacts: entry.artifacts,
        agreement: entry.agreement,
        evalSeconds: entry.evalSeconds,
        ...(entry.slice ? { slice: entry.slice } : {}),
    };
}
