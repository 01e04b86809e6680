// Puts a verified handoff manifest entry into the in-memory bucket (fakeStorage): the checkpoint object with the
// given bytes, and the entry merged into its run's manifest, as the handoff step would leave them.
import { crc32cBase64, objects } from "./fakeStorage";

export interface SeedHandoff {
    readonly bucket: string;
    readonly run: string;
    readonly runId: string;
    readonly kind: string;
    readonly content: string;
    /** The checkpoint object; by default gs://<bucket>/sft_match_official/<run>/sft_state_<kind>.msgpack. */
    readonly objectUri?: string;
    readonly recordedAt?: string;
    /** False: an entry recorded before slice shares were measured (no `slice`). */
    readonly measured?: boolean;
}

export function manifestUriOf(bucket: string, run: string): string {
    return `gs://${bucket}/sft_match_official/${run}/handoff.json`;
}

/**
 * Seeds the object and the entry (900 s of 16 chips: 4 chip-hours of work, on a slice held 1200 s: 5.333333
 * chip-hours, 1.333333 idle); returns the entry.
 */
export function seedHandoff(seed: SeedHandoff) {
    const uri = seed.objectUri ?? `gs://${seed.bucket}/sft_match_official/${seed.run}/sft_state_${seed.kind}.msgpack`;
    const bytes = Buffer.from(seed.content);
    objects.set(uri, bytes);
    const entry = {
        run: seed.run,
        runId: seed.runId,
        commits: { mllmJax: "a".repeat(40), miniOneRec: "b".repeat(40) },
        config: `configs/${seed.run}.yaml`,
        checkpoints: { [seed.kind]: { uri, size: bytes.length, crc32c: crc32cBase64(bytes) } },
        exitCodes: [0, 0, 0, 0],
        process0Worker: 2,
        acceleratorType: "v6e-16",
        chips: 16,
        startedAt: 1_000_000,
        finishedAt: 1_000_900,
        chipHours: 4,
        ...(seed.measured === false
            ? {}
            : {
                  slice: {
                      upSince: 999_700,
                      heldFrom: 999_700,
                      heldUntil: 1_000_900,
                      sliceChipHours: 5.333333,
                      idleChipHours: 1.333333,
                  },
              }),
        recordedAt: seed.recordedAt ?? "2026-11-29T20:00:00Z",
    };
    const manifestUri = manifestUriOf(seed.bucket, seed.run);
    const current = objects.get(manifestUri);
    const manifest = current
        ? JSON.parse(current.toString("utf8"))
        : { schemaVersion: 1, run: seed.run, entries: {} as Record<string, unknown> };
    manifest.entries[seed.runId] = entry;
    objects.set(manifestUri, Buffer.from(JSON.stringify(manifest)));
    return entry;
}
