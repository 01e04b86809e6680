// Builds the eval stack from the checked-in Pulumi.eval.yaml under Pulumi mocks, with a mocked train
// StackReference and an in-memory Cloud Storage. The eval steps answer with upstream calc.py's own numbers
// for a reference case (test/fixtures/calc-examples), so the three-way cross-check runs on real figures.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { asPulumiConfig, clone, REPO_ROOT, stackFileValues, withUserSettings } from "./helpers/trainConfig";
import { EvalAnswers, FAKE_HOST_KEY, plain, StackMocks, Untyped } from "./helpers/mocks";
import { laidOut } from "./helpers/copies";
import { StepName, stepShipment } from "../components/steps/stepScript";
import { installFakeStorage, objects, removeFakeStorage } from "./helpers/fakeStorage";
import { referenceAnswers } from "./helpers/stacks";

const CASE = path.resolve(REPO_ROOT, "test", "fixtures", "calc-examples", "c03_rank_boundaries");
const BUCKET = "my-proj-mllm-jax-artifacts";

function trainRuns() {
    return {
        office: {
            runId: "office-aaaaaaaaaaaa",
            checkpoints: {
                best: {
                    uri: `gs://${BUCKET}/sft_match_official/office/sft_state_best.msgpack`,
                    size: 3560000000,
                    crc32c: "IcOvzQ==",
                },
            },
        },
        industrial: {
            runId: "industrial-bbbbbbbbbbbb",
            checkpoints: {
                last: {
                    uri: `gs://${BUCKET}/sft_match_official/industrial/sft_state_last.msgpack`,
                    size: 3560000001,
                    crc32c: "AAAAAA==",
                },
            },
        },
    };
}

async function buildEvalStack(
    options: {
        mutate?: (v: Record<string, Untyped>) => void;
        train?: Record<string, unknown> | null;
        answers?: EvalAnswers;
        mocks?: StackMocks;
    } = {},
) {
    // One worker: a v6e-8 slice is a single host.
    const mocks = options.mocks ?? new StackMocks(0, 1);
    mocks.trainStackOutputs = options.train === null ? undefined : { runs: options.train ?? trainRuns() };
    mocks.evalAnswers = options.answers ?? referenceAnswers();
    await pulumi.runtime.setMocks(mocks, "tpu-sft", "eval", false);
    const values = withUserSettings(clone(stackFileValues("eval")));
    options.mutate?.(values);
    pulumi.runtime.setAllConfig(
        { ...asPulumiConfig(values), "gcp:project": "my-proj", "tpu-sft:wandbApiKey": "k0123456789" },
        ["tpu-sft:wandbApiKey"],
    );
    const { readStackConfig } = await import("../components/config/readStackConfig");
    const { evalStack } = await import("../components/evalStack");
    const { config, secrets } = readStackConfig();
    assert.ok(config.role === "eval");
    const outputs = await evalStack(config, secrets);
    const resolved = await (pulumi.output(outputs) as unknown as { promise(): Promise<Untyped> }).promise();
    return { mocks, outputs: resolved };
}

describe("eval stack under mocks (Pulumi.eval.yaml, mocked train stack)", function () {
    this.timeout(30000);
    before(() => {
        installFakeStorage();
        const predictions = fs.readFileSync(path.join(CASE, "predictions.json"));
        const items = fs.readFileSync(path.join(CASE, "items.txt"));
        for (const run of ["office", "industrial"]) {
            objects.set(`gs://${BUCKET}/sft_match_official/eval/${run}/eval_predictions.json`, predictions);
            objects.set(`gs://${BUCKET}/sft_match_official/eval/${run}/items.txt`, items);
        }
    });
    after(removeFakeStorage);

    it("creates one single-host v6e-8 in europe-west4-a and runs every eval step on that one host, in order", async () => {
        const { mocks } = await buildEvalStack();
        const vms = mocks.ofType("gcp:tpu/v2Vm:V2Vm");
        assert.strictEqual(vms.length, 1);
        assert.strictEqual(vms[0].inputs.acceleratorType, "v6e-8");
        assert.strictEqual(vms[0].inputs.zone, "europe-west4-a");
        assert.strictEqual(
            mocks.ofType("gcp:storage/bucket:Bucket").length,
            0,
            "the eval stack never creates the bucket",
        );
        const names = mocks.ofType("command:remote:Command").map((c) => c.name);
        assert.deepStrictEqual(
            names.sort(),
            [
                "bootstrap-identify-w0",
                "bootstrap-w0",
                ...["office", "industrial"].flatMap((r) =>
                    [
                        "artifacts",
                        "calc",
                        "download",
                        "eval-launch",
                        "eval-report",
                        "eval-wait",
                        "recall",
                        "record",
                    ].map((s) => `${r}-${s}`),
                ),
            ].sort(),
        );
        const hosts = new Set(mocks.ofType("command:remote:Command").map((c) => plain(c.inputs.connection).host));
        assert.deepStrictEqual([...hosts], ["34.1.2.10"]);
        // Two copies: identify's script, before its host key is pinned; then, with it pinned, the scripts of exactly
        // the steps the eval runs use and bootstrap's. Each lays out `.tpu-sft/steps/<step>-<digest>/` there.
        const copies = mocks.ofType("command:remote:CopyToRemote");
        assert.deepStrictEqual(copies.map((c) => c.name).sort(), [
            "bootstrap-copy-identify-w0",
            "bootstrap-copy-steps-w0",
        ]);
        const shippedBy = new Map<string, string>();
        for (const c of copies) {
            const identify = c.name === "bootstrap-copy-identify-w0";
            assert.strictEqual(plain(c.inputs.connection).host, "34.1.2.10");
            assert.strictEqual(plain(c.inputs.connection).hostKey, identify ? undefined : FAKE_HOST_KEY, c.name);
            const steps: StepName[] = identify
                ? ["identify"]
                : [
                      "bootstrap",
                      "handoff",
                      "download",
                      "launch",
                      "wait",
                      "evalreport",
                      "calc",
                      "artifacts",
                      "evalrecord",
                  ];
            const files = await laidOut(c);
            const expected = steps.flatMap((step) => stepShipment(step).files);
            assert.deepStrictEqual([...files.keys()].sort(), expected.map((f) => f.remote).sort(), c.name);
            for (const f of expected) assert.ok(files.get(f.remote)!.equals(fs.readFileSync(f.local)), f.remote);
            for (const file of files.keys()) shippedBy.set(file, c.name);
        }
        // Every step command runs its step's current script, from the copy its key allows.
        for (const c of mocks.ofType("command:remote:Command")) {
            const [, script, step] = / bash "\$HOME\/(\.tpu-sft\/steps\/([a-z]+)-[0-9a-f]{12}\/[a-z]+\.sh)"$/.exec(
                c.inputs.create,
            )!;
            assert.strictEqual(script, stepShipment(step as StepName).script, c.name);
            assert.strictEqual(
                shippedBy.get(script),
                step === "identify" ? "bootstrap-copy-identify-w0" : "bootstrap-copy-steps-w0",
                c.name,
            );
        }
    });

    it("downloads each run's checkpoint from the train stack's output with its size and crc32c, into the eval config's path", async () => {
        const { mocks } = await buildEvalStack();
        const download = mocks.ofType("command:remote:Command").find((c) => c.name === "industrial-download")!;
        assert.match(
            download.inputs.create,
            /(^| )SRC_URI=gs:\/\/my-proj-mllm-jax-artifacts\/sft_match_official\/industrial\/sft_state_last\.msgpack /,
        );
        assert.match(download.inputs.create, /(^| )EXPECT_CRC32C=AAAAAA== EXPECT_SIZE=3560000001 /);
        assert.match(
            download.inputs.create,
            / JOB_CONFIG=projects\/minionerec\/sft\/configs\/sid_sft_jax_qwen25_1p5b_base_industrial_v6e16_eval_from_last_rightpad_mu_fp32\.yaml /,
        );
        assert.match(download.inputs.create, / KIND=last /);
        const launch = mocks.ofType("command:remote:Command").find((c) => c.name === "office-eval-launch")!;
        assert.match(launch.inputs.create, / JOB_MODE=eval /);
        assert.match(launch.inputs.create, / PROCESS_COUNT=1 /);
    });

    it("without a train stack or explicit checkpoints, reads each train run's handoff manifest on the eval host", async () => {
        const mocks = new StackMocks(0, 1);
        const manifest = (run: string) => `gs://${BUCKET}/sft_match_official/${run}/handoff.json`;
        const entryOf = (run: "office" | "industrial") => ({
            run,
            runId: trainRuns()[run].runId,
            commits: { mllmJax: "03455fc".padEnd(40, "0"), miniOneRec: "81b4ba9".padEnd(40, "0") },
            config: `projects/minionerec/sft/configs/${run}.yaml`,
            checkpoints: trainRuns()[run].checkpoints,
            exitCodes: [0, 0, 0, 0],
            process0Worker: 1,
            acceleratorType: "v6e-16",
            chips: 16,
            startedAt: 1000,
            finishedAt: 4600,
            chipHours: 16,
            recordedAt: "2026-11-29T10:00:00Z",
        });
        mocks.latestEntries = {
            [manifest("office")]: entryOf("office"),
            [manifest("industrial")]: entryOf("industrial"),
        };
        // No train stack at all: a StackReference would fail.
        const { outputs } = await buildEvalStack({ mocks, train: null, mutate: (v) => delete v.eval.trainStack });
        assert.strictEqual(mocks.ofType("pulumi:pulumi:StackReference").length, 0);
        const picks = mocks.ofType("command:remote:Command").filter((c) => c.name.endsWith("-handoff"));
        assert.deepStrictEqual(
            picks.map((c) => c.name),
            ["office-handoff", "industrial-handoff"],
        );
        assert.match(
            picks[0].inputs.create,
            new RegExp(` HANDOFF_URI=${manifest("office").replace(/\./g, "\\.")} KIND=best MODE=latest `),
        );
        assert.match(picks[1].inputs.create, / KIND=last MODE=latest /);
        assert.deepStrictEqual(outputs.evalRuns.office.checkpoint, trainRuns().office.checkpoints.best);
        assert.deepStrictEqual(outputs.evalRuns.industrial.checkpoint, trainRuns().industrial.checkpoints.last);
        const download = mocks.ofType("command:remote:Command").find((c) => c.name === "office-download")!;
        assert.match(
            download.inputs.create,
            new RegExp(` SRC_URI=gs://${BUCKET}/sft_match_official/office/sft_state_best\\.msgpack `),
        );
    });

    it("outputs HR@K and NDCG@K keyed by K, n, invalid, the W&B URL, the checkpoint and artifacts, and the agreement", async () => {
        const { outputs } = await buildEvalStack();
        const office = outputs.evalRuns.office;
        const expected = JSON.parse(fs.readFileSync(path.join(CASE, "expected.json"), "utf8"));
        assert.strictEqual(office.n, 13);
        assert.strictEqual(office.invalid, 0);
        assert.deepStrictEqual(office.k, [1, 3, 5, 10, 20, 50]);
        expected.k.forEach((k: number, i: number) => {
            assert.ok(Math.abs(office.hr[String(k)] - expected.hr[i]) <= 1e-12, `HR@${k}`);
            assert.ok(Math.abs(office.ndcg[String(k)] - expected.ndcg[i]) <= 1e-12, `NDCG@${k}`);
        });
        assert.strictEqual(office.wandbUrl, "https://wandb.ai/entity/minionerec-sid-sft/runs/9cl15w2e");
        assert.deepStrictEqual(office.checkpoint, trainRuns().office.checkpoints.best);
        assert.strictEqual(
            office.artifacts["eval_predictions.json"],
            `gs://${BUCKET}/sft_match_official/eval/office/eval_predictions.json`,
        );
        assert.strictEqual(office.agreement.agree, true);
        assert.deepStrictEqual(office.agreement.sources, ["calc.py", "metrics.json", "typescript"]);
        assert.ok(office.agreement.maxAbsDiff < 1e-8);
        assert.deepStrictEqual(Object.keys(outputs.evalRuns).sort(), ["industrial", "office"]);
        // Each mocked eval wait runs 4000 s on the 8 chips of a v6e-8; spot has no default price.
        assert.strictEqual(outputs.evalRuns.office.evalSeconds, 4000);
        assert.strictEqual(outputs.evalRuns.industrial.evalSeconds, 4000);
        assert.deepStrictEqual(outputs.cost, {
            chips: 8,
            provisioning: "spot",
            pricePerChipHour: null,
            workChipHours: Math.round(((2 * 8 * 4000) / 3600) * 1e6) / 1e6,
            workUsd: null,
            // The host came up at 900; office held the slice to its end (5000), industrial from then to 10000.
            sliceChipHours: 20.222222, // 8 × (4100 + 5000) s
            idleChipHours: 2.444444, // 8 × (100 + 1000) s
            sliceUsd: null,
            idleUsd: null,
            unmeasuredRuns: 0,
        });
        assert.deepStrictEqual(outputs.evalRuns.industrial.slice, {
            upSince: 900,
            heldFrom: 5000,
            heldUntil: 10000,
            sliceChipHours: 11.111111,
            idleChipHours: 2.222222,
        });
    });

    it("fails with a side-by-side table when the evaluator's metrics disagree with the predictions", async () => {
        const answers = referenceAnswers();
        (answers.metrics.hr as Record<string, number>)["1"] += 0.01;
        await assert.rejects(buildEvalStack({ answers }), (err: Error) => {
            assert.match(err.message, /eval run office: the metric computations disagree, so no metrics are recorded/);
            assert.match(err.message, /HR@1: calc\.py 0\.07692308 vs metrics\.json 0\.0869230769\d* /);
            assert.match(err.message, /metric +calc\.py +metrics\.json +typescript/);
            assert.match(err.message, /HR@1 +0\.0769230800 +0\.0869230769 +0\.0769230769 +<-- disagree/);
            return true;
        });
    });

    it("fails when a computation counts invalid predictions, unless allowed", async () => {
        const answers = referenceAnswers();
        answers.metrics.invalid_prediction_count = 2;
        answers.calcTail = answers.calcTail.replace(/0\n$/, "2\n");
        await assert.rejects(buildEvalStack({ answers }), /invalid: calc\.py 2 vs typescript 0/);
    });

    it("rejects, before creating anything, an eval run whose train run or checkpoint kind the train stack does not output", async () => {
        const train = trainRuns() as Record<string, Untyped>;
        delete train.industrial.checkpoints.last;
        train.industrial.checkpoints.best = train.office.checkpoints.best;
        const mocks = new StackMocks(0, 1);
        await assert.rejects(
            buildEvalStack({ mocks, train, mutate: (v) => (v.eval.runs[0].trainRun = "books") }),
            (err: Error) => {
                assert.match(
                    err.message,
                    /tpu-sft:eval\.runs\[0\] \(office\) wants books\/best, but books is not a run in train stack organization\/tpu-sft\/train \(available: industrial\/best, office\/best\)/,
                );
                assert.match(
                    err.message,
                    /tpu-sft:eval\.runs\[1\] \(industrial\) wants industrial\/last, but industrial has no 'last' checkpoint/,
                );
                return true;
            },
        );
        assert.deepStrictEqual(
            mocks.resources.map((r) => r.type),
            ["pulumi:pulumi:StackReference"],
            "only the train stack was read",
        );
    });

    it("a missing train stack is a clear error", async () => {
        await assert.rejects(
            buildEvalStack({ train: null }),
            /could not read the train stack "organization\/tpu-sft\/train": .*unknown stack.*Fix: deploy it first \(pulumi up --stack train\)/s,
        );
    });

    it("the TypeScript cross-check is a local step keyed by the stored predictions' crc32c, not a read at evaluation", async () => {
        const { mocks } = await buildEvalStack();
        const checks = mocks.ofType("command:local:Command").filter((c) => c.name.endsWith("-cross-check"));
        assert.deepStrictEqual(checks.map((c) => c.name).sort(), ["industrial-cross-check", "office-cross-check"]);
        for (const check of checks) {
            assert.strictEqual(
                check.inputs.create,
                "node --require ts-node/register/transpile-only scripts/crossCheck.ts",
            );
            const input = JSON.parse(check.inputs.environment.TPU_SFT_CROSS_CHECK);
            assert.match(input.predictions.uri, /^gs:\/\/.*\/eval\/(office|industrial)\/eval_predictions\.json$/);
            assert.match(input.predictions.crc32c, /^[A-Za-z0-9+/]{6}==$/);
            assert.match(input.items.uri, /\/items\.txt$/);
            assert.deepStrictEqual(input.topk, [1, 3, 5, 10, 20, 50]);
        }
    });

    it("a new checkpoint in the train stack re-runs download, eval, cross-check and record for that run only", async () => {
        const first = await buildEvalStack();
        const train = trainRuns();
        train.industrial.checkpoints.last.crc32c = "BBBBBB==";
        const second = await buildEvalStack({ train });
        const before = new Map(first.mocks.ofType("command:remote:Command").map((c) => [c.name, c.inputs.create]));
        const changed = second.mocks
            .ofType("command:remote:Command")
            .filter((c) => before.get(c.name) !== c.inputs.create)
            .map((c) => c.name);
        assert.deepStrictEqual(changed.sort(), [
            "industrial-artifacts",
            "industrial-calc",
            "industrial-download",
            "industrial-eval-launch",
            "industrial-eval-report",
            "industrial-eval-wait",
            "industrial-recall",
            "industrial-record",
        ]);
    });

    it("an eval run already complete in its record is not evaluated again: its steps only say so, its outputs are the record's", async () => {
        const first = await buildEvalStack();
        const live = first.mocks.evalRecordEntries.find((e) => e.runId.startsWith("office-"));
        assert.ok(live, "the first update recorded office");
        // As if recorded on an earlier slice, which ended before this one came up (at 900).
        const earlier = { upSince: 100, heldFrom: 100, heldUntil: 500, sliceChipHours: 0.888889, idleChipHours: 0 };
        const recorded = { ...live, slice: earlier };
        const mocks = new StackMocks(0, 1);
        mocks.evalRecallEntries = { [recorded.runId]: recorded };
        const again = await buildEvalStack({ mocks });
        const commands = again.mocks.ofType("command:remote:Command");
        const officeSteps = commands.filter((c) => c.name.startsWith("office-") && c.name !== "office-recall");
        assert.deepStrictEqual(officeSteps.map((c) => c.name).sort(), [
            "office-artifacts",
            "office-calc",
            "office-download",
            "office-eval-launch",
            "office-eval-report",
            "office-eval-wait",
            "office-record",
        ]);
        for (const c of officeSteps) {
            assert.match(
                c.inputs.create,
                new RegExp(
                    `^echo '[a-z-]+: eval run ${recorded.runId} is complete \\(recorded ${recorded.recordedAt} in its eval record, artifacts verified\\); not running it again' >&2$`,
                ),
                c.name,
            );
        }
        const check = again.mocks.ofType("command:local:Command").find((c) => c.name === "office-cross-check");
        assert.match(check?.inputs.create, /^echo 'cross-check: eval run office-[0-9a-f]{12} is complete/);
        // Only the other run records anything; the recalled run's outputs are its entry's, with its recorded share.
        assert.deepStrictEqual(
            again.mocks.evalRecordEntries.map((e) => e.runId.replace(/-[0-9a-f]{12}$/, "")),
            ["industrial"],
        );
        const { runId, commits, objects: recordedObjects, recordedAt, ...outputs } = recorded;
        assert.ok(runId && commits && recordedObjects && recordedAt);
        assert.deepStrictEqual(again.outputs.evalRuns.office, { ...outputs, recalled: true });
        assert.strictEqual(again.outputs.evalRuns.industrial.recalled, false);
        // The industrial run is evaluated for real, and its share of the slice starts at the slice's boot: the
        // recalled run ended on an earlier slice.
        const industrialLaunch = commands.find((c) => c.name === "industrial-eval-launch");
        assert.ok(industrialLaunch?.inputs.create.endsWith(`bash "$HOME/${stepShipment("launch").script}"`));
        assert.strictEqual(again.outputs.evalRuns.industrial.slice.heldFrom, 900);
    });
});
