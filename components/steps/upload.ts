/**
 * upload: copy one checkpoint to the bucket and prove the object matches the local file by size and crc32c
 * (scripts/remote/upload.sh). Its result is the checkpoint reference the eval stack consumes.
 */
import { z } from "zod";
import { checkpointRefSchema } from "../checkpointRef";
import { assertCrc32c, assertGsUri, assertInteger, assertNotOption } from "./inputChecks";
import { StorageEnv, stepCommand } from "./stepScript";

/** A 3.5 GB checkpoint takes a minute or two in-region; an hour covers a slow path. */
export const UPLOAD_LIMIT_SECONDS = 60 * 60;

export interface UploadInputs {
    /** The checkpoint on the worker, as the locate step reported it. */
    readonly file: string;
    readonly destUri: string;
    /** What the locate step measured; the object must match it. */
    readonly size: number;
    readonly crc32c: string;
    readonly storageEnv: StorageEnv;
    readonly limitSeconds?: number;
}

export function uploadCommand(inputs: UploadInputs): string {
    return stepCommand(
        "upload",
        {
            ...inputs.storageEnv,
            FILE: assertNotOption("upload.file", inputs.file),
            DEST_URI: assertGsUri("upload.destUri", inputs.destUri),
            EXPECT_SIZE: String(assertInteger("upload.size", inputs.size, 0)),
            EXPECT_CRC32C: assertCrc32c("upload.crc32c", inputs.crc32c),
        },
        inputs.limitSeconds ?? UPLOAD_LIMIT_SECONDS,
    );
}

export const uploadResult = checkpointRefSchema.extend({ skipped: z.boolean() });
export type UploadResult = z.infer<typeof uploadResult>;
