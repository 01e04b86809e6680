/**
 * What a remote step returns: the last `TPU_SFT_RESULT {json}` line of its stdout (written by `result_object`
 * in scripts/remote/lib.sh), checked with the step's zod schema, so a malformed or truncated result is an error
 * that names the step instead of a silent undefined.
 */
import { z } from "zod";

export const RESULT_MARKER = "TPU_SFT_RESULT ";

export class StepResultError extends Error {
    constructor(step: string, problem: string, stdout: string) {
        const tail = stdout.split("\n").slice(-5).join("\n");
        super(`${step}: ${problem}\n--- last lines of its stdout ---\n${tail}`);
        this.name = "StepResultError";
    }
}

export function parseStepResult<T extends z.ZodType>(step: string, stdout: string | undefined, schema: T): z.infer<T> {
    if (stdout === undefined) {
        // A resource left out of a targeted update (`pulumi up --target`) has no outputs yet.
        throw new StepResultError(step, "it has not run yet (was it left out of a targeted update?)", "");
    }
    const line = stdout
        .split(/\r?\n/)
        .reverse()
        .find((l) => l.startsWith(RESULT_MARKER));
    if (line === undefined) {
        throw new StepResultError(step, `no ${RESULT_MARKER.trim()} line in the output`, stdout);
    }
    let value: unknown;
    try {
        value = JSON.parse(line.slice(RESULT_MARKER.length));
    } catch (err) {
        throw new StepResultError(step, `its result is not JSON (${(err as Error).message})`, stdout);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
        throw new StepResultError(step, `its result does not have the expected shape (${why})`, stdout);
    }
    return parsed.data;
}
