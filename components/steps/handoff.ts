/**
 * handoff: write or read a run's handoff manifest in the bucket (scripts/remote/handoff.sh; the document's schema
 * is components/lifecycle/manifest.ts). `record` runs on the process-0 worker after the verified uploads;
 * `recall` runs before a launch and says whether the run id is already complete.
 */
import { z } from "zod";
import { crc32cSchema } from "../checkpointRef";
import { MANIFEST_FILE, ManifestEntryInput, manifestEntry, manifestEntryInput } from "../lifecycle/manifest";
import { assertOneOf, assertRunId } from "./inputChecks";
import { StorageEnv, stepCommand } from "./stepScript";

/** Reading, merging and writing a few kB, and describing each checkpoint object. */
export const HANDOFF_LIMIT_SECONDS = 10 * 60;

/** gs://<bucket>/<prefix>/<run>/handoff.json, checked as the step checks it. */
export function assertHandoffUri(field: string, value: string): string {
    if (!/^gs:\/\/[a-z0-9][a-z0-9_.-]*\/.+\/handoff\.json$/.test(value) || /[\s'"\\]/.test(value)) {
        throw new Error(
            `${field} must be gs://<bucket>/<prefix>/<run>/${MANIFEST_FILE}; got ${JSON.stringify(value)} (the command builders refuse it before any shell sees it)`,
        );
    }
    return value;
}

export interface HandoffRecordInputs {
    readonly uri: string;
    readonly entry: ManifestEntryInput;
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

export function handoffRecordCommand(inputs: HandoffRecordInputs): string {
    const entry = manifestEntryInput.parse(inputs.entry);
    return stepCommand(
        "handoff",
        {
            ...inputs.storageEnv,
            MODE: "record",
            HANDOFF_URI: assertHandoffUri("handoff.uri", inputs.uri),
            ENTRY_JSON: JSON.stringify(entry),
        },
        inputs.limitSeconds ?? HANDOFF_LIMIT_SECONDS,
    );
}

export const handoffRecordResult = z.object({
    uri: z.string(),
    entries: z.number().int().positive(),
    size: z.number().int().positive(),
    crc32c: crc32cSchema,
});
export type HandoffRecordResult = z.infer<typeof handoffRecordResult>;

export interface HandoffRecallInputs {
    readonly uri: string;
    readonly runId: string;
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

export function handoffRecallCommand(inputs: HandoffRecallInputs): string {
    return stepCommand(
        "handoff",
        {
            ...inputs.storageEnv,
            MODE: "recall",
            HANDOFF_URI: assertHandoffUri("handoff.uri", inputs.uri),
            RUN_ID: assertRunId("handoff.runId", inputs.runId),
        },
        inputs.limitSeconds ?? HANDOFF_LIMIT_SECONDS,
    );
}

export const handoffRecallResult = z.discriminatedUnion("state", [
    z.object({ state: z.literal("complete"), entry: manifestEntry, reason: z.string() }),
    z.object({ state: z.enum(["absent", "stale"]), entry: z.null(), reason: z.string() }),
]);
export type HandoffRecallResult = z.infer<typeof handoffRecallResult>;

export interface HandoffLatestInputs {
    readonly uri: string;
    readonly kind: "best" | "last";
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

/** The newest verified entry with a `kind` checkpoint (the eval stack's default source); fails when there is none. */
export function handoffLatestCommand(inputs: HandoffLatestInputs): string {
    return stepCommand(
        "handoff",
        {
            ...inputs.storageEnv,
            MODE: "latest",
            HANDOFF_URI: assertHandoffUri("handoff.uri", inputs.uri),
            KIND: assertOneOf("handoff.kind", inputs.kind, ["best", "last"]),
        },
        inputs.limitSeconds ?? HANDOFF_LIMIT_SECONDS,
    );
}

export const handoffLatestResult = z.object({ state: z.literal("complete"), entry: manifestEntry, reason: z.string() });
