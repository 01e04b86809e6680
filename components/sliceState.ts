/**
 * What a slice that is no longer usable looks like to the user. GCP keeps a preempted Spot TPU VM listed as PREEMPTED
 * until it is deleted, and Pulumi sees no diff, so plain `pulumi up` would dial dead hosts step after step; instead
 * the deployment fails at once, naming the two ways out. Shared by the TPU VM and its rehearsal twin.
 */

/**
 * Node states after which the slice cannot run anything until it is replaced. (A slice not found is not one of them:
 * before its first create it does not exist yet.)
 */
export const DEAD_SLICE_STATES: readonly string[] = ["PREEMPTED", "TERMINATED"];

export function sliceNotReadyMessage(label: string, state: string, stack: string, urn: string): string {
    const what =
        state === "$state"
            ? "is $state, not READY (a PREEMPTED slice cannot be restarted, only replaced)"
            : state === "PREEMPTED"
              ? "was preempted: its hosts are gone and it cannot be restarted, only replaced"
              : state === "NOT_FOUND"
                ? "is gone (deleted outside Pulumi)"
                : `is in state ${state}, not READY`;
    return (
        `slice ${label} ${what}. Recover with \`npm run supervise -- --stack ${stack}\` (replaces the slice, ` +
        `bootstraps the fresh hosts and relaunches unfinished runs), or by hand: ` +
        `\`pulumi up --replace '${urn}' --stack ${stack}\`.`
    );
}
