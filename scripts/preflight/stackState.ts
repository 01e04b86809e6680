/**
 * Whether the stack's state already holds the bucket, read with `pulumi stack export` (read-only). Only the
 * bucket check asks, and only when a bucket of that name exists in the project: then it was either made by this
 * stack (fine) or kept by an earlier `pulumi destroy` (a 409 unless `bucket.adopt` imports it).
 */
import { execFile } from "child_process";

export type StateAnswer =
    { readonly known: true; readonly holds: boolean } | { readonly known: false; readonly why: string };

interface Exported {
    readonly deployment?: { readonly resources?: readonly { readonly type?: string; readonly id?: string }[] };
}

/** Pure: does an exported deployment hold a bucket of that name? */
export function stateHoldsBucket(exported: Exported, bucket: string): boolean {
    return (exported.deployment?.resources ?? []).some(
        (r) => r.type === "gcp:storage/bucket:Bucket" && r.id === bucket,
    );
}

/** `pulumiCommand` is the CLI and any leading arguments, e.g. ["pulumi"]. */
export function readStateHoldsBucket(
    pulumiCommand: readonly string[],
    dir: string,
    stack: string,
    bucket: string,
): Promise<StateAnswer> {
    const [command, ...leading] = pulumiCommand;
    return new Promise((resolve) => {
        execFile(
            command,
            [...leading, "stack", "export", "--stack", stack],
            { cwd: dir, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
            (err, stdout, stderr) => {
                if (err) {
                    // A stack that was never created has no state, so it cannot hold the bucket.
                    if (/no stack named/i.test(stderr)) {
                        resolve({ known: true, holds: false });
                    } else {
                        resolve({ known: false, why: (stderr || err.message).trim().split("\n")[0] });
                    }
                    return;
                }
                try {
                    resolve({ known: true, holds: stateHoldsBucket(JSON.parse(stdout) as Exported, bucket) });
                } catch {
                    resolve({ known: false, why: "pulumi stack export printed no JSON" });
                }
            },
        );
    });
}
