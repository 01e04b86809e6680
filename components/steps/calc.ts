/**
 * calc: upstream MiniOneRec calc.py on the eval predictions, on the host, as SOP step F does
 * (scripts/remote/calc.sh). Its full stdout stays beside the run; the result carries the tail with the metrics.
 */
import { z } from "zod";
import { assertRepoPath, assertRunId } from "./inputChecks";
import { PythonEnvInputs, pythonEnv, stepCommand } from "./stepScript";

export const CALC_LIMIT_SECONDS = 30 * 60;

export interface CalcInputs extends PythonEnvInputs {
    readonly runId: string;
    readonly outputDir: string;
    /** The MiniOneRec info file, relative to the checkout. */
    readonly itemFile: string;
    readonly limitSeconds?: number;
}

export function calcCommand(inputs: CalcInputs): string {
    return stepCommand(
        "calc",
        {
            RUN_ID: assertRunId("calc.runId", inputs.runId),
            OUTPUT_DIR: assertRepoPath("calc.outputDir", inputs.outputDir),
            ITEM_FILE: assertRepoPath("calc.itemFile", inputs.itemFile),
            ...pythonEnv("calc", inputs),
        },
        inputs.limitSeconds ?? CALC_LIMIT_SECONDS,
    );
}

export const calcResult = z.object({
    host: z.string(),
    stdoutPath: z.string(),
    stdoutLines: z.number().int().nonnegative(),
    tail: z.string(),
});
export type CalcResult = z.infer<typeof calcResult>;
