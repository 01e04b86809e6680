/**
 * download: fetch a handed-off checkpoint to the path the eval config resumes from, proving it is the object
 * the train stack uploaded (scripts/remote/download.sh). Eval never starts on a mismatch.
 */
import { z } from "zod";
import { CheckpointRef, crc32cSchema } from "../checkpointRef";
import { assertCheckpointRef, assertOneOf, assertRepoPath } from "./inputChecks";
import { StorageEnv, stepCommand } from "./stepScript";

export const DOWNLOAD_LIMIT_SECONDS = 60 * 60;

export interface DownloadInputs {
    readonly checkpoint: CheckpointRef;
    /** The eval YAML; its train.resume_from_checkpoint decides where the file goes. */
    readonly config: string;
    readonly kind: "best" | "last";
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

export function downloadCommand(inputs: DownloadInputs): string {
    const checkpoint = assertCheckpointRef("download.checkpoint", inputs.checkpoint);
    return stepCommand(
        "download",
        {
            ...inputs.storageEnv,
            SRC_URI: checkpoint.uri,
            JOB_CONFIG: assertRepoPath("download.config", inputs.config),
            KIND: assertOneOf("download.kind", inputs.kind, ["best", "last"]),
            EXPECT_SIZE: String(checkpoint.size),
            EXPECT_CRC32C: checkpoint.crc32c,
        },
        inputs.limitSeconds ?? DOWNLOAD_LIMIT_SECONDS,
    );
}

export const downloadResult = z.object({
    path: z.string(),
    size: z.number().int().nonnegative(),
    crc32c: crc32cSchema,
    skipped: z.boolean(),
});
export type DownloadResult = z.infer<typeof downloadResult>;
