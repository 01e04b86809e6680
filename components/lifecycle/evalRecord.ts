/**
 * The eval record: one small versioned JSON document per eval run, at gs://<bucket>/<prefix>/eval/<run>/result.json,
 * next to the run's artifacts. Each entry records one eval run id whose three metric computations agreed: the
 * run's outputs as the stack gives them, the commits the eval host checked out, and each artifact with its size and
 * crc32c. An entry whose artifacts still match is a finished eval: the eval stack with `tpu.reclaim: after-eval`
 * then needs no slice, and its outputs are the entries'. The `evalrecord` step (scripts/remote/evalrecord.sh) writes
 * it on the eval host; the program reads it (components/lifecycle/reclaimedEval.ts). This schema is the contract.
 */
import { z } from "zod";
import { parseBucketDocument } from "./bucketDocument";
import { checkpointRefSchema, gcsUri } from "../checkpointRef";
import { RUN_ID_PATTERN } from "../runIdentity";
import { sliceHoldSchema } from "./sliceHold";

export const EVAL_RECORD_SCHEMA_VERSION = 1;

/** The record's object name under the eval run's artifact folder. */
export const EVAL_RECORD_FILE = "result.json";

/** gs://<bucket>/<prefix>/eval/<run>/result.json */
export function evalRecordUri(bucket: string, prefix: string, run: string): string {
    return gcsUri(bucket, prefix, "eval", run, EVAL_RECORD_FILE);
}

const metricsByK = z.record(z.string().regex(/^[1-9][0-9]*$/, "must be a K such as 10"), z.number());

/** What the program knows once the cross-check passed; the step adds `recordedAt`. */
export const evalRecordEntryInput = z.strictObject({
    runId: z.string().regex(RUN_ID_PATTERN, "must be a run id such as office-0123456789ab"),
    // The eval run's outputs (EvalRunOutputs in components/evalRun.ts), as the stack outputs them.
    n: z.number().int().nonnegative(),
    invalid: z.number().int().nonnegative(),
    k: z.array(z.number().int().positive()).min(1),
    hr: metricsByK,
    ndcg: metricsByK,
    wandbUrl: z.string(),
    checkpoint: checkpointRefSchema,
    artifacts: z.record(z.string(), z.string()),
    agreement: z.strictObject({
        agree: z.literal(true),
        maxAbsDiff: z.number().nonnegative(),
        sources: z.array(z.string()),
        table: z.string(),
    }),
    evalSeconds: z.number().nonnegative(),
    /** The run's share of its slice's uptime (absent in entries recorded before it was measured). */
    slice: sliceHoldSchema.optional(),
    /** The commits the eval host checked out (the stack's `commits` output). */
    commits: z.strictObject({ mllmJax: z.string().min(1), miniOneRec: z.string().min(1) }),
    /** Each artifact as it was cross-checked: the record holds only while these still match. */
    objects: z.record(z.string(), checkpointRefSchema),
});
export type EvalRecordEntryInput = z.infer<typeof evalRecordEntryInput>;

export const evalRecordEntry = evalRecordEntryInput.extend({ recordedAt: z.string().min(1) });
export type EvalRecordEntry = z.infer<typeof evalRecordEntry>;

export const evalRecordSchema = z.strictObject({
    schemaVersion: z.literal(EVAL_RECORD_SCHEMA_VERSION),
    /** The eval run's name (eval.runs[].name). */
    run: z.string().min(1),
    /** eval run id → entry; another checkpoint or config gives another id and an entry of its own. */
    entries: z.record(z.string(), evalRecordEntry),
});
export type EvalRecord = z.infer<typeof evalRecordSchema>;

/** A record read from the bucket, checked; the error names the object and what is wrong. */
export function parseEvalRecord(uri: string, text: string): EvalRecord {
    const record = parseBucketDocument(uri, text, evalRecordSchema, "an eval record");
    for (const [id, entry] of Object.entries(record.entries)) {
        if (entry.runId !== id) {
            throw new Error(
                `${uri} is not an eval record this program understands (entries.${id} has runId ${entry.runId})`,
            );
        }
    }
    return record;
}
