/**
 * Parsers of what the remote steps return: the last `TPU_SFT_RESULT {json}` line of stdout, checked with
 * zod, so a malformed or truncated result is an error that names the step instead of a silent undefined.
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

const crc32cBase64 = z.string().regex(/^[A-Za-z0-9+/]{6}==$/, "must be a base64 crc32c such as 'IcOvzQ=='");
const sha = z.string().regex(/^[0-9a-f]{40}$/);

export const bootstrapResult = z.object({
    host: z.string(),
    mllmJaxCommit: sha,
    miniOneRecCommit: sha,
    envMode: z.enum(["conda", "system-python"]),
    python: z.string(),
    envReused: z.boolean(),
});
export type BootstrapResult = z.infer<typeof bootstrapResult>;

export const launchResult = z.object({
    host: z.string(),
    state: z.enum(["none", "running", "succeeded", "failed", "vanished", "failed-reported"]),
    runDir: z.string(),
});

export const waitResult = z.object({
    host: z.string(),
    exitCode: z.literal(0),
    attempt: z.number().int().positive(),
    processIndex: z.number().int().nonnegative().nullable(),
    startedAt: z.number().int(),
    finishedAt: z.number().int(),
    logUri: z.string(),
});
export type WaitResult = z.infer<typeof waitResult>;

export const checkpointFile = z.object({
    path: z.string(),
    size: z.number().int().nonnegative(),
    crc32c: crc32cBase64,
    fresh: z.boolean(),
});
export type CheckpointFile = z.infer<typeof checkpointFile>;

export const locateResult = z.object({
    host: z.string(),
    processIndex: z.number().int().nonnegative().nullable(),
    files: z.object({ best: checkpointFile.optional(), last: checkpointFile.optional() }),
});
export type LocateResult = z.infer<typeof locateResult>;

export const uploadResult = z.object({
    uri: z.string().startsWith("gs://"),
    size: z.number().int().nonnegative(),
    crc32c: crc32cBase64,
    skipped: z.boolean(),
});
export type UploadResult = z.infer<typeof uploadResult>;

export const downloadResult = z.object({
    path: z.string(),
    size: z.number().int().nonnegative(),
    crc32c: crc32cBase64,
    skipped: z.boolean(),
});

/** eval_predictions.metrics.json as the MLLM-JAX evaluator writes it (its RankingMetrics dataclass). */
export const evaluatorMetrics = z.object({
    hr: z.record(z.string().regex(/^\d+$/), z.number()),
    ndcg: z.record(z.string().regex(/^\d+$/), z.number()),
    topk: z.array(z.number().int().positive()),
    n_samples: z.number().int().nonnegative(),
    n_beams: z.number().int().nonnegative(),
    invalid_prediction_count: z.number().int().nonnegative(),
});
export type EvaluatorMetrics = z.infer<typeof evaluatorMetrics>;

export const evalReportResult = z.object({
    host: z.string(),
    wandbUrl: z.string(),
    predictionsPath: z.string(),
    metrics: evaluatorMetrics,
});

export const calcResult = z.object({
    host: z.string(),
    stdoutPath: z.string(),
    stdoutLines: z.number().int().nonnegative(),
    tail: z.string(),
});

const artifact = z.object({
    uri: z.string().startsWith("gs://"),
    size: z.number().int().nonnegative(),
    crc32c: crc32cBase64,
});
export const artifactsResult = z.object({
    "eval_predictions.json": artifact,
    "eval_predictions.metrics.json": artifact,
    "eval.log": artifact,
    "calc.stdout": artifact,
    "items.txt": artifact,
});
export type ArtifactsResult = z.infer<typeof artifactsResult>;
