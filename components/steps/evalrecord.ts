/**
 * evalrecord: record an eval run whose cross-check passed in gs://<bucket>/<prefix>/eval/<run>/result.json
 * (scripts/remote/evalrecord.sh; the document's schema is components/lifecycle/evalRecord.ts). It runs on the eval
 * host, after the cross-check: the host's account is the one that may write under <prefix>/eval/ (the runner only
 * needs to read the bucket), and the step checks every artifact against the bucket before it records them, as the
 * train side's handoff step does with its checkpoints.
 */
import { z } from "zod";
import { crc32cSchema } from "../checkpointRef";
import { EVAL_RECORD_FILE, EvalRecordEntryInput, evalRecordEntryInput } from "../lifecycle/evalRecord";
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

export function evalRecordCommand(inputs: EvalRecordInputs): string {
    if (!/^[a-z]([a-z0-9-]{0,29}[a-z0-9])?$/.test(inputs.run)) {
        throw new Error(
            `evalrecord.run must be an eval run name; got ${JSON.stringify(inputs.run)} (the command builders refuse it before any shell sees it)`,
        );
    }
    const entry = evalRecordEntryInput.parse(inputs.entry);
    if (!entry.runId.startsWith(`${inputs.run}-`)) {
        throw new Error(`evalrecord: run id ${entry.runId} is not a run id of eval run ${inputs.run} (a bug)`);
    }
    return stepCommand(
        "evalrecord",
        {
            ...inputs.storageEnv,
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
