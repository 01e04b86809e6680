/**
 * The eval stack: a single-host slice in another zone, the checkpoints handed off by the train stack
 * (or named explicitly), and the eval runs one after another; its outputs are HR@K and NDCG@K per run. Each
 * run that passes its cross-check is recorded in the bucket; with `tpu.reclaim: after-eval`, once every eval run is
 * recorded the stack declares no slice and its outputs come from the records (components/lifecycle/reclaimedEval.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { EvalStackConfig } from "./config/loadConfig";
import { StackSecrets } from "./config/readStackConfig";
import { CheckpointRef, gcsUri } from "./checkpointRef";
import { CheckpointCatalog, matchEvalCheckpoints, readTrainStackCheckpoints } from "./evalCheckpoints";
import { MANIFEST_FILE } from "./lifecycle/manifest";
import { EvalRun } from "./evalRun";
import { evalRunCost, stackCost } from "./lifecycle/stackCost";
import { bucketOfUri } from "./gcp/readiness";
import { evalBucketGrants } from "./gcp/bucketGrants";
import {
    provisionProjectServices,
    provisionReclaimedSlice,
    provisionSlice,
    bucketReaderFor,
    sliceIdentity,
    sliceOutputs,
    storageEnvFor,
} from "./slice";
import { reclaimPlan } from "./lifecycle/reclaim";
import { evalLifecycleOutput, evalRunStatuses, reclaimedEvalOutputs } from "./lifecycle/reclaimedEval";

export async function evalStack(config: EvalStackConfig, secrets: StackSecrets) {
    // loadConfig guarantees the eval section and a single-host accelerator for role eval.
    const evalConfig = config.eval;
    // With neither a train stack nor explicit checkpoints, the checkpoints come from the train runs' handoff
    // manifests, which a step on the eval host reads: the train slice may be gone by then.
    const handoff =
        evalConfig.trainStack === undefined && evalConfig.checkpoints === undefined
            ? {
                  bucket: evalConfig.handoff?.bucket ?? config.bucketName,
                  prefix: evalConfig.handoff?.prefix ?? config.bucket.prefix,
              }
            : undefined;
    // Otherwise resolved before any resource exists, so a missing run or checkpoint kind creates nothing.
    const catalog: CheckpointCatalog = evalConfig.trainStack
        ? await readTrainStackCheckpoints(evalConfig.trainStack)
        : (evalConfig.checkpoints ?? {});
    const checkpoints: Record<string, CheckpointRef | { handoffUri: string }> = handoff
        ? Object.fromEntries(
              evalConfig.runs.map((run) => [
                  run.name,
                  { handoffUri: gcsUri(handoff.bucket, handoff.prefix, run.trainRun, MANIFEST_FILE) },
              ]),
          )
        : matchEvalCheckpoints(
              evalConfig.runs,
              catalog,
              evalConfig.trainStack ? `train stack ${evalConfig.trainStack}` : "eval.checkpoints",
          );

    // Eval reads the checkpoints' buckets (the train stack's, or those of explicit URIs) and writes only
    // under <prefix>/eval/ of its artifact bucket; the grants are made from this stack, on those buckets.
    const needs = {
        services: provisionProjectServices(config),
        grants: evalBucketGrants({
            artifactBucket: config.bucketName,
            prefix: config.bucket.prefix,
            checkpointBuckets: handoff
                ? [handoff.bucket]
                : Object.values(checkpoints).map((c) => bucketOfUri((c as CheckpointRef).uri)),
        }),
    };
    const identity = sliceIdentity(config);
    // tpu.reclaim after-eval: when every eval run's id has a verified record, the slice is not declared (deleted).
    const statuses = await evalRunStatuses(config, identity, checkpoints);
    const plan = reclaimPlan(config.tpu.reclaim, statuses);
    if (plan.slice === "reclaimed") {
        pulumi.log.info(`slice ${config.vmName}: ${plan.reason}`);
        const kept = provisionReclaimedSlice(config, secrets, needs);
        return reclaimedEvalOutputs(config, statuses, plan, kept);
    }
    const slice = provisionSlice(config, secrets, needs);
    const commits = slice.bootstrap.results.apply((results) => ({
        mllmJax: results[0].mllmJaxCommit,
        miniOneRec: results[0].miniOneRecCommit,
    }));
    const runs: EvalRun[] = [];
    for (const run of evalConfig.runs) {
        const previous = runs[runs.length - 1];
        runs.push(
            new EvalRun(run.name, {
                run,
                connection: slice.connections[0],
                checkpoint: checkpoints[run.name],
                // One TPU: an eval run starts after the previous one has finished.
                after: [...slice.bootstrap.commands, ...(previous ? [previous.done] : [])],
                identity,
                env: { mode: config.env.mode, condaEnv: config.env.condaEnv },
                wandbMode: config.wandb.mode,
                bucketName: config.bucketName,
                prefix: config.bucket.prefix,
                timing: evalConfig,
                requireZeroInvalid: evalConfig.requireZeroInvalid,
                storageEnv: storageEnvFor(config),
                bucketReader: bucketReaderFor(config),
                commits,
                hold: {
                    chips: config.shape.chips,
                    upSince: slice.bootstrap.upSince,
                    previousEnd: previous?.finishedAt,
                },
            }),
        );
    }
    return {
        ...sliceOutputs(config, slice),
        bucket: config.bucketName,
        // Each run's outputs, and whether it was recalled from its record (evaluated by an earlier update).
        evalRuns: pulumi.output(
            Object.fromEntries(
                runs.map((r, i) => [
                    evalConfig.runs[i].name,
                    pulumi.all([r.outputs, r.recalled]).apply(([outputs, recalled]) => ({ ...outputs, recalled })),
                ]),
            ),
        ),
        cost: pulumi.all(runs.map((r) => r.outputs)).apply((outputs) =>
            stackCost(
                config.shape.chips,
                config.tpu.provisioning,
                config.tpu.prices,
                outputs.map((o) => evalRunCost(config.shape.chips, o)),
            ),
        ),
        lifecycle: pulumi
            .all(runs.map((r) => r.runId))
            .apply((ids) =>
                evalLifecycleOutput(
                    config.tpu.reclaim,
                    plan,
                    statuses,
                    Object.fromEntries(ids.map((id, i) => [evalConfig.runs[i].name, id])),
                ),
            ),
    };
}
