/**
 * The results a finished run's steps return without running: when the handoff manifest already holds a verified
 * entry for the run id (the recall step says `complete`), launch, wait, locate and upload each become a command
 * that only prints the result the entry implies, in the step's own result shape, so everything downstream (the
 * checkpoint holder, the outputs, the eval stack) reads the same values as after a real run, and no job starts.
 */
import { CheckpointKind } from "../config/schema";
import { shellQuote } from "../shell/quote";
import { LaunchResult } from "../steps/launch";
import { LocateResult } from "../steps/locate";
import { RESULT_MARKER } from "../steps/stepResult";
import { UploadResult } from "../steps/upload";
import { WaitResult } from "../steps/wait";
import { ManifestEntry } from "./manifest";

/** A command that prints `note` to stderr and `result` as the step's result line. */
export function recordedCommand(note: string, result: unknown): string {
    return `echo ${shellQuote(note)} >&2; printf '%s\\n' ${shellQuote(`${RESULT_MARKER}${JSON.stringify(result)}`)}`;
}

const note = (step: string, entry: ManifestEntry) =>
    `${step}: run ${entry.runId} is complete (recorded ${entry.recordedAt} in its handoff manifest, checkpoints verified); not running it again`;

export function recordedLaunch(entry: ManifestEntry): string {
    const result: LaunchResult = { host: "(recorded)", state: "succeeded", runDir: "" };
    return recordedCommand(note("launch", entry), result);
}

export function recordedWait(entry: ManifestEntry, worker: number, logUri: string): string {
    const result: WaitResult = {
        host: "(recorded)",
        exitCode: 0,
        attempt: 1,
        processIndex: worker === entry.process0Worker ? 0 : null,
        startedAt: entry.startedAt,
        finishedAt: entry.finishedAt,
        logUri,
    };
    return recordedCommand(note("wait", entry), result);
}

/** On the recorded process-0 worker: the recorded checkpoints, as if found fresh there; elsewhere: none. */
export function recordedLocate(entry: ManifestEntry, worker: number, kinds: readonly CheckpointKind[]): string {
    const files: LocateResult["files"] = {};
    if (worker === entry.process0Worker) {
        for (const kind of kinds) {
            const ref = entry.checkpoints[kind];
            if (ref) files[kind] = { path: ref.uri, size: ref.size, crc32c: ref.crc32c, fresh: true };
        }
    }
    const result: LocateResult = {
        host: "(recorded)",
        processIndex: worker === entry.process0Worker ? 0 : null,
        files,
    };
    return recordedCommand(note("locate", entry), result);
}

export function recordedUpload(entry: ManifestEntry, kind: CheckpointKind): string {
    const ref = entry.checkpoints[kind];
    if (!ref) {
        throw new Error(
            `run ${entry.run}: its handoff entry ${entry.runId} has no ${kind} checkpoint, but the run lists it (a run with other checkpoints has another run id: a bug)`,
        );
    }
    const result: UploadResult = { ...ref, skipped: true };
    return recordedCommand(note("upload", entry), result);
}
