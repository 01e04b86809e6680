/**
 * The eval stack and its records (tpu.reclaim after-eval). At program time each eval run's id is computed when its
 * checkpoint can be known then: from the train stack's outputs or explicit URIs, or from the train run's handoff
 * manifest, picked as the `handoff` step's `latest` mode picks it on the host. When every eval run's id has an entry
 * in its eval record whose artifacts still match, the stack needs no slice, and its outputs are the entries', in the
 * shape a live update gives (`npm run report` reads them either way).
 */
import { CheckpointRef } from "../checkpointRef";
import { EvalStackConfig } from "../config/loadConfig";
import { EvalRunConfig } from "../config/schema";
import { evalRunId } from "../evalRun";
import { bucketReaderFor, provisionReclaimedSlice, reclaimedSliceOutputs } from "../slice";
import { EvalRecordEntry, evalRecordUri, parseEvalRecord } from "./evalRecord";
import { recordedEvalOutputs } from "./recordedEval";
import { objectMismatch, ObjectStat, ObjectText, runStatuses } from "./handoffStatus";
import { latestEntry, parseManifest } from "./manifest";
import { lifecycleOutput, LifecycleOutput, ReclaimPlan, ReclaimPolicy, recordedEntries } from "./reclaim";
import { evalRunCost, stackCost } from "./stackCost";

/** Where an eval run's checkpoint comes from: known when the program starts, or a train run's handoff manifest. */
export type EvalCheckpointSource = CheckpointRef | { readonly handoffUri: string };

export type EvalRecordStatus =
    | { readonly state: "complete"; readonly runId: string; readonly entry: EvalRecordEntry; readonly reason: string }
    /** runId: the id the program computed, when it got as far as the checkpoint. */
    | { readonly state: "absent" | "stale"; readonly runId?: string; readonly reason: string };

export type EvalRunStatuses = Readonly<Record<string, EvalRecordStatus>> | { readonly error: string };

/** One eval run to look up: its checkpoint's source, its record, and how its id follows from the checkpoint. */
export interface EvalRecordLookup {
    readonly run: EvalRunConfig;
    readonly source: EvalCheckpointSource;
    /** gs://<bucket>/<prefix>/eval/<run>/result.json */
    readonly recordUri: string;
    /** The eval run's id for a checkpoint (evalRunId under the stack's identity). */
    readonly idOf: (checkpoint: CheckpointRef) => string;
}

/**
 * The checkpoint an eval run evaluates, as far as the program can know it now: a known one as it is; from a
 * handoff manifest the newest verified entry with the run's checkpoint kind (the `latest` mode's pick), or why not.
 */
export async function programCheckpoint(
    run: EvalRunConfig,
    source: EvalCheckpointSource,
    stat: ObjectStat,
    text: ObjectText,
): Promise<{ readonly checkpoint: CheckpointRef } | { readonly state: "absent" | "stale"; readonly reason: string }> {
    if (!("handoffUri" in source)) return { checkpoint: source };
    const uri = source.handoffUri;
    const body = await text(uri);
    if (body === undefined) return { state: "absent", reason: `no handoff manifest at ${uri}` };
    const entry = latestEntry(parseManifest(uri, body), run.checkpoint);
    const ref = entry?.checkpoints[run.checkpoint];
    if (!entry || !ref)
        return { state: "absent", reason: `${uri} records no run with a '${run.checkpoint}' checkpoint` };
    const mismatch = await objectMismatch(stat, ref);
    if (mismatch) {
        return {
            state: "stale",
            reason: `the latest entry of ${uri} (${entry.runId}) no longer matches the bucket: ${run.checkpoint} checkpoint ${ref.uri} ${mismatch}`,
        };
    }
    return { checkpoint: { uri: ref.uri, size: ref.size, crc32c: ref.crc32c } };
}

/** The status of one eval run, from the bucket behind `stat` and `text` (pure apart from them, so it is unit-tested). */
export async function evalRecordStatus(
    lookup: EvalRecordLookup,
    stat: ObjectStat,
    text: ObjectText,
): Promise<EvalRecordStatus> {
    const picked = await programCheckpoint(lookup.run, lookup.source, stat, text);
    if ("state" in picked) return picked;
    const runId = lookup.idOf(picked.checkpoint);
    const uri = lookup.recordUri;
    const body = await text(uri);
    if (body === undefined) return { state: "absent", runId, reason: `no eval record at ${uri}` };
    const entry = parseEvalRecord(uri, body).entries[runId];
    if (!entry) return { state: "absent", runId, reason: `${uri} has no entry for eval run id ${runId}` };
    for (const [file, ref] of Object.entries(entry.objects)) {
        const mismatch = await objectMismatch(stat, ref);
        if (mismatch) return { state: "stale", runId, reason: `artifact ${file} ${ref.uri}: ${mismatch}` };
    }
    return { state: "complete", runId, entry, reason: `${runId} recorded ${entry.recordedAt}, artifacts verified` };
}

/** Each eval run's status in the bucket; nothing is read when the stack keeps its slice. A read error is returned. */
export function evalRunStatuses(
    config: EvalStackConfig,
    identity: Readonly<Record<string, unknown>>,
    sources: Readonly<Record<string, EvalCheckpointSource>>,
): Promise<EvalRunStatuses> {
    return runStatuses(
        config.tpu.reclaim === "keep" ? undefined : bucketReaderFor(config),
        config.eval.runs,
        (run, stat, text) =>
            evalRecordStatus(
                {
                    run,
                    source: sources[run.name],
                    recordUri: evalRecordUri(config.bucketName, config.bucket.prefix, run.name),
                    idOf: (checkpoint) => evalRunId(run, identity, config.wandb.mode, checkpoint),
                },
                stat,
                text,
            ),
    );
}

/**
 * The lifecycle output of an eval stack that declared its slice, once the update has given each run its id. As on
 * train, the next update reclaims the slice; but an eval run from a handoff manifest keeps the entry its `handoff`
 * step picked when it was created, so when the manifest has a newer one the next update would find no record for it
 * and keep the slice: then nothing is pending, and the note says how to evaluate the newer hand-off.
 */
export function evalLifecycleOutput(
    policy: ReclaimPolicy,
    plan: ReclaimPlan,
    statuses: EvalRunStatuses,
    liveIds: Readonly<Record<string, string>>,
): LifecycleOutput {
    const base = lifecycleOutput(policy, plan);
    const unread = typeof (statuses as { error?: unknown }).error === "string";
    if (plan.slice === "reclaimed" || policy === "keep" || unread) return base;
    const moved = Object.entries(liveIds).flatMap(([run, id]) => {
        const predicted = (statuses as Readonly<Record<string, EvalRecordStatus>>)[run]?.runId;
        return predicted !== undefined && predicted !== id ? [{ run, id, predicted }] : [];
    });
    if (moved.length === 0) return base;
    return {
        reclaim: policy,
        slice: "up",
        reclaimPending: false,
        note:
            moved
                .map(
                    (m) =>
                        `eval run ${m.run} evaluated ${m.id}, but its handoff manifest now has a newer entry (eval run id ${m.predicted}), not evaluated yet`,
                )
                .join("; ") +
            `: the slice stays up. To evaluate it, replace the run's handoff step (pulumi up --replace <urn of ${moved[0].run}-handoff>); or pulumi destroy`,
    };
}

/** The eval stack without its slice: every output from the records, in the shape of a live update. */
export function reclaimedEvalOutputs(
    config: EvalStackConfig,
    statuses: EvalRunStatuses,
    plan: ReclaimPlan,
    kept: ReturnType<typeof provisionReclaimedSlice>,
) {
    const entries = recordedEntries(
        config.eval.runs.map((r) => r.name),
        statuses as Readonly<Record<string, EvalRecordStatus>>,
        "eval run",
    );
    return {
        // The commits the eval host checked out.
        ...reclaimedSliceOutputs(config, kept, entries[0][1].commits),
        bucket: config.bucketName,
        evalRuns: Object.fromEntries(
            entries.map(([name, entry]) => [name, { ...recordedEvalOutputs(entry), recalled: true }]),
        ),
        cost: stackCost(
            config.shape.chips,
            config.tpu.provisioning,
            config.tpu.prices,
            entries.map(([, e]) => evalRunCost(config.shape.chips, e)),
        ),
        lifecycle: lifecycleOutput(config.tpu.reclaim, plan),
    };
}
