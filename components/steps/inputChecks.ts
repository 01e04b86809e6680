/**
 * Checks the command builders make on what they pass to a shell. loadConfig has checked the stack config
 * already; these catch a caller that bypasses it (defense in depth), and name the field, the value and why.
 */
import { CheckpointRef, checkpointRefSchema, crc32cSchema } from "../checkpointRef";
import { RUN_ID_PATTERN, RUN_NAME_PATTERN } from "../runIdentity";

function fail(field: string, value: unknown, rule: string): never {
    throw new Error(
        `${field} must be ${rule}; got ${JSON.stringify(value)} (the command builders refuse it before any shell sees it)`,
    );
}

/** An integer in [min, max]. */
export function assertInteger(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
        fail(
            field,
            value,
            max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
        );
    }
    return value;
}

/** One of a fixed set of words. */
export function assertOneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
    if (!allowed.includes(value)) fail(field, value, `one of ${allowed.join(", ")}`);
    return value;
}

/** A run's name as the config allows it; `what` names the kind of run in the message. */
export function assertRunName(field: string, value: string, what: string): string {
    if (!RUN_NAME_PATTERN.test(value)) fail(field, value, what);
    return value;
}

/** A run id as runIdentity.ts makes it: `<name>-<12 hex>`. */
export function assertRunId(field: string, value: string): string {
    if (!RUN_ID_PATTERN.test(value)) fail(field, value, "a run id such as office-0123456789ab");
    return value;
}

/** A commit SHA, 7 to 40 lowercase hex digits. */
export function assertCommit(field: string, value: string): string {
    if (!/^[0-9a-f]{7,40}$/.test(value)) fail(field, value, "a commit SHA (7 to 40 hex digits)");
    return value;
}

/** A name handed to a tool (a conda env, a version): letters, digits, `_ . -`, not starting with `-`. */
export function assertToolName(field: string, value: string): string {
    if (!/^[A-Za-z0-9_.][A-Za-z0-9_.+-]*$/.test(value)) {
        fail(field, value, "letters, digits, '_', '.', '+' or '-', not starting with '-'");
    }
    return value;
}

/** A path inside the checkout: relative, no `..` segment, not starting with `-`. */
export function assertRepoPath(field: string, value: string): string {
    if (value === "" || value.startsWith("/") || value.startsWith("-") || value.split("/").includes("..")) {
        fail(field, value, "a path relative to the checkout, without '..' and not starting with '-'");
    }
    return value;
}

/** A value a tool takes as an argument (a URL, a path): non-empty and not starting with `-`. */
export function assertNotOption(field: string, value: string): string {
    if (value === "" || value.startsWith("-")) fail(field, value, "non-empty and not starting with '-'");
    return value;
}

/** A gs:// URI. */
export function assertGsUri(field: string, value: string): string {
    if (!/^gs:\/\/[a-z0-9][a-z0-9_.-]*\/\S/.test(value)) fail(field, value, "a gs://<bucket>/<object> URI");
    return value;
}

/** A crc32c as GCS reports it (base64). */
export function assertCrc32c(field: string, value: string): string {
    if (!crc32cSchema.safeParse(value).success)
        fail(field, value, "a base64 crc32c as GCS reports it, e.g. 'IcOvzQ=='");
    return value;
}

/** A checkpoint reference `{uri, size, crc32c}`. */
export function assertCheckpointRef(field: string, value: CheckpointRef): CheckpointRef {
    const parsed = checkpointRefSchema.safeParse(value);
    if (!parsed.success) {
        fail(
            field,
            value,
            `a checkpoint reference {uri, size, crc32c} (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")})`,
        );
    }
    return parsed.data;
}
