/**
 * launch: start a run's job on one worker, detached, and return at once (scripts/remote/launch.sh). Every
 * worker of a slice launches at the same time: JAX's rendezvous needs all processes to start together.
 */
import { z } from "zod";
import { assertInteger, assertOneOf, assertRepoPath, assertRunId } from "./inputChecks";
import { PythonEnvInputs, pythonEnv, StepName, stepCommand } from "./stepScript";

/** Stopping an earlier job takes up to ~10 s; the rest is bookkeeping. */
export const LAUNCH_LIMIT_SECONDS = 10 * 60;

/** What defines a job on a worker; launch and wait both take it (wait relaunches after a reported failure). */
export interface JobInputs extends PythonEnvInputs {
    /** `<run>-<key>`: names the run directory on every worker; changes when the run's inputs change. */
    readonly runId: string;
    /** The YAML the runner reads, relative to the checkout. */
    readonly config: string;
    readonly jobMode: "train" | "eval";
    /** JAX processes in the job (the slice's host count). */
    readonly processCount: number;
}

/** JobInputs as step inputs, checked. */
export function jobEnv(step: StepName, inputs: JobInputs): Record<string, string> {
    return {
        RUN_ID: assertRunId(`${step}.runId`, inputs.runId),
        JOB_CONFIG: assertRepoPath(`${step}.config`, inputs.config),
        JOB_MODE: assertOneOf(`${step}.jobMode`, inputs.jobMode, ["train", "eval"]),
        PROCESS_COUNT: String(assertInteger(`${step}.processCount`, inputs.processCount, 1, 4096)),
        ...pythonEnv(step, inputs),
    };
}

export interface LaunchInputs extends JobInputs {
    readonly limitSeconds?: number;
}

export function launchCommand(inputs: LaunchInputs): string {
    return stepCommand("launch", jobEnv("launch", inputs), inputs.limitSeconds ?? LAUNCH_LIMIT_SECONDS);
}

export const launchResult = z.object({
    host: z.string(),
    state: z.enum(["none", "running", "succeeded", "failed", "vanished", "failed-reported"]),
    runDir: z.string(),
});
export type LaunchResult = z.infer<typeof launchResult>;
