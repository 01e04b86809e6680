/**
 * The small versioned JSON documents the program keeps in the bucket (the handoff manifest, the eval record), read
 * back and checked against their schema; the error names the object and what is wrong.
 */
import { z } from "zod";

/** `text` of the object at `uri`, parsed and checked; `what` names the document in errors ("a handoff manifest"). */
export function parseBucketDocument<S extends z.ZodType>(
    uri: string,
    text: string,
    schema: S,
    what: string,
): z.infer<S> {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        throw new Error(`${uri} is not JSON (${(err as Error).message}); delete it or restore a good version`, {
            cause: err,
        });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
        throw new Error(`${uri} is not ${what} this program understands (${why})`);
    }
    return parsed.data;
}
