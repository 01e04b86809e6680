/**
 * Reads the handoff manifests while the program runs, to decide whether a stack still needs its slice: a run whose
 * id has a verified entry (every recorded checkpoint object still has its size and crc32c) needs no TPU again. This
 * is the same test the handoff step makes on a host (scripts/remote/handoff.sh, MODE=recall), made here with
 * @google-cloud/storage so that it works when the slice is gone. On the local target the client talks to the
 * emulator; on GCP it uses application-default credentials (those the Google provider uses).
 */
import type { Storage as StorageClient } from "@google-cloud/storage";
import { CheckpointKind } from "../config/schema";
import { BucketReaderOptions, parseGcsUri } from "../metrics/bucketReader";
import { ManifestEntry, parseManifest } from "./manifest";

/** One run to look up: its manifest, the id it must have an entry for, and the checkpoints that entry must hold. */
export interface HandoffLookup {
    readonly run: string;
    readonly runId: string;
    readonly manifestUri: string;
    readonly kinds: readonly CheckpointKind[];
}

export type HandoffStatus =
    | { readonly state: "complete"; readonly entry: ManifestEntry; readonly reason: string }
    | { readonly state: "absent" | "stale"; readonly reason: string };

/** What the bucket says of an object: its size and crc32c, or undefined when there is no such object. */
export type ObjectStat = (uri: string) => Promise<{ size: number; crc32c: string } | undefined>;
/** The object's text, or undefined when there is no such object. */
export type ObjectText = (uri: string) => Promise<string | undefined>;

/**
 * How a recorded object differs from the bucket now ("recorded size … crc32c …, the bucket has …"), or undefined
 * when its size and crc32c still match.
 */
export async function objectMismatch(
    stat: ObjectStat,
    ref: { readonly uri: string; readonly size: number; readonly crc32c: string },
): Promise<string | undefined> {
    const found = await stat(ref.uri);
    if (found && found.size === ref.size && found.crc32c === ref.crc32c) return undefined;
    const has = found ? `size ${found.size} crc32c ${found.crc32c}` : "no such object";
    return `recorded size ${ref.size} crc32c ${ref.crc32c}, the bucket has ${has}`;
}

/** The status of one run, from the bucket behind `stat` and `text` (pure apart from them, so it is unit-tested). */
export async function handoffStatus(lookup: HandoffLookup, stat: ObjectStat, text: ObjectText): Promise<HandoffStatus> {
    const body = await text(lookup.manifestUri);
    if (body === undefined) return { state: "absent", reason: `no manifest at ${lookup.manifestUri}` };
    const entry = parseManifest(lookup.manifestUri, body).entries[lookup.runId];
    if (!entry) return { state: "absent", reason: `${lookup.manifestUri} has no entry for run id ${lookup.runId}` };
    for (const kind of lookup.kinds) {
        const ref = entry.checkpoints[kind];
        if (!ref) return { state: "stale", reason: `the entry for ${lookup.runId} has no ${kind} checkpoint` };
        const mismatch = await objectMismatch(stat, ref);
        if (mismatch) return { state: "stale", reason: `${kind} checkpoint ${ref.uri}: ${mismatch}` };
    }
    return { state: "complete", entry, reason: `${lookup.runId} recorded ${entry.recordedAt}, checkpoints verified` };
}

/**
 * Each run's status in the bucket behind `reader` (statusOf looks one up), or the first line of the error that kept
 * them from being read; nothing is read when `reader` is undefined (a stack that keeps its slice needs no status).
 */
export async function runStatuses<R extends { readonly name: string }, S>(
    reader: BucketReaderOptions | undefined,
    runs: readonly R[],
    statusOf: (run: R, stat: ObjectStat, text: ObjectText) => Promise<S>,
): Promise<Readonly<Record<string, S>> | { readonly error: string }> {
    if (reader === undefined) return {};
    try {
        const { stat, text } = await bucketObjects(reader);
        const statuses: Record<string, S> = {};
        for (const run of runs) statuses[run.name] = await statusOf(run, stat, text);
        return statuses;
    } catch (err) {
        return { error: (err as Error).message.split("\n")[0] };
    }
}

/** `stat` and `text` on a real bucket (or the emulator). */
export async function bucketObjects(options: BucketReaderOptions): Promise<{ stat: ObjectStat; text: ObjectText }> {
    const { Storage } = (await import("@google-cloud/storage")) as { Storage: typeof StorageClient };
    const storage = new Storage(
        options.apiEndpoint
            ? { apiEndpoint: options.apiEndpoint, projectId: options.projectId }
            : { projectId: options.projectId },
    );
    const file = (uri: string) => {
        const { bucket, object } = parseGcsUri(uri);
        return storage.bucket(bucket).file(object);
    };
    const missing = (err: unknown) => (err as { code?: number }).code === 404;
    return {
        stat: async (uri) => {
            try {
                const [meta] = await file(uri).getMetadata();
                return { size: Number(meta.size), crc32c: String(meta.crc32c) };
            } catch (err) {
                if (missing(err)) return undefined;
                throw err;
            }
        },
        text: async (uri) => {
            try {
                const [contents] = await file(uri).download();
                return contents.toString("utf8");
            } catch (err) {
                if (missing(err)) return undefined;
                throw err;
            }
        },
    };
}
