/**
 * wait: poll a worker's job until it exits, vanishes or runs out of time, with progress lines
 * (scripts/remote/wait.sh). After a failure it has reported, the next wait starts a new attempt.
 */
import { z } from "zod";
import { assertInteger } from "./inputChecks";
import { JobInputs, jobEnv } from "./launch";
import { StorageEnv, stepCommand } from "./stepScript";

/** How a wait step polls; the same knobs for train and eval jobs. */
export interface JobTiming {
    readonly timeLimitMinutes: number;
    readonly pollSeconds: number;
    /** A progress line at least this often. */
    readonly progressSeconds: number;
    /** Extra seconds before a vanished process without an exit file is called dead. */
    readonly graceSeconds: number;
}

export interface WaitInputs extends JobInputs {
    readonly timing: JobTiming;
    /** Where this worker's log goes when the job ends ("" keeps it on the host). */
    readonly logUri: string;
    readonly storageEnv: StorageEnv;
    /** W&B is online: a job whose log says `wandb disabled due to init error` fails the wait. */
    readonly requireWandb?: boolean;
    /** The host's hard limit; by default the job's time limit plus WAIT_SLACK_SECONDS and a poll and grace. */
    readonly limitSeconds?: number;
    /**
     * One slice, one fate (multi-host jobs): this worker's index and the bucket folder where the workers of a run
     * signal failures to each other (`gs://<bucket>/<prefix>/<run>/attempts/<runId>/`). A failing worker writes
     * `<attempt>/failed-w<index>.json` there; every wait looks once per poll interval and stops its own job when a
     * peer has failed. Absent on a single host.
     */
    readonly slice?: SliceSignal;
}

export interface SliceSignal {
    readonly worker: number;
    readonly signalUri: string;
}

/** Log lines a failure message carries. */
export const FAILURE_TAIL_LINES = 40;

/** Time beyond the job's own limit for the wait to notice and report it (and copy the log). */
export const WAIT_SLACK_SECONDS = 10 * 60;

/** The hard limit of a wait: the job's time limit, one poll and grace period, and the slack. */
export function waitLimitSeconds(timing: JobTiming): number {
    return timing.timeLimitMinutes * 60 + timing.pollSeconds + timing.graceSeconds + WAIT_SLACK_SECONDS;
}

export function waitCommand(inputs: WaitInputs): string {
    const { timing } = inputs;
    return stepCommand(
        "wait",
        {
            ...inputs.storageEnv,
            ...jobEnv("wait", inputs),
            TIME_LIMIT_SECONDS: String(assertInteger("wait.timing.timeLimitMinutes", timing.timeLimitMinutes, 1) * 60),
            POLL_SECONDS: String(assertInteger("wait.timing.pollSeconds", timing.pollSeconds, 1)),
            PROGRESS_SECONDS: String(assertInteger("wait.timing.progressSeconds", timing.progressSeconds, 1)),
            GRACE_SECONDS: String(assertInteger("wait.timing.graceSeconds", timing.graceSeconds, 0)),
            TAIL_LINES: String(FAILURE_TAIL_LINES),
            LOG_URI: inputs.logUri,
            ...(inputs.requireWandb ? { REQUIRE_WANDB: "1" } : {}),
            ...(inputs.slice ? sliceEnv(inputs.slice) : {}),
        },
        inputs.limitSeconds ?? waitLimitSeconds(timing),
    );
}

function sliceEnv(slice: SliceSignal): Record<string, string> {
    if (!/^gs:\/\/[a-z0-9][a-z0-9._-]*\/(?:[^\s]+\/)?$/.test(slice.signalUri)) {
        throw new Error(
            `wait.slice.signalUri must be a gs://<bucket>/<folder>/ URI ending in "/"; got ${JSON.stringify(slice.signalUri)} (a bug in the caller)`,
        );
    }
    return {
        WORKER_INDEX: String(assertInteger("wait.slice.worker", slice.worker, 0, 4095)),
        SIGNAL_URI: slice.signalUri,
    };
}

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

/** Wall time from the first worker's start to the last worker's exit. */
export function wallSeconds(results: readonly WaitResult[]): number {
    return Math.max(...results.map((r) => r.finishedAt)) - Math.min(...results.map((r) => r.startedAt));
}
