/**
 * The cross-check an eval run's metrics must pass: upstream calc.py's stdout, the evaluator's metrics JSON, and
 * this project's TypeScript port computed from the predictions and item file as stored in the bucket. It runs as
 * a step of its own (scripts/crossCheck.ts), never while the Pulumi program evaluates.
 */
import { z } from "zod";
import { checkpointRefSchema } from "../checkpointRef";
import { evaluatorMetrics } from "../steps/evalreport";
import { BucketReaderOptions, readObject } from "./bucketReader";
import { assertRecordList, computeCalcMetrics } from "./calc";
import { parseCalcPyStdout } from "./calcPyStdout";
import { crossCheck, fromCalcPy, fromEvaluator, fromTypeScript } from "./crossCheck";
import { parsePythonJson } from "./pythonJson";

/** Everything the check needs; the crc32c of each object is part of it, so stored bytes decide when it re-runs. */
export const crossCheckInput = z.strictObject({
    run: z.string().min(1),
    predictions: checkpointRefSchema,
    items: checkpointRefSchema,
    calcTail: z.string(),
    evaluatorMetrics,
    topk: z.array(z.number().int().positive()).min(1),
    requireZeroInvalid: z.boolean(),
    /** The GCS-compatible endpoint (the rehearsal's emulator); absent for real GCS. */
    apiEndpoint: z.string().optional(),
    projectId: z.string().min(1),
});
export type CrossCheckInput = z.infer<typeof crossCheckInput>;

export const crossCheckResult = z.object({
    n: z.number().int().nonnegative(),
    invalid: z.number().int().nonnegative(),
    k: z.array(z.number().int().positive()),
    hr: z.array(z.number()),
    ndcg: z.array(z.number()),
    maxAbsDiff: z.number(),
    sources: z.array(z.string()),
    table: z.string(),
});
export type CrossCheckResult = z.infer<typeof crossCheckResult>;

/** The check's failure: the side-by-side table says which computation disagrees where. */
export class MetricsDisagree extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MetricsDisagree";
    }
}

/** Reads the predictions and item file back from the bucket, computes, and checks the three sources agree. */
export async function runCrossCheck(input: CrossCheckInput): Promise<CrossCheckResult> {
    const reader: BucketReaderOptions = { apiEndpoint: input.apiEndpoint, projectId: input.projectId };
    const [predictions, items] = await Promise.all([
        readObject(input.predictions.uri, reader),
        readObject(input.items.uri, reader),
    ]);
    // Python's json module reads what the evaluator writes, NaN and Infinity included.
    const records = assertRecordList(parsePythonJson(predictions.toString("utf8")));
    const typescript = fromTypeScript(computeCalcMetrics(records, items.toString("utf8")));
    const sources = [fromCalcPy(parseCalcPyStdout(input.calcTail)), fromEvaluator(input.evaluatorMetrics), typescript];
    const agreement = crossCheck(sources, { requireZeroInvalid: input.requireZeroInvalid, expectedK: input.topk });
    if (!agreement.agree) {
        throw new MetricsDisagree(
            `eval run ${input.run}: the metric computations disagree, so no metrics are recorded:\n${agreement.problems.map((p) => `  - ${p}`).join("\n")}\n${agreement.table}`,
        );
    }
    return {
        n: typescript.n ?? 0,
        invalid: typescript.invalid,
        k: [...typescript.k],
        hr: [...typescript.hr],
        ndcg: [...typescript.ndcg],
        maxAbsDiff: agreement.maxAbsDiff,
        sources: sources.map((s) => s.name),
        table: agreement.table,
    };
}
