/**
 * evalrecord: an eval run's record in gs://<bucket>/<prefix>/eval/<run>/result.json (scripts/remote/evalrecord.sh;
 * the document's schema is components/lifecycle/evalRecord.ts). `record` runs on the eval host after the
 * cross-check: the host's account is the one that may write under <prefix>/eval/ (the runner only needs to read the
 * bucket), and the step checks every artifact against the bucket before it records them, as the train side's
 * handoff step does with its checkpoints. `recall` runs before the eval starts and says whether the eval run id is
 * already complete (recorded, artifacts unchanged), so a new slice does not evaluate it again.
 */
import { z } from "zod";
import { crc32cSchema } from "../checkpointRef";
import { EVAL_RECORD_FILE, evalRecordEntry, EvalRecordEntryInput, evalRecordEntryInput } from "../lifecycle/evalRecord";
import { assertRunId, assertRunName } from "./inputChecks";
import { StorageEnv, stepCommand } from "./stepScript";

/** Reading, merging and writing a few kB, and describing each artifact. */
export const EVALRECORD_LIMIT_SECONDS = 10 * 60;

export interface EvalRecordInputs {
    /** gs://<bucket>/<prefix>/eval/<run>/result.json */
    readonly uri: string;
    /** The eval run's name, the record's `run`. */
    readonly run: string;
    readonly entry: EvalRecordEntryInput;
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

/** gs://<bucket>/<prefix>/eval/<run>/result.json, checked as the step checks it. */
export function assertEvalRecordUri(field: string, value: string, run: string): string {
    const tail = `/eval/${run}/${EVAL_RECORD_FILE}`;
    if (!/^gs:\/\/[a-z0-9][a-z0-9_.-]*\/.+$/.test(value) || !value.endsWith(tail) || /[\s'"\\]/.test(value)) {
        throw new Error(
            `${field} must be gs://<bucket>/<prefix>${tail}; got ${JSON.stringify(value)} (the command builders refuse it before any shell sees it)`,
        );
    }
    return value;
}

function assertRunIdOf(run: string, runId: string): string {
    if (!assertRunId("evalrecord.runId", runId).startsWith(`${run}-`)) {
        throw new Error(`evalrecord: run id ${runId} is not a run id of eval run ${run} (a bug)`);
    }
    return runId;
}

export function evalRecordCommand(inputs: EvalRecordInputs): string {
    assertRunName("evalrecord.run", inputs.run, "an eval run name");
    const entry = evalRecordEntryInput.parse(inputs.entry);
    assertRunIdOf(inputs.run, entry.runId);
    return stepCommand(
        "evalrecord",
        {
            ...inputs.storageEnv,
            MODE: "record",
            RECORD_URI: assertEvalRecordUri("evalrecord.uri", inputs.uri, inputs.run),
            EVAL_RUN: inputs.run,
            ENTRY_JSON: JSON.stringify(entry),
        },
        inputs.limitSeconds ?? EVALRECORD_LIMIT_SECONDS,
    );
}

export const evalRecordResult = z.object({
    uri: z.string(),
    entries: z.number().int().positive(),
    size: z.number().int().positive(),
    crc32c: crc32cSchema,
    recordedAt: z.string().min(1),
});
export type EvalRecordResult = z.infer<typeof evalRecordResult>;

export interface EvalRecallInputs {
    /** gs://<bucket>/<prefix>/eval/<run>/result.json */
    readonly uri: string;
    /** The eval run's name. */
    readonly run: string;
    /** The eval run id to look up. */
    readonly runId: string;
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

export function evalRecallCommand(inputs: EvalRecallInputs): string {
    assertRunName("evalrecord.run", inputs.run, "an eval run name");
    return stepCommand(
        "evalrecord",
        {
            ...inputs.storageEnv,
            MODE: "recall",
            RECORD_URI: assertEvalRecordUri("evalrecord.uri", inputs.uri, inputs.run),
            EVAL_RUN: inputs.run,
            RUN_ID: assertRunIdOf(inputs.run, inputs.runId),
        },
        inputs.limitSeconds ?? EVALRECORD_LIMIT_SECONDS,
    );
}

export const evalRecallResult = z.discriminatedUnion("state", [
    z.object({ state: z.literal("complete"), entry: evalRecordEntry, reason: z.string() }),
    z.object({ state: z.enum(["absent", "stale"]), entry: z.null(), reason: z.string() }),
]);
export type EvalRecallResult = z.infer<typeof evalRecallResult>;
