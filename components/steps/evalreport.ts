/**
 * evalreport: what an eval job left behind: the W&B run URL from its log, the evaluator's metrics JSON and
 * the predictions file (scripts/remote/evalreport.sh). With W&B online, a log saying W&B failed to start fails it.
 */
import { z } from "zod";
import { assertOneOf, assertRepoPath, assertRunId } from "./inputChecks";
import { stepCommand } from "./stepScript";

export const EVALREPORT_LIMIT_SECONDS = 5 * 60;

export interface EvalReportInputs {
    readonly runId: string;
    /** The eval config's output_dir, relative to the checkout. */
    readonly outputDir: string;
    readonly wandbMode: "online" | "offline" | "disabled";
    readonly limitSeconds?: number;
}

export function evalReportCommand(inputs: EvalReportInputs): string {
    return stepCommand(
        "evalreport",
        {
            RUN_ID: assertRunId("evalreport.runId", inputs.runId),
            OUTPUT_DIR: assertRepoPath("evalreport.outputDir", inputs.outputDir),
            WANDB_MODE: assertOneOf("evalreport.wandbMode", inputs.wandbMode, ["online", "offline", "disabled"]),
        },
        inputs.limitSeconds ?? EVALREPORT_LIMIT_SECONDS,
    );
}

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
export type EvalReportResult = z.infer<typeof evalReportResult>;
