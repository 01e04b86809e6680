/**
 * The handoff manifest: one small versioned JSON document per train run, at
 * gs://<bucket>/<prefix>/<run>/handoff.json, next to the run's checkpoints. Each entry records one run id whose
 * checkpoints were uploaded and verified (size and crc32c); an entry whose objects still match is a finished run:
 * it is not trained again, and the eval stack can take its checkpoints from it after the train slice is gone.
 * The handoff step (scripts/remote/handoff.sh) writes and reads it on a host; the program reads it only to decide
 * tpu.reclaim (handoffStatus.ts). This schema is the contract for both sides.
 */
import { z } from "zod";
import { parseBucketDocument } from "./bucketDocument";
import { checkpointRefSchema } from "../checkpointRef";
import { RUN_ID_PATTERN } from "../runIdentity";
import { sliceHoldSchema } from "./sliceHold";

export const MANIFEST_SCHEMA_VERSION = 1;

/** The manifest's object name under the run's folder. */
export const MANIFEST_FILE = "handoff.json";

const unixSeconds = z.number().int().nonnegative();

/** What the program knows about a run once its uploads are verified; the step adds `recordedAt`. */
export const manifestEntryInput = z.strictObject({
    run: z.string().min(1),
    runId: z.string().regex(RUN_ID_PATTERN, "must be a run id such as office-0123456789ab"),
    commits: z.strictObject({ mllmJax: z.string().min(1), miniOneRec: z.string().min(1) }),
    /** The train YAML, relative to the MLLM-JAX checkout. */
    config: z.string().min(1),
    checkpoints: z.strictObject({ best: checkpointRefSchema.optional(), last: checkpointRefSchema.optional() }),
    /** Per worker, in worker order (every one 0: a failed run is never recorded). */
    exitCodes: z.array(z.number().int()).min(1),
    process0Worker: z.number().int().nonnegative(),
    acceleratorType: z.string().min(1),
    chips: z.number().int().positive(),
    /** First worker's start and last worker's exit (unix seconds). */
    startedAt: unixSeconds,
    finishedAt: unixSeconds,
    /** chips × (finishedAt − startedAt) / 3600: the chip-hours the run's work took. */
    chipHours: z.number().nonnegative(),
    /** The run's share of its slice's uptime (absent in entries recorded before it was measured). */
    slice: sliceHoldSchema.optional(),
});
export type ManifestEntryInput = z.infer<typeof manifestEntryInput>;

export const manifestEntry = manifestEntryInput.extend({ recordedAt: z.string().min(1) });
export type ManifestEntry = z.infer<typeof manifestEntry>;

export const manifestSchema = z.strictObject({
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    run: z.string().min(1),
    /** run id → entry; a changed run (new commits, config, …) gets a new id and an entry of its own. */
    entries: z.record(z.string(), manifestEntry),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** `manifest` with `entry` recorded under its run id (replacing an older entry of the same id). */
export function recordEntry(manifest: Manifest | undefined, entry: ManifestEntry): Manifest {
    if (manifest && manifest.run !== entry.run) {
        throw new Error(
            `the manifest is for run ${manifest.run}, not ${entry.run}: each run has its own handoff.json under its own folder`,
        );
    }
    return {
        schemaVersion: MANIFEST_SCHEMA_VERSION,
        run: entry.run,
        entries: { ...(manifest?.entries ?? {}), [entry.runId]: entry },
    };
}

/** A manifest read from the bucket, checked; the error names the object and what is wrong. */
export function parseManifest(uri: string, text: string): Manifest {
    return parseBucketDocument(uri, text, manifestSchema, "a handoff manifest");
}

/**
 * The entry the `handoff` step's `latest` mode picks (scripts/remote/handoff.sh): among the entries that have a
 * `kind` checkpoint, the most recently recorded (ties: the later finish, then the first in the document), or
 * undefined when none has one. The eval stack makes the same pick at program time to know its run ids.
 */
export function latestEntry(manifest: Manifest, kind: "best" | "last"): ManifestEntry | undefined {
    let best: ManifestEntry | undefined;
    for (const entry of Object.values(manifest.entries)) {
        if (!entry.checkpoints[kind]) continue;
        if (
            !best ||
            entry.recordedAt > best.recordedAt ||
            (entry.recordedAt === best.recordedAt && entry.finishedAt > best.finishedAt)
        ) {
            best = entry;
        }
    }
    return best;
}
