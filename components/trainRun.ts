/**
 * One training run on a (multi-host) slice, as dependent remote commands:
 * launch on every worker at once → wait on every worker → locate the checkpoints on every worker →
 * upload each requested checkpoint from the one worker that holds it, verified by size and crc32c.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { CheckpointRef, gcsUri } from "./checkpointRef";
import { chipHours } from "./lifecycle/cost";
import { MANIFEST_FILE } from "./lifecycle/manifest";
import { SliceHold, sliceHold } from "./lifecycle/sliceHold";
import { CheckpointKind, TrainRunConfig } from "./config/schema";
import { runId } from "./runIdentity";
import { pickCheckpointHolder } from "./steps/checkpointHolder";
import { launchCommand } from "./steps/launch";
import { locateCommand, locateResult } from "./steps/locate";
import { recordedLaunch, recordedLocate, recordedUpload, recordedWait } from "./lifecycle/recorded";
import { handoffRecallCommand, handoffRecallResult, handoffRecordCommand, handoffRecordResult } from "./steps/handoff";
import { parseStepResult } from "./steps/stepResult";
import { StorageEnv } from "./steps/stepScript";
import { uploadCommand, uploadResult } from "./steps/upload";
import { JobTiming, waitCommand, waitResult, wallSeconds } from "./steps/wait";

/** The steps a train run uses on the workers (WorkerBootstrap copies them). */
export const TRAIN_RUN_STEPS = ["launch", "wait", "locate", "upload", "handoff"] as const;

export interface TrainRunArgs {
    readonly run: TrainRunConfig;
    /** One connection per worker, in worker order. */
    readonly connections: readonly pulumi.Output<types.input.remote.ConnectionArgs>[];
    /** What must finish before this run may launch on each worker (its bootstrap, the previous run). */
    readonly after: readonly pulumi.Resource[];
    /** Everything else that defines the run (commits, env pins, slice); a change gives a new run id. */
    readonly identity: Readonly<Record<string, unknown>>;
    readonly env: { readonly mode: "conda" | "system-python"; readonly condaEnv: string };
    readonly bucketName: pulumi.Input<string>;
    /** Object prefix: checkpoints go to gs://<bucket>/<prefix>/<run>/<file>. */
    readonly prefix: string;
    readonly timing: JobTiming;
    readonly storageEnv: StorageEnv;
    /** What the handoff manifest records besides the run's own results. */
    readonly handoff: {
        /** The commits bootstrap checked out. */
        readonly commits: pulumi.Input<{ mllmJax: string; miniOneRec: string }>;
        readonly acceleratorType: string;
        /** Chips in the slice (what a run occupies, and what is billed). */
        readonly chips: number;
        /** When the slice came up (unix seconds); undefined when its workers did not say (state from before). */
        readonly upSince: pulumi.Input<number | undefined>;
        /** The previous run's end on this slice (unix seconds): this run's share of the slice starts after it. */
        readonly previousEnd?: pulumi.Input<number>;
    };
}

export class TrainRun extends pulumi.ComponentResource {
    public readonly runId: string;
    /** The wait command of every worker: the next run on this slice starts after them. */
    public readonly waits: remote.Command[];
    public readonly checkpoints: pulumi.Output<Partial<Record<CheckpointKind, CheckpointRef>>>;
    public readonly exitCodes: pulumi.Output<number[]>;
    public readonly process0Worker: pulumi.Output<number>;
    public readonly trainSeconds: pulumi.Output<number>;
    public readonly logUris: pulumi.Output<string[]>;
    /** gs://<bucket>/<prefix>/<run>/handoff.json, once this run is recorded there. */
    public readonly handoffUri: pulumi.Output<string>;
    /** True when the run was already complete in the bucket, so this update ran no job for it. */
    public readonly recalled: pulumi.Output<boolean>;
    /** Chip-hours the run's job took on the slice. */
    public readonly chipHours: pulumi.Output<number>;
    /** The last worker's exit (unix seconds). */
    public readonly finishedAt: pulumi.Output<number>;
    /** The run's share of the slice's uptime (as recorded, for a recalled run); undefined when unmeasured. */
    public readonly slice: pulumi.Output<SliceHold | undefined>;

    constructor(name: string, args: TrainRunArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:steps:TrainRun", name, {}, opts);
        const { run } = args;
        this.runId = runId(run, args.identity);
        const job = {
            runId: this.runId,
            config: run.config,
            mode: args.env.mode,
            condaEnv: args.env.condaEnv,
            jobMode: "train" as const,
            processCount: args.connections.length,
        };
        const handoffUri = pulumi
            .output(args.bucketName)
            .apply((bucket) => gcsUri(bucket, args.prefix, run.name, MANIFEST_FILE));
        // Is this run id already complete in the bucket? Then every step below only returns the recorded values.
        const recall = new remote.Command(
            `${name}-recall`,
            {
                connection: args.connections[0],
                create: handoffUri.apply((uri) =>
                    handoffRecallCommand({ uri, runId: this.runId, storageEnv: args.storageEnv }),
                ),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [...args.after] },
        );
        const recalled = recall.stdout.apply((out) => {
            const r = parseStepResult(`${name} recall`, out, handoffRecallResult);
            return r.state === "complete" ? r.entry : undefined;
        });
        this.recalled = recalled.apply((entry) => entry !== undefined);
        const logUriOf = (bucket: string, worker: number) =>
            gcsUri(bucket, args.prefix, run.name, "logs", `${this.runId}-w${worker}.log`);
        const launches = args.connections.map(
            (connection, worker) =>
                new remote.Command(
                    `${name}-launch-w${worker}`,
                    {
                        connection,
                        create: recalled.apply((entry) => (entry ? recordedLaunch(entry) : launchCommand(job))),
                        addPreviousOutputInEnv: false,
                    },
                    // No dependency between the workers' launches: multi-host JAX needs all of them to start together.
                    { parent: this, dependsOn: [...args.after] },
                ),
        );
        this.waits = args.connections.map(
            (connection, worker) =>
                new remote.Command(
                    `${name}-wait-w${worker}`,
                    {
                        connection,
                        create: pulumi.all([args.bucketName, recalled]).apply(([bucket, entry]) =>
                            entry
                                ? recordedWait(entry, worker, logUriOf(bucket, worker))
                                : waitCommand({
                                      ...job,
                                      timing: args.timing,
                                      logUri: logUriOf(bucket, worker),
                                      storageEnv: args.storageEnv,
                                      // One slice, one fate: a failing worker's wait tells the others through the bucket.
                                      slice: {
                                          worker,
                                          signalUri: `${gcsUri(bucket, args.prefix, run.name, "attempts", this.runId)}/`,
                                      },
                                  }),
                        ),
                        addPreviousOutputInEnv: false,
                    },
                    { parent: this, dependsOn: [launches[worker]] },
                ),
        );
        const waitResults = pulumi.all(
            this.waits.map((w, worker) =>
                w.stdout.apply((out) => parseStepResult(`${name} wait on worker ${worker}`, out, waitResult)),
            ),
        );

        const locates = args.connections.map(
            (connection, worker) =>
                new remote.Command(
                    `${name}-locate-w${worker}`,
                    {
                        connection,
                        create: recalled.apply((entry) =>
                            entry
                                ? recordedLocate(entry, worker, run.checkpoints)
                                : locateCommand({
                                      runId: this.runId,
                                      outputDir: run.outputDir,
                                      kinds: run.checkpoints,
                                      storageEnv: args.storageEnv,
                                  }),
                        ),
                        addPreviousOutputInEnv: false,
                    },
                    // Process 0 writes its last checkpoint at the very end, so locate after every worker is done.
                    { parent: this, dependsOn: this.waits },
                ),
        );
        const holder = pulumi
            .all(
                locates.map((l, worker) =>
                    l.stdout.apply((out) => parseStepResult(`${name} locate on worker ${worker}`, out, locateResult)),
                ),
            )
            .apply((reports) => pickCheckpointHolder(run.name, run.checkpoints, reports));

        const uploads = run.checkpoints.map((kind) => {
            const file = holder.apply((h) => {
                const found = h.files[kind];
                if (!found) throw new Error(`run ${run.name}: the ${kind} checkpoint vanished from worker ${h.worker}`);
                return found;
            });
            const upload = new remote.Command(
                `${name}-upload-${kind}`,
                {
                    connection: pulumi
                        .all([holder, pulumi.all([...args.connections])])
                        .apply(([h, connections]) => connections[h.worker]),
                    create: pulumi.all([file, args.bucketName, recalled]).apply(([f, bucket, entry]) =>
                        entry
                            ? recordedUpload(entry, kind)
                            : uploadCommand({
                                  file: f.path,
                                  destUri: gcsUri(bucket, args.prefix, run.name, `sft_state_${kind}.msgpack`),
                                  size: f.size,
                                  crc32c: f.crc32c,
                                  storageEnv: args.storageEnv,
                              }),
                    ),
                    addPreviousOutputInEnv: false,
                },
                { parent: this, dependsOn: locates },
            );
            return {
                kind,
                command: upload,
                result: upload.stdout.apply((out) => parseStepResult(`${name} upload ${kind}`, out, uploadResult)),
            };
        });

        this.checkpoints = pulumi
            .all(uploads.map((u) => u.result))
            .apply((results) =>
                Object.fromEntries(
                    results.map((r, i) => [uploads[i].kind, { uri: r.uri, size: r.size, crc32c: r.crc32c }]),
                ),
            );
        // The manifest entry, written on the checkpoints' worker once every upload is verified.
        const span = waitResults.apply((results) => ({
            startedAt: Math.min(...results.map((r) => r.startedAt)),
            finishedAt: Math.max(...results.map((r) => r.finishedAt)),
        }));
        this.chipHours = span.apply((s) => chipHours(args.handoff.chips, s.startedAt, s.finishedAt));
        this.finishedAt = span.apply((s) => s.finishedAt);
        this.slice = pulumi
            .all([recalled, span, args.handoff.upSince, args.handoff.previousEnd])
            .apply(([entry, s, upSince, previousEnd]) => {
                // A recalled run ran on an earlier slice: its share is the one recorded then.
                if (entry) return entry.slice;
                if (upSince === undefined) return undefined;
                return sliceHold({ chips: args.handoff.chips, upSince, previousEnd, ...s });
            });
        const record = new remote.Command(
            `${name}-handoff`,
            {
                connection: pulumi
                    .all([holder, pulumi.all([...args.connections])])
                    .apply(([h, connections]) => connections[h.worker]),
                create: pulumi
                    .all([
                        handoffUri,
                        args.handoff.commits,
                        this.checkpoints,
                        waitResults,
                        holder,
                        span,
                        this.chipHours,
                        this.slice,
                    ])
                    .apply(([uri, commits, checkpoints, results, h, s, hours, hold]) =>
                        handoffRecordCommand({
                            uri,
                            entry: {
                                run: run.name,
                                runId: this.runId,
                                commits: { mllmJax: commits.mllmJax, miniOneRec: commits.miniOneRec },
                                config: run.config,
                                checkpoints,
                                exitCodes: results.map((r) => r.exitCode),
                                process0Worker: h.worker,
                                acceleratorType: args.handoff.acceleratorType,
                                chips: args.handoff.chips,
                                startedAt: s.startedAt,
                                finishedAt: s.finishedAt,
                                chipHours: hours,
                                ...(hold ? { slice: hold } : {}),
                            },
                            storageEnv: args.storageEnv,
                        }),
                    ),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: uploads.map((u) => u.command) },
        );
        this.handoffUri = record.stdout.apply(
            (out) => parseStepResult(`${name} handoff`, out, handoffRecordResult).uri,
        );
        this.exitCodes = waitResults.apply((results) => results.map((r) => r.exitCode));
        this.process0Worker = holder.apply((h) => h.worker);
        this.trainSeconds = waitResults.apply(wallSeconds);
        this.logUris = waitResults.apply((results) => results.map((r) => r.logUri));
        this.registerOutputs({
            runId: this.runId,
            checkpoints: this.checkpoints,
            exitCodes: this.exitCodes,
            process0Worker: this.process0Worker,
            trainSeconds: this.trainSeconds,
            logUris: this.logUris,
            handoffUri: this.handoffUri,
            chipHours: this.chipHours,
            slice: this.slice,
            recalled: this.recalled,
        });
    }
}
