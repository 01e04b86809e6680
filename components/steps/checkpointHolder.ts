/**
 * Picks the worker that holds a run's checkpoints. Only JAX process 0 writes them and it can be on any
 * worker (the SOP saw workers 1 and 2), so every worker reports and exactly one must hold fresh files.
 */
import { CheckpointKind } from "../config/schema";
import { CheckpointFile, LocateResult } from "./locate";

export interface CheckpointHolder {
    /** Worker index (position in the slice's endpoint list). */
    readonly worker: number;
    readonly host: string;
    readonly files: Readonly<Record<CheckpointKind, CheckpointFile | undefined>>;
}

export function pickCheckpointHolder(
    run: string,
    kinds: readonly CheckpointKind[],
    reports: readonly LocateResult[],
): CheckpointHolder {
    const complete = reports
        .map((report, worker) => ({ report, worker }))
        .filter(({ report }) => kinds.every((kind) => report.files[kind]?.fresh === true));
    let chosen = complete;
    if (complete.length > 1) {
        // Several workers can hold fresh files only if they share a filesystem; trust the one whose log says process 0.
        chosen = complete.filter(({ report }) => report.processIndex === 0);
    }
    if (chosen.length !== 1) {
        const seen = reports
            .map((r, i) => {
                const files = kinds
                    .map((k) => `${k}=${r.files[k] ? (r.files[k]?.fresh ? "fresh" : "stale") : "missing"}`)
                    .join(" ");
                return `worker ${i} (${r.host}, process ${r.processIndex ?? "?"}): ${files}`;
            })
            .join("; ");
        const what = complete.length === 0 ? "no worker holds" : `${complete.length} workers hold`;
        throw new Error(
            `run ${run}: ${what} fresh ${kinds.join(" and ")} checkpoint(s) written by this run; expected exactly one (JAX process 0). Seen: ${seen}`,
        );
    }
    const { report, worker } = chosen[0];
    return { worker, host: report.host, files: { best: report.files.best, last: report.files.last } };
}
