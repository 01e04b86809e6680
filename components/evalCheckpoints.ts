/**
 * Where the eval stack's checkpoints come from: the train stack's `runs` output (a StackReference), or
 * explicit gs:// URIs with their crc32c. Every eval run must find its checkpoint before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CheckpointRef, checkpointRefSchema } from "./checkpointRef";
import { CheckpointKind, EvalRunConfig } from "./config/schema";
import { CONFIG_NAMESPACE } from "./config/loadConfig";

export type CheckpointCatalog = Readonly<Record<string, Partial<Record<CheckpointKind, CheckpointRef>>>>;

const trainRunsOutput = z.record(
    z.string(),
    z.object({
        checkpoints: z.object({ best: checkpointRefSchema.optional(), last: checkpointRefSchema.optional() }),
    }),
);

/** The checkpoint of every eval run, or one error listing each run that has none, with what exists. */
export function matchEvalCheckpoints(
    runs: readonly EvalRunConfig[],
    catalog: CheckpointCatalog,
    source: string,
): Record<string, CheckpointRef> {
    const problems: string[] = [];
    const matched: Record<string, CheckpointRef> = {};
    runs.forEach((run, i) => {
        const found = catalog[run.trainRun]?.[run.checkpoint];
        if (found) {
            matched[run.name] = found;
            return;
        }
        const available = Object.entries(catalog)
            .flatMap(([name, kinds]) => Object.keys(kinds).map((kind) => `${name}/${kind}`))
            .join(", ");
        const what = catalog[run.trainRun] ? `has no '${run.checkpoint}' checkpoint` : "is not a run";
        problems.push(
            `  - ${CONFIG_NAMESPACE}:eval.runs[${i}] (${run.name}) wants ${run.trainRun}/${run.checkpoint}, but ${run.trainRun} ${what} in ${source} ` +
                `(available: ${available || "none"}).\n    Fix: pulumi config set --path eval.runs[${i}].trainRun <run> and eval.runs[${i}].checkpoint <kind> to one of those, or add that checkpoint to the train stack's runs`,
        );
    });
    if (problems.length > 0) {
        throw new Error(`the eval runs cannot all be given a checkpoint:\n${problems.join("\n")}`);
    }
    return matched;
}

/** Reads the train stack's `runs` output; a missing or undeployed train stack is a clear error. */
export async function readTrainStackCheckpoints(stackName: string): Promise<CheckpointCatalog> {
    let value: unknown;
    try {
        const reference = new pulumi.StackReference("train-stack", { name: stackName });
        const details = await reference.getOutputDetails("runs");
        value = details.value ?? details.secretValue;
    } catch (err) {
        throw new Error(
            `could not read the train stack "${stackName}": ${(err as Error).message}. ` +
                `Fix: deploy it first (pulumi up --stack train), or point eval.trainStack at the right stack (on a file backend: organization/tpu-sft/<stack>)`,
            { cause: err },
        );
    }
    if (value === undefined) {
        throw new Error(
            `the train stack "${stackName}" has no 'runs' output: has \`pulumi up --stack train\` completed? Fix: deploy it, or list explicit checkpoints under eval.checkpoints`,
        );
    }
    const parsed = trainRunsOutput.safeParse(value);
    if (!parsed.success) {
        throw new Error(
            `the train stack "${stackName}" has a 'runs' output this program does not understand: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
    }
    return Object.fromEntries(Object.entries(parsed.data).map(([name, run]) => [name, run.checkpoints]));
}
