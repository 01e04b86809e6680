/**
 * One eval run on a single-host slice: download the handed-off checkpoint (verified) → eval, detached and
 * polled → report (W&B URL, evaluator metrics) → calc.py on the host → upload the artifacts → cross-check
 * the three metric computations → record the run in its eval record. Its outputs are the metrics, only when all
 * three agree. A run id already complete in its record (the recall step) runs none of this again.
 */
import * as pulumi from "@pulumi/pulumi";
import { local, remote, types } from "@pulumi/command";
import { CheckpointRef, gcsUri } from "./checkpointRef";
import { EvalRunConfig } from "./config/schema";
import { BucketReaderOptions } from "./metrics/bucketReader";
import { runId } from "./runIdentity";
import { artifactsCommand, artifactsResult } from "./steps/artifacts";
import { calcCommand, calcResult } from "./steps/calc";
import { crossCheckResult, crossCheckStep } from "./steps/crossCheck";
import { evalRecallCommand, evalRecallResult, evalRecordCommand, evalRecordResult } from "./steps/evalrecord";
import { recordedEvalOutputs, recordedEvalStep } from "./lifecycle/recordedEval";
import { evalRecordUri } from "./lifecycle/evalRecord";
import { downloadCommand, downloadResult } from "./steps/download";
import { evalReportCommand, evalReportResult } from "./steps/evalreport";
import { launchCommand } from "./steps/launch";
import { handoffLatestCommand, handoffLatestResult } from "./steps/handoff";
import { parseStepResult } from "./steps/stepResult";
import { StorageEnv } from "./steps/stepScript";
import { JobTiming, waitCommand, waitResult, wallSeconds } from "./steps/wait";
import { SliceHold, sliceHold } from "./lifecycle/sliceHold";

/** The steps an eval run uses on its host (WorkerBootstrap copies them). */
export const EVAL_RUN_STEPS = [
    "handoff",
    "download",
    "launch",
    "wait",
    "evalreport",
    "calc",
    "artifacts",
    "evalrecord",
] as const;

/**
 * The eval run's id: the run's config, everything else that defines it (commits, env pins, slice) and the checkpoint
 * it evaluates. The stack computes it at program time too, when the checkpoint is known then (tpu.reclaim after-eval).
 */
export function evalRunId(
    run: EvalRunConfig,
    identity: Readonly<Record<string, unknown>>,
    wandbMode: "online" | "offline" | "disabled",
    checkpoint: CheckpointRef,
): string {
    return runId(
        { name: run.name, config: run.config, outputDir: run.outputDir, checkpoints: [run.checkpoint] },
        { ...identity, checkpoint, itemFile: run.itemFile, wandb: wandbMode },
    );
}

export interface EvalRunArgs {
    readonly run: EvalRunConfig;
    /** The single host's connection. */
    readonly connection: pulumi.Output<types.input.remote.ConnectionArgs>;
    /**
     * Known when the program starts (train stack outputs, explicit URIs), or the train run's handoff manifest,
     * which a step on the eval host reads (the newest verified entry with this run's checkpoint kind).
     */
    readonly checkpoint: pulumi.Input<CheckpointRef> | { readonly handoffUri: string };
    /** What must finish first (bootstrap, the previous eval run: they share the TPU). */
    readonly after: readonly pulumi.Resource[];
    /** Everything else that defines the run (commits, env pins, slice). */
    readonly identity: Readonly<Record<string, unknown>>;
    readonly env: { readonly mode: "conda" | "system-python"; readonly condaEnv: string };
    readonly wandbMode: "online" | "offline" | "disabled";
    readonly bucketName: string;
    /** Artifacts go to gs://<bucket>/<prefix>/eval/<run>/. */
    readonly prefix: string;
    readonly timing: JobTiming;
    readonly requireZeroInvalid: boolean;
    readonly storageEnv: StorageEnv;
    /** How this program reads the bucket (the emulator on the local target). */
    readonly bucketReader: BucketReaderOptions;
    /** The commits the host checked out (bootstrap's), recorded with the run. */
    readonly commits: pulumi.Input<{ readonly mllmJax: string; readonly miniOneRec: string }>;
    /** How the run's share of the slice is measured (lifecycle/sliceHold.ts). */
    readonly hold: {
        /** Chips in the slice. */
        readonly chips: number;
        /** When the slice came up (unix seconds); undefined when its host did not say (state from before). */
        readonly upSince: pulumi.Input<number | undefined>;
        /** The previous eval run's end on this slice (unix seconds). */
        readonly previousEnd?: pulumi.Input<number>;
    };
}

export interface EvalRunOutputs {
    readonly n: number;
    readonly invalid: number;
    readonly k: number[];
    readonly hr: Record<string, number>;
    readonly ndcg: Record<string, number>;
    readonly wandbUrl: string;
    readonly checkpoint: CheckpointRef;
    readonly artifacts: Record<string, string>;
    readonly agreement: { agree: true; maxAbsDiff: number; sources: string[]; table: string };
    readonly evalSeconds: number;
    /** The run's share of the slice's uptime; absent when unmeasured. */
    readonly slice?: SliceHold;
}

export class EvalRun extends pulumi.ComponentResource {
    public readonly runId: pulumi.Output<string>;
    /** The run's last step on the TPU (its artifacts' upload); the next eval run starts after it. */
    public readonly done: remote.Command;
    public readonly outputs: pulumi.Output<EvalRunOutputs>;
    /** gs://<bucket>/<prefix>/eval/<run>/result.json, once this run is recorded there. */
    public readonly recordUri: pulumi.Output<string>;
    /** The eval job's end (unix seconds): the next eval run's share of the slice starts after it. */
    public readonly finishedAt: pulumi.Output<number>;
    /** True when the run was already complete in its eval record, so this update evaluated nothing for it. */
    public readonly recalled: pulumi.Output<boolean>;

    constructor(name: string, args: EvalRunArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:steps:EvalRun", name, {}, opts);
        const { run, connection } = args;
        // The checkpoint's identity is part of the run's: a new checkpoint re-runs download, eval and cross-check.
        const source = args.checkpoint;
        let checkpoint: pulumi.Output<CheckpointRef>;
        if (typeof source === "object" && "handoffUri" in source) {
            const pick = new remote.Command(
                `${name}-handoff`,
                {
                    connection,
                    create: handoffLatestCommand({
                        uri: source.handoffUri,
                        kind: run.checkpoint,
                        storageEnv: args.storageEnv,
                    }),
                    addPreviousOutputInEnv: false,
                },
                { parent: this, dependsOn: [...args.after] },
            );
            checkpoint = pick.stdout.apply((out) => {
                const { entry } = parseStepResult(`${name} handoff`, out, handoffLatestResult);
                const found = entry.checkpoints[run.checkpoint];
                if (!found)
                    throw new Error(
                        `eval run ${run.name}: the handoff entry ${entry.runId} has no ${run.checkpoint} checkpoint (a bug in the handoff step)`,
                    );
                return found;
            });
        } else {
            checkpoint = pulumi.output(source as pulumi.Input<CheckpointRef>);
        }
        this.runId = checkpoint.apply((cp) => evalRunId(run, args.identity, args.wandbMode, cp));
        // Is this eval run id already complete in its record? Then every step below only says so, and the outputs
        // are the record's. The recall runs when the run id or the host changes (a new slice), not on every update.
        const recordUri = evalRecordUri(args.bucketName, args.prefix, run.name);
        const recall = new remote.Command(
            `${name}-recall`,
            {
                connection,
                create: this.runId.apply((id) =>
                    evalRecallCommand({ uri: recordUri, run: run.name, runId: id, storageEnv: args.storageEnv }),
                ),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [...args.after] },
        );
        const recalled = recall.stdout.apply((out) => {
            const r = parseStepResult(`${name} recall`, out, evalRecallResult);
            return r.state === "complete" ? r.entry : undefined;
        });
        this.recalled = recalled.apply((entry) => entry !== undefined);
        // Each step's time limit is enforced on the host (lib.sh); the provider enforces none.
        const unlessRecalled = (step: string, create: pulumi.Input<string>) =>
            pulumi.all([recalled, create]).apply(([entry, real]) => (entry ? recordedEvalStep(step, entry) : real));
        const command = (step: string, create: pulumi.Input<string>, dependsOn: pulumi.Resource[]) =>
            new remote.Command(
                `${name}-${step}`,
                { connection, create: unlessRecalled(step, create), addPreviousOutputInEnv: false },
                { parent: this, dependsOn },
            );

        const download = command(
            "download",
            checkpoint.apply((cp) =>
                downloadCommand({
                    checkpoint: cp,
                    config: run.config,
                    kind: run.checkpoint,
                    storageEnv: args.storageEnv,
                }),
            ),
            [...args.after],
        );
        const job = (id: string) => ({
            runId: id,
            config: run.config,
            mode: args.env.mode,
            condaEnv: args.env.condaEnv,
            jobMode: "eval" as const,
            processCount: 1,
        });
        const launch = command(
            "eval-launch",
            this.runId.apply((id) => launchCommand(job(id))),
            [download],
        );
        const wait = new remote.Command(
            `${name}-eval-wait`,
            {
                connection,
                // The eval log goes to the bucket with the other artifacts.
                create: unlessRecalled(
                    "eval-wait",
                    this.runId.apply((id) =>
                        waitCommand({
                            ...job(id),
                            timing: args.timing,
                            logUri: "",
                            storageEnv: args.storageEnv,
                            requireWandb: args.wandbMode === "online",
                        }),
                    ),
                ),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [launch] },
        );
        const report = command(
            "eval-report",
            this.runId.apply((id) =>
                evalReportCommand({ runId: id, outputDir: run.outputDir, wandbMode: args.wandbMode }),
            ),
            [wait],
        );
        const calc = command(
            "calc",
            this.runId.apply((id) =>
                calcCommand({
                    runId: id,
                    outputDir: run.outputDir,
                    itemFile: run.itemFile,
                    mode: args.env.mode,
                    condaEnv: args.env.condaEnv,
                }),
            ),
            [wait],
        );
        const artifacts = command(
            "artifacts",
            this.runId.apply((id) =>
                artifactsCommand({
                    runId: id,
                    outputDir: run.outputDir,
                    itemFile: run.itemFile,
                    destPrefix: gcsUri(args.bucketName, args.prefix, "eval", run.name),
                    storageEnv: args.storageEnv,
                }),
            ),
            [report, calc],
        );
        this.done = artifacts;

        // A recalled run's steps print no results: only a live run's are read.
        const parsed = pulumi
            .all([recalled, download.stdout, wait.stdout, report.stdout, calc.stdout, artifacts.stdout, checkpoint])
            .apply(([entry, d, w, r, c, a, cp]) =>
                entry
                    ? undefined
                    : {
                          checkpoint: cp,
                          download: parseStepResult(`${name} download`, d, downloadResult),
                          wait: parseStepResult(`${name} eval wait`, w, waitResult),
                          report: parseStepResult(`${name} eval report`, r, evalReportResult),
                          calc: parseStepResult(`${name} calc`, c, calcResult),
                          artifacts: parseStepResult(`${name} artifacts`, a, artifactsResult),
                      },
            );
        // The TypeScript computation reads the stored predictions, so it runs as a step keyed by their crc32c.
        const step = parsed.apply((steps) =>
            steps === undefined
                ? undefined
                : crossCheckStep({
                      run: run.name,
                      predictions: steps.artifacts["eval_predictions.json"],
                      items: steps.artifacts["items.txt"],
                      calcTail: steps.calc.tail,
                      evaluatorMetrics: steps.report.metrics,
                      topk: [...run.topk],
                      requireZeroInvalid: args.requireZeroInvalid,
                      apiEndpoint: args.bucketReader.apiEndpoint,
                      projectId: args.bucketReader.projectId,
                  }),
        );
        const check = new local.Command(
            `${name}-cross-check`,
            {
                create: pulumi
                    .all([recalled, step])
                    .apply(([entry, s]) => (entry ? recordedEvalStep("cross-check", entry) : (s?.create ?? ""))),
                dir: step.apply((s) => s?.dir ?? "."),
                environment: step.apply((s) => s?.environment ?? {}),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [artifacts] },
        );
        // A recalled run ended on an earlier slice (its recorded share's end); it does not delay the next run's share.
        this.finishedAt = pulumi
            .all([recalled, parsed])
            .apply(([entry, steps]) => (steps ? steps.wait.finishedAt : (entry?.slice?.heldUntil ?? 0)));
        const agreedOutputs: pulumi.Output<EvalRunOutputs> = pulumi
            .all([recalled, parsed, check.stdout, args.hold.upSince, args.hold.previousEnd])
            .apply(([entry, steps, stdout, upSince, previousEnd]) => {
                if (entry) return recordedEvalOutputs(entry);
                if (!steps) throw new Error(`eval run ${run.name}: neither recalled nor run (a bug)`);
                const agreed = parseStepResult(`${name} cross-check`, stdout, crossCheckResult);
                const keyed = (values: readonly number[]) =>
                    Object.fromEntries(agreed.k.map((k, i) => [String(k), values[i]]));
                return {
                    n: agreed.n,
                    invalid: agreed.invalid,
                    k: agreed.k,
                    hr: keyed(agreed.hr),
                    ndcg: keyed(agreed.ndcg),
                    wandbUrl: steps.report.wandbUrl,
                    checkpoint: steps.checkpoint,
                    artifacts: Object.fromEntries(Object.entries(steps.artifacts).map(([file, a]) => [file, a.uri])),
                    agreement: {
                        agree: true as const,
                        maxAbsDiff: agreed.maxAbsDiff,
                        sources: agreed.sources,
                        table: agreed.table,
                    },
                    evalSeconds: wallSeconds([steps.wait]),
                    ...(upSince === undefined
                        ? {}
                        : {
                              slice: sliceHold({
                                  chips: args.hold.chips,
                                  upSince,
                                  previousEnd,
                                  startedAt: steps.wait.startedAt,
                                  finishedAt: steps.wait.finishedAt,
                              }),
                          }),
                };
            });
        // The record the eval stack rebuilds its outputs from once the slice is gone (tpu.reclaim after-eval). Its
        // command is made from the agreed outputs, so it exists only once the cross-check has passed. It runs on the
        // host rather than in the cross-check on the runner: the host's account is the one granted writes under
        // <prefix>/eval/ (the runner's credentials need only read the bucket), and, like the train side's handoff
        // step, it checks each artifact against the bucket with gcloud before recording it.
        const record = new remote.Command(
            `${name}-record`,
            {
                connection,
                create: pulumi
                    .all([recalled, agreedOutputs, parsed, this.runId, args.commits])
                    .apply(([entry, outputs, steps, id, commits]) =>
                        entry
                            ? recordedEvalStep("record", entry)
                            : evalRecordCommand({
                                  uri: recordUri,
                                  run: run.name,
                                  entry: {
                                      ...outputs,
                                      runId: id,
                                      commits: { mllmJax: commits.mllmJax, miniOneRec: commits.miniOneRec },
                                      // A live run's steps were read (parsed is undefined only when recalled).
                                      objects: steps?.artifacts ?? {},
                                  },
                                  storageEnv: args.storageEnv,
                              }),
                    ),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [check] },
        );
        this.recordUri = pulumi
            .all([recalled, record.stdout])
            .apply(([entry, out]) =>
                entry ? recordUri : parseStepResult(`${name} record`, out, evalRecordResult).uri,
            );
        // The run's outputs are given once they are recorded: what the stack outputs is what a later update without
        // the slice can give again.
        this.outputs = pulumi.all([agreedOutputs, this.recordUri]).apply(([outputs]) => outputs);
        this.registerOutputs({
            runId: this.runId,
            outputs: this.outputs,
            recordUri: this.recordUri,
            recalled: this.recalled,
        });
    }
}
