/**
 * A verified object in the bucket: `{uri, size, crc32c}`. Train uploads checkpoints as these, the eval stack
 * consumes them, the eval's artifacts are recorded as these, and config may name one explicitly. One schema,
 * with the one crc32c rule, for all of them.
 */
import { z } from "zod";

/** crc32c as GCS reports it: the 4 bytes in base64, e.g. `IcOvzQ==`. */
export const crc32cSchema = z
    .string()
    .regex(/^[A-Za-z0-9+/]{6}==$/, "must be a base64 crc32c as GCS reports it, e.g. 'IcOvzQ=='");

export const checkpointRefSchema = z.object({
    uri: z.string().regex(/^gs:\/\/[a-z0-9][a-z0-9_.-]*\/.+$/, "must be a gs://<bucket>/<object> URI"),
    size: z.number().int().nonnegative(),
    crc32c: crc32cSchema,
});
export type CheckpointRef = z.infer<typeof checkpointRefSchema>;

/** `gs://bucket/prefix/parts…`, refusing parts that would escape their folder. */
export function gcsUri(bucket: string, ...parts: string[]): string {
    for (const part of parts) {
        if (part === "" || part.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
            throw new Error(`invalid object path segment ${JSON.stringify(part)} under gs://${bucket}`);
        }
    }
    return `gs://${bucket}/${parts.join("/")}`;
}
