/**
 * identify: who a worker is, asked before any secret is sent to it (scripts/remote/identify.sh). It returns
 * the hostname and the ed25519 host key its sshd serves; checkWorkerIdentity compares the hostnames with the
 * slice the program expects, and WorkerBootstrap pins the key (`connection.hostKey`) on every later step. It also
 * gives the host's boot time, from which the slice's uptime is measured (sliceUpSince).
 */
import { z } from "zod";
import { assertInteger } from "./inputChecks";
import { stepCommand } from "./stepScript";

/** A few seconds of work; two minutes is generous. */
export const IDENTIFY_LIMIT_SECONDS = 2 * 60;

export interface IdentifyInputs {
    /** The port sshd listens on inside the host (22 on a TPU VM and in the rehearsal). */
    readonly sshPort?: number;
    readonly limitSeconds?: number;
}

export function identifyCommand(inputs: IdentifyInputs = {}): string {
    const port = assertInteger("identify.sshPort", inputs.sshPort ?? 22, 1, 65535);
    return stepCommand("identify", { SSH_PORT: String(port) }, inputs.limitSeconds ?? IDENTIFY_LIMIT_SECONDS);
}

export const identifyResult = z.object({
    host: z.string().min(1),
    hostKey: z.string().regex(/^ssh-ed25519 [A-Za-z0-9+/]+=*$/, "must be an OpenSSH ed25519 public key"),
    /** When the host came up (unix seconds). Absent from identify results stored before it was reported. */
    bootedAt: z.number().int().positive().optional(),
});
export type IdentifyResult = z.infer<typeof identifyResult>;

/** TPU VM workers are named `t1v-n-<id>-w-<index>` (the rehearsal's hosts: `t1v-n-rehearsal-train-w-0`…). */
export const TPU_WORKER_HOSTNAME_PREFIX = "t1v-n-";

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Throws unless worker i is named `<prefix><id>-w-<i>` and every worker has the same `<id>` (one VM). A
 * mismatch means an address leads to another machine, for example an IP recycled after the VM was deleted.
 */
export function checkWorkerIdentity(slice: string, prefix: string, results: readonly IdentifyResult[]): void {
    const problems: string[] = [];
    const ids = new Set<string>();
    results.forEach((result, worker) => {
        const match = new RegExp(`^${escapeRegExp(prefix)}([a-z0-9-]+)-w-${worker}$`).exec(result.host);
        if (match) {
            ids.add(match[1]);
        } else {
            problems.push(`worker ${worker} answers as host '${result.host}', not ${prefix}<id>-w-${worker}`);
        }
    });
    if (problems.length === 0 && ids.size > 1) {
        problems.push(
            `the workers belong to different VMs: ${results.map((r, w) => `worker ${w} is '${r.host}'`).join(", ")}`,
        );
    }
    if (problems.length > 0) {
        throw new Error(
            `${slice}: the hosts at the slice's addresses are not its workers, so nothing secret is sent to them: ${problems.join("; ")}. ` +
                `An address may have been recycled to another machine. Fix: run \`pulumi up --refresh\` so the program reads the VM's current addresses, and check the VM with \`gcloud compute tpus tpu-vm describe\`.`,
        );
    }
}

/** The slice's start: its earliest worker's boot, or undefined when a worker did not report one. */
export function sliceUpSince(results: readonly IdentifyResult[]): number | undefined {
    const boots = results.map((r) => r.bootedAt);
    return boots.every((b): b is number => b !== undefined) && boots.length > 0 ? Math.min(...boots) : undefined;
}
