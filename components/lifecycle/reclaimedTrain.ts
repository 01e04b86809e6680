/**
 * The train stack without its slice: every run is complete in the handoff manifests, so the outputs are what those
 * entries record, in the shape a live update gives (the eval stack and `npm run report` read them either way).
 */
import * as pulumi from "@pulumi/pulumi";
import { CheckpointRef, gcsUri } from "../checkpointRef";
import { TrainStackConfig } from "../config/loadConfig";
import { runId } from "../runIdentity";
import { bucketReaderFor, provisionReclaimedSlice, reclaimedSliceOutputs } from "../slice";
import { HandoffStatus, handoffStatus, runStatuses } from "./handoffStatus";
import { MANIFEST_FILE, ManifestEntry } from "./manifest";
import { lifecycleOutput, ReclaimPlan, recordedEntries } from "./reclaim";
import { stackCost } from "./stackCost";

export type RunStatuses = Readonly<Record<string, HandoffStatus>> | { readonly error: string };

/** Each train run's status in the bucket; nothing is read when the stack keeps its slice. */
export function trainRunStatuses(
    config: TrainStackConfig,
    identity: Readonly<Record<string, unknown>>,
): Promise<RunStatuses> {
    return runStatuses(
        config.tpu.reclaim === "keep" ? undefined : bucketReaderFor(config),
        config.train.runs,
        (run, stat, text) =>
            handoffStatus(
                {
                    run: run.name,
                    runId: runId(run, identity),
                    manifestUri: gcsUri(config.bucketName, config.bucket.prefix, run.name, MANIFEST_FILE),
                    kinds: run.checkpoints,
                },
                stat,
                text,
            ),
    );
}

/** A run's outputs from its manifest entry (as the recorded steps of a live update report them). */
export function recordedRunOutputs(config: TrainStackConfig, runName: string, entry: ManifestEntry) {
    const run = config.train.runs.find((r) => r.name === runName);
    if (!run) throw new Error(`run ${runName} is not in train.runs (a bug)`);
    const checkpoints: Record<string, CheckpointRef> = {};
    for (const kind of run.checkpoints) {
        const ref = entry.checkpoints[kind];
        if (ref) checkpoints[kind] = { uri: ref.uri, size: ref.size, crc32c: ref.crc32c };
    }
    return {
        runId: entry.runId,
        outputDir: run.outputDir,
        checkpoints,
        exitCodes: entry.exitCodes,
        process0Worker: entry.process0Worker,
        trainSeconds: entry.finishedAt - entry.startedAt,
        logUris: entry.exitCodes.map((_, worker) =>
            gcsUri(config.bucketName, config.bucket.prefix, run.name, "logs", `${entry.runId}-w${worker}.log`),
        ),
        handoffUri: gcsUri(config.bucketName, config.bucket.prefix, run.name, MANIFEST_FILE),
        chipHours: entry.chipHours,
        ...(entry.slice ? { slice: entry.slice } : {}),
        recalled: true,
    };
}

export function reclaimedTrainOutputs(
    config: TrainStackConfig,
    statuses: RunStatuses,
    plan: ReclaimPlan,
    kept: ReturnType<typeof provisionReclaimedSlice>,
    bucketName: pulumi.Output<string>,
) {
    const entries = recordedEntries(
        config.train.runs.map((r) => r.name),
        statuses as Readonly<Record<string, HandoffStatus>>,
        "run",
    );
    return {
        // The commits the runs were trained from.
        ...reclaimedSliceOutputs(config, kept, entries[0][1].commits),
        lifecycle: lifecycleOutput(config.tpu.reclaim, plan),
        bucket: bucketName,
        cost: stackCost(
            config.shape.chips,
            config.tpu.provisioning,
            config.tpu.prices,
            entries.map(([, e]) => ({ chipHours: e.chipHours, slice: e.slice })),
        ),
        runs: Object.fromEntries(entries.map(([name, entry]) => [name, recordedRunOutputs(config, name, entry)])),
    };
}
