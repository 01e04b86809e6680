/**
 * The train stack: a (multi-host) slice, the artifact bucket, and the runs one after another; its
 * outputs are the checkpoint URIs the eval stack consumes.
 */
import * as pulumi from "@pulumi/pulumi";
import { ArtifactBucket } from "./artifactBucket";
import { TrainStackConfig } from "./config/loadConfig";
import { StackSecrets } from "./config/readStackConfig";
import { trainBucketGrants } from "./gcp/bucketGrants";
import {
    provisionProjectServices,
    provisionReclaimedSlice,
    provisionSlice,
    sliceIdentity,
    sliceOutputs,
    storageEnvFor,
} from "./slice";
import { stackCost } from "./lifecycle/stackCost";
import { TrainRun } from "./trainRun";
import { lifecycleOutput, reclaimPlan } from "./lifecycle/reclaim";
import { reclaimedTrainOutputs, trainRunStatuses } from "./lifecycle/reclaimedTrain";

export async function trainStack(config: TrainStackConfig, secrets: StackSecrets) {
    const services = provisionProjectServices(config);
    const bucket = new ArtifactBucket(
        "artifacts",
        {
            project: config.gcpProject,
            bucketName: config.bucketName,
            create: config.bucket.create && config.target === "gcp",
            adopt: config.bucket.adopt,
            location: config.bucketLocation,
            noncurrentVersionDays: config.bucket.noncurrentVersionDays,
            labels: config.tpu.labels,
        },
        { dependsOn: services ? [services] : [] },
    );
    // Train writes checkpoints and logs to its bucket; the grants wait for the bucket to exist.
    const needs = { services, grants: trainBucketGrants(config.bucketName), grantsAfter: [bucket] };
    const identity = sliceIdentity(config);
    const trainRuns = config.train.runs;
    const statuses = await trainRunStatuses(config, identity);
    const plan = reclaimPlan(config.tpu.reclaim, statuses);
    if (plan.slice === "reclaimed") {
        pulumi.log.info(`slice ${config.vmName}: ${plan.reason}`);
        const kept = provisionReclaimedSlice(config, secrets, needs);
        return reclaimedTrainOutputs(config, statuses, plan, kept, bucket.bucketName);
    }
    const slice = provisionSlice(config, secrets, needs);
    const runs: TrainRun[] = [];
    for (const run of trainRuns) {
        const previous = runs[runs.length - 1];
        runs.push(
            new TrainRun(run.name, {
                run,
                connections: slice.connections,
                // Runs share the TPUs, so a run starts only after the previous one has finished everywhere.
                after: [...slice.bootstrap.commands, ...(previous ? previous.waits : [])],
                identity,
                env: { mode: config.env.mode, condaEnv: config.env.condaEnv },
                bucketName: bucket.bucketName,
                prefix: config.bucket.prefix,
                timing: config.train,
                storageEnv: storageEnvFor(config),
                handoff: {
                    commits: slice.bootstrap.results.apply((results) => ({
                        mllmJax: results[0].mllmJaxCommit,
                        miniOneRec: results[0].miniOneRecCommit,
                    })),
                    acceleratorType: config.tpu.acceleratorType,
                    chips: config.shape.chips,
                    upSince: slice.bootstrap.upSince,
                    previousEnd: previous?.finishedAt,
                },
            }),
        );
    }
    return {
        ...sliceOutputs(config, slice),
        lifecycle: lifecycleOutput(config.tpu.reclaim, plan),
        bucket: bucket.bucketName,
        cost: pulumi.all(runs.map((r) => pulumi.all([r.chipHours, r.slice]))).apply((measured) =>
            stackCost(
                config.shape.chips,
                config.tpu.provisioning,
                config.tpu.prices,
                measured.map(([chipHours, slice]) => ({ chipHours, slice })),
            ),
        ),
        runs: pulumi.output(
            Object.fromEntries(
                runs.map((r, i) => [
                    trainRuns[i].name,
                    {
                        runId: r.runId,
                        outputDir: trainRuns[i].outputDir,
                        checkpoints: r.checkpoints,
                        exitCodes: r.exitCodes,
                        process0Worker: r.process0Worker,
                        trainSeconds: r.trainSeconds,
                        logUris: r.logUris,
                        handoffUri: r.handoffUri,
                        chipHours: r.chipHours,
                        slice: r.slice,
                        recalled: r.recalled,
                    },
                ]),
            ),
        ),
    };
}
