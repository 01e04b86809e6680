/**
 * locate: which of a run's checkpoints a worker holds (scripts/remote/locate.sh). Only JAX process 0 writes
 * them and it can be on any worker, so every worker answers; checkpointHolder.ts picks the one.
 */
import { z } from "zod";
import { crc32cSchema } from "../checkpointRef";
import { assertOneOf, assertRepoPath, assertRunId } from "./inputChecks";
import { StorageEnv, stepCommand } from "./stepScript";

/** Hashing two multi-GB checkpoints takes a minute or two. */
export const LOCATE_LIMIT_SECONDS = 20 * 60;

export interface LocateInputs {
    readonly runId: string;
    readonly outputDir: string;
    readonly kinds: readonly ("best" | "last")[];
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

export function locateCommand(inputs: LocateInputs): string {
    return stepCommand(
        "locate",
        {
            ...inputs.storageEnv,
            RUN_ID: assertRunId("locate.runId", inputs.runId),
            OUTPUT_DIR: assertRepoPath("locate.outputDir", inputs.outputDir),
            KINDS: inputs.kinds.map((kind) => assertOneOf("locate.kinds[]", kind, ["best", "last"])).join(","),
        },
        inputs.limitSeconds ?? LOCATE_LIMIT_SECONDS,
    );
}

export const checkpointFile = z.object({
    path: z.string(),
    size: z.number().int().nonnegative(),
    crc32c: crc32cSchema,
    /** Written after this run started (an older file is a leftover of an earlier run). */
    fresh: z.boolean(),
});
export type CheckpointFile = z.infer<typeof checkpointFile>;

export const locateResult = z.object({
    host: z.string(),
    processIndex: z.number().int().nonnegative().nullable(),
    files: z.object({ best: checkpointFile.optional(), last: checkpointFile.optional() }),
});
export type LocateResult = z.infer<typeof locateResult>;
