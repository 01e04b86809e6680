/**
 * The identity of a run: `<name>-<12 hex>`, a digest of everything that defines it. No timestamps, so an
 * unchanged config gives the same id (and runs nothing again); any change gives a new id, and with it a new
 * run directory on every worker.
 */
import * as crypto from "crypto";

/** A run's name (train.runs[].name, eval.runs[].name): 1-31 lowercase letters, digits or '-', a letter first. */
export const RUN_NAME_PATTERN = /^[a-z]([a-z0-9-]{0,29}[a-z0-9])?$/;

/** What a run id looks like; the remote scripts check the same shape (scripts/remote/lib.sh). */
export const RUN_ID_PATTERN = /^[a-z][a-z0-9-]*-[0-9a-f]{12}$/;

/** The id of `run` (named by `run.name`) under `identity` (commits, env pins, slice, …). */
export function runId(
    run: { readonly name: string; readonly [key: string]: unknown },
    identity: Readonly<Record<string, unknown>>,
): string {
    const digest = crypto.createHash("sha256").update(stableJson({ run, identity })).digest("hex").slice(0, 12);
    return `${run.name}-${digest}`;
}

/** JSON with object keys sorted and undefined members left out, so equal values give equal text. */
export function stableJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const entries = Object.keys(value as Record<string, unknown>)
            .sort()
            .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
        return `{${entries.join(",")}}`;
    }
    return JSON.stringify(value);
}
