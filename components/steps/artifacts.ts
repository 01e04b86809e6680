/**
 * artifacts: copy an eval's predictions, metrics JSON, log, calc.py output and item file to the bucket, each
 * verified by size and crc32c (scripts/remote/artifacts.sh), so its numbers can be re-checked after the TPU is gone.
 */
import { z } from "zod";
import { checkpointRefSchema } from "../checkpointRef";
import { assertGsUri, assertRepoPath, assertRunId } from "./inputChecks";
import { StorageEnv, stepCommand } from "./stepScript";

export const ARTIFACTS_LIMIT_SECONDS = 30 * 60;

export interface ArtifactsInputs {
    readonly runId: string;
    readonly outputDir: string;
    readonly itemFile: string;
    /** gs://bucket/prefix/eval/<run> */
    readonly destPrefix: string;
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

export function artifactsCommand(inputs: ArtifactsInputs): string {
    return stepCommand(
        "artifacts",
        {
            ...inputs.storageEnv,
            RUN_ID: assertRunId("artifacts.runId", inputs.runId),
            OUTPUT_DIR: assertRepoPath("artifacts.outputDir", inputs.outputDir),
            ITEM_FILE: assertRepoPath("artifacts.itemFile", inputs.itemFile),
            DEST_PREFIX: assertGsUri("artifacts.destPrefix", inputs.destPrefix),
        },
        inputs.limitSeconds ?? ARTIFACTS_LIMIT_SECONDS,
    );
}

/** Each artifact as a verified object in the bucket. */
export const artifactsResult = z.object({
    "eval_predictions.json": checkpointRefSchema,
    "eval_predictions.metrics.json": checkpointRefSchema,
    "eval.log": checkpointRefSchema,
    "calc.stdout": checkpointRefSchema,
    "items.txt": checkpointRefSchema,
});
export type ArtifactsResult = z.infer<typeof artifactsResult>;
