// Builds the train or eval stack from the checked-in stack file under Pulumi mocks, with the settings every
// user adds (gcp:project, the W&B key, the firewall's source ranges) and an optional change, and waits for
// every resource to be registered. The eval stack reads a mocked train stack and an in-memory bucket that
// hold one of calc.py's reference cases, so its cross-check passes.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { asPulumiConfig, clone, REPO_ROOT, stackFileValues, StackValues, withUserSettings } from "./trainConfig";
import { EvalAnswers, StackMocks } from "./mocks";
import { fakeStorageInstalled, installFakeStorage, objects, removeFakeStorage } from "./fakeStorage";

export const PROJECT = "my-proj";
export const BUCKET = "my-proj-mllm-jax-artifacts";
const CASE = path.join(REPO_ROOT, "test", "fixtures", "calc-examples", "c03_rank_boundaries");

/** The train stack's `runs` output as the eval stack reads it. */
export function trainRunsOutput(bucket = BUCKET) {
    return {
        office: {
            checkpoints: {
                best: {
                    uri: `gs://${bucket}/sft_match_official/office/sft_state_best.msgpack`,
                    size: 3560000000,
                    crc32c: "IcOvzQ==",
                },
            },
        },
        industrial: {
            checkpoints: {
                last: {
                    uri: `gs://${bucket}/sft_match_official/industrial/sft_state_last.msgpack`,
                    size: 3560000001,
                    crc32c: "AAAAAA==",
                },
            },
        },
    };
}

/** What the eval steps answer for upstream calc.py's reference case c03 (its own figures). */
export function referenceAnswers(): EvalAnswers {
    const expected = JSON.parse(fs.readFileSync(path.join(CASE, "expected.json"), "utf8"));
    const keyed = (values: number[]) =>
        Object.fromEntries(expected.k.map((k: number, i: number) => [String(k), values[i]]));
    return {
        calcTail: fs.readFileSync(path.join(CASE, "expected.txt"), "utf8"),
        metrics: {
            hr: keyed(expected.hr),
            ndcg: keyed(expected.ndcg),
            topk: expected.k,
            n_samples: expected.n,
            n_beams: expected.n_beam,
            invalid_prediction_count: expected.invalid,
        },
        wandbUrl: "https://wandb.ai/entity/minionerec-sid-sft/runs/9cl15w2e",
    };
}

/**
 * Puts the eval artifacts the cross-check reads back into the in-memory bucket (install fakeStorage first); with
 * `all`, the other three artifacts too, so an eval record's objects can be verified there.
 */
export function seedEvalArtifacts(bucket = BUCKET, all = false): void {
    const predictions = fs.readFileSync(path.join(CASE, "predictions.json"));
    const items = fs.readFileSync(path.join(CASE, "items.txt"));
    for (const run of ["office", "industrial"]) {
        const folder = `gs://${bucket}/sft_match_official/eval/${run}`;
        objects.set(`${folder}/eval_predictions.json`, predictions);
        objects.set(`${folder}/items.txt`, items);
        if (!all) continue;
        for (const file of ["eval_predictions.metrics.json", "eval.log", "calc.stdout"]) {
            objects.set(`${folder}/${file}`, Buffer.from(`${run} ${file}`));
        }
    }
}

export async function buildStack(
    role: "train" | "eval",
    mutate?: (values: StackValues) => void,
    prepare?: (mocks: StackMocks) => void,
): Promise<{ mocks: StackMocks; outputs: StackValues }> {
    const mocks = role === "train" ? new StackMocks() : new StackMocks(0, 1);
    if (role === "eval") {
        mocks.trainStackOutputs = { runs: trainRunsOutput() };
        mocks.evalAnswers = referenceAnswers();
    }
    prepare?.(mocks);
    await pulumi.runtime.setMocks(mocks, "tpu-sft", role, false);
    const values = withUserSettings(clone(stackFileValues(role)));
    mutate?.(values);
    pulumi.runtime.setAllConfig(
        { ...asPulumiConfig(values), "gcp:project": PROJECT, "tpu-sft:wandbApiKey": "k0123456789" },
        ["tpu-sft:wandbApiKey"],
    );
    const { readStackConfig } = await import("../../components/config/readStackConfig");
    const { config, secrets } = readStackConfig();
    // The train stack reads its handoff manifests from the bucket: the in-memory one here, never the network.
    const installed = fakeStorageInstalled();
    if (!installed) installFakeStorage();
    try {
        const outputs =
            config.role === "train"
                ? await (await import("../../components/trainStack")).trainStack(config, secrets)
                : await (await import("../../components/evalStack")).evalStack(config, secrets);
        const resolved = await (pulumi.output(outputs) as unknown as { promise(): Promise<StackValues> }).promise();
        return { mocks, outputs: resolved };
    } finally {
        if (!installed) removeFakeStorage();
    }
}
