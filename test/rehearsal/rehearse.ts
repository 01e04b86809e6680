// `npm run rehearse`: the real Pulumi engine drives the train and eval stacks end to end, over real SSH,
// against five local TPU-like hosts (test/rehearsal/hosts.sh) and a GCS emulator (fake-gcs-server), with
// the stand-in workload (test/fixtures/standin). Only the GCP resources are swapped out (the `local` target).
// Phases: up train → up eval → up both again (no changes) → change one eval run → destroy both.
// The last line printed is one JSON object with the outputs, the checks and the wall time of each phase.
import * as fs from "fs";
import * as path from "path";
import { mustRun, resourceSummary, run } from "./cli";
import { listObjects, readObjectText } from "./emulator";
import { switchIndustrialToBest, writeConfig } from "./stackConfigs";
import { sliceShareDetail, sliceShareProblems, SliceShareInput } from "./sliceShares";
import { readStepTimings, summarizeSteps } from "./stepTimings";
import { BUCKET, Json, ROOT, setUpWorld, World } from "./world";
import { parseCalcPyStdout } from "../../components/metrics/calcPyStdout";
import { evalRecordUri, parseEvalRecord } from "../../components/lifecycle/evalRecord";
import { parseManifest } from "../../components/lifecycle/manifest";
import { SliceHold } from "../../components/lifecycle/sliceHold";

/** The run names of the rehearsal's stacks (the checked-in stack files'), to group resources by step. */
const RUN_NAMES = ["office", "industrial"];

const checks: { name: string; ok: boolean; detail: string }[] = [];
function check(name: string, ok: boolean, detail: string): void {
    checks.push({ name, ok, detail });
    process.stderr.write(`[rehearse] ${ok ? "PASS" : "FAIL"} ${name}: ${detail}\n`);
}
const say = (text: string) => process.stderr.write(`[rehearse] ${text}\n`);

async function main(): Promise<number> {
    const started = Date.now();
    const phases: Record<string, number> = {};
    const steps: Record<string, ReturnType<typeof summarizeSteps>> = {};
    let world: World | undefined;
    const timed = async <T>(phase: string, body: () => Promise<T>): Promise<T> => {
        const t0 = Date.now();
        const logsBefore = world?.eventLogs.length ?? 0;
        say(`phase ${phase}`);
        try {
            return await body();
        } finally {
            phases[phase] = (Date.now() - t0) / 1000;
            say(`phase ${phase}: ${phases[phase].toFixed(1)} s`);
            const logs = world?.eventLogs.slice(logsBefore) ?? [];
            if (logs.length > 0) steps[phase] = summarizeSteps(logs.flatMap((log) => readStepTimings(log, RUN_NAMES)));
        }
    };
    const outputs: Record<string, unknown> = {};
    try {
        world = await timed("setup", () => setUpWorld("rehearsal", { echo: process.env.REHEARSE_QUIET !== "1" }));
        const w = world;
        const { endpoint, files } = w;
        const env = w.env;

        // 1. train
        await timed("1-up-train", () => w.up("train"));
        const train = await w.outputs("train");
        outputs.train = train;
        const objects = await listObjects(endpoint, BUCKET);
        for (const [run, value] of Object.entries(
            train.runs as Record<
                string,
                {
                    checkpoints: Record<string, { uri: string; size: number; crc32c: string }>;
                    process0Worker: number;
                    exitCodes: number[];
                }
            >,
        )) {
            for (const [kind, ckpt] of Object.entries(value.checkpoints)) {
                const name = ckpt.uri.replace(`gs://${BUCKET}/`, "");
                const object = objects.find((o) => o.name === name);
                check(
                    `train ${run}/${kind} checkpoint in the emulator`,
                    !!object && object.size === ckpt.size && object.crc32c === ckpt.crc32c,
                    `${ckpt.uri} output ${ckpt.size} B ${ckpt.crc32c}; object ${object ? `${object.size} B ${object.crc32c}` : "missing"}`,
                );
            }
            check(
                `train ${run} ran on 4 workers, process 0 off worker 0`,
                JSON.stringify(value.exitCodes) === "[0,0,0,0]" && value.process0Worker === 1,
                `exit codes ${JSON.stringify(value.exitCodes)}, process 0 on worker ${value.process0Worker}`,
            );
        }

        const objectText = (uri: string) => readObjectText(endpoint, BUCKET, uri.replace(`gs://${BUCKET}/`, ""));
        // Each run's share as its record in the bucket holds it, beside the outputs' (test/rehearsal/sliceShares.ts).
        const checkShares = async (
            name: string,
            runs: Record<string, Json>,
            cost: Json,
            recordedShare: (run: string, value: Json) => Promise<SliceHold | undefined>,
        ) => {
            const input: SliceShareInput = {
                runs,
                cost,
                recorded: Object.fromEntries(
                    await Promise.all(
                        Object.entries(runs).map(async ([run, value]) => [run, await recordedShare(run, value)]),
                    ),
                ),
            };
            check(name, sliceShareProblems(input).length === 0, sliceShareDetail(input));
        };
        await checkShares(
            "train: each run's share of the slice, from the hosts' boot, in the outputs and its manifest entry",
            train.runs,
            train.cost,
            async (_run, value) =>
                parseManifest(value.handoffUri, await objectText(value.handoffUri)).entries[value.runId]?.slice,
        );

        // 2. eval
        await timed("2-up-eval", () => w.up("eval"));
        const evaluated = await w.outputs("eval");
        outputs.eval = evaluated;
        await checkShares(
            "eval: each run's share of the slice, from the host's boot, in the outputs and its eval record",
            evaluated.evalRuns,
            evaluated.cost,
            async (run, value) => {
                const uri = evalRecordUri(BUCKET, w.evalConfig["tpu-sft:bucket"].prefix, run);
                const entries = Object.values(parseEvalRecord(uri, await objectText(uri)).entries);
                return entries.find((e) => e.checkpoint.uri === value.checkpoint.uri)?.slice;
            },
        );
        for (const [run, value] of Object.entries(evaluated.evalRuns as Record<string, Json>)) {
            const expected = await standInCalc(
                endpoint,
                value.artifacts["eval_predictions.json"],
                value.artifacts["items.txt"],
                w.work,
                env,
            );
            const close = expected.k.every(
                (k: number, i: number) =>
                    Math.abs(value.hr[String(k)] - expected.hr[i]) <= 1e-8 &&
                    Math.abs(value.ndcg[String(k)] - expected.ndcg[i]) <= 1e-8,
            );
            check(
                `eval ${run} HR/NDCG equal what the stand-in data implies`,
                close && value.invalid === expected.invalid,
                `HR@1 ${value.hr["1"]} vs ${expected.hr[0]}; NDCG@50 ${value.ndcg["50"]} vs ${expected.ndcg[expected.ndcg.length - 1]}; invalid ${value.invalid}`,
            );
            check(
                `eval ${run} W&B-style URL`,
                /^https:\/\/wandb\.ai\/[^/]+\/minionerec-sid-sft\/runs\/[a-z0-9]+$/.test(value.wandbUrl),
                value.wandbUrl,
            );
            check(
                `eval ${run} three computations agree`,
                value.agreement?.agree === true,
                `max |Δ| ${value.agreement?.maxAbsDiff}`,
            );
        }
        const report = await run(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                "scripts/report.ts",
                "--stack",
                w.stacks.eval,
                "--train-stack",
                w.stacks.train,
                "--svg",
                path.join(w.work, "report.svg"),
            ],
            { env, cwd: ROOT },
        );
        check(
            "npm run report renders the eval stack, with both stacks' cost",
            report.code === 0 &&
                fs.existsSync(path.join(w.work, "report.svg")) &&
                /^eval stack cost on 8 chips: .* the runs held the slice [0-9.]+ chip-hours/m.test(report.stdout) &&
                /^train stack cost on 16 chips: .* the runs held the slice [0-9.]+ chip-hours/m.test(report.stdout),
            report.code === 0
                ? report.stdout
                      .split("\n")
                      .filter((l, i) => i < 3 || / stack cost on /.test(l))
                      .join(" | ")
                : report.stderr.slice(-300),
        );

        // 3. nothing changed: nothing runs
        for (const which of ["train", "eval"] as const) {
            const name = `3-noop-${which}`;
            const result = await timed(name, () => w.up(which, ["--expect-no-changes"]));
            const summary = resourceSummary(result.stdout);
            check(
                `${name}: zero changes`,
                Object.keys(summary).length === 1 && summary.unchanged > 0,
                JSON.stringify(summary),
            );
        }

        // The program's start-up inside the real engine: a no-op preview runs the program; `stack output`
        // starts the CLI and reads the state without running it.
        const cliOnly = await timed("3-cli-stack-output", () =>
            w.pulumi("stack output", ["stack", "output", "--json", "--stack", w.stacks.train]),
        );
        const preview = await timed("3-noop-preview-train", () =>
            w.pulumi("preview", [
                "preview",
                "--expect-no-changes",
                "--stack",
                w.stacks.train,
                "--config-file",
                files.train,
            ]),
        );
        phases["program-startup-estimate"] = preview.seconds - cliOnly.seconds;

        // 4. one eval run's config changes: only its steps run
        writeConfig(files.eval, switchIndustrialToBest(w.evalConfig));
        const changed = await timed("4-change-one-eval-run", () => w.up("eval"));
        const touched = [
            ...changed.stdout.matchAll(/command:remote:Command\s+(\S+)\s+(?:updated|created|replaced)/g),
        ].map((m) => m[1]);
        check(
            "4: only the changed run's eval steps ran",
            touched.length > 0 && touched.every((n) => n.startsWith("industrial-")),
            `ran: ${[...new Set(touched)].join(", ")}`,
        );
        outputs.evalAfterChange = await w.outputs("eval");

        // 5. destroy both; the bucket keeps everything
        const before = (await listObjects(endpoint, BUCKET)).map((o) => `${o.name}:${o.crc32c}`).sort();
        await timed("5-destroy", async () => {
            await w.destroy("eval");
            await w.destroy("train");
        });
        const after = (await listObjects(endpoint, BUCKET)).map((o) => `${o.name}:${o.crc32c}`).sort();
        check(
            "5: destroy keeps every checkpoint and eval artifact",
            JSON.stringify(before) === JSON.stringify(after) && before.length > 0,
            `${after.length} objects before and after`,
        );
    } catch (err) {
        check("rehearsal completed", false, (err as Error).message.slice(0, 4000));
    } finally {
        if (world) await world.teardown();
    }
    const workload = workloadSeconds(outputs);
    const total = (Date.now() - started) / 1000;
    const toolchain = world?.setupSeconds.toolchain ?? 0;
    const failed = checks.filter((c) => !c.ok).length;
    console.log(`${checks.length - failed} passed, ${failed} failed`);
    console.log(
        JSON.stringify({
            seconds: {
                total,
                phases,
                setup: world?.setupSeconds,
                workload,
                toolchain,
                orchestration: total - workload - toolchain,
            },
            steps,
            checks,
            outputs,
        }),
    );
    return failed === 0 ? 0 : 1;
}

/** The independent expectation: the stand-in calc.py (Python) on the predictions and items in the bucket. */
async function standInCalc(
    endpoint: string,
    predictionsUri: string,
    itemsUri: string,
    work: string,
    env: NodeJS.ProcessEnv,
) {
    const name = (uri: string) => uri.replace(`gs://${BUCKET}/`, "");
    const dir = fs.mkdtempSync(path.join(work, "calc-"));
    fs.writeFileSync(path.join(dir, "p.json"), await readObjectText(endpoint, BUCKET, name(predictionsUri)));
    fs.writeFileSync(path.join(dir, "items.txt"), await readObjectText(endpoint, BUCKET, name(itemsUri)));
    const result = await mustRun(
        "stand-in calc.py",
        "python3",
        [
            path.join(ROOT, "test/fixtures/minionerec/calc.py"),
            "--path",
            path.join(dir, "p.json"),
            "--item_path",
            path.join(dir, "items.txt"),
        ],
        { env },
    );
    return parseCalcPyStdout(result.stdout);
}

function workloadSeconds(outputs: Record<string, Json>): number {
    const train = Object.values((outputs.train?.runs ?? {}) as Record<string, { trainSeconds: number }>).reduce(
        (s, r) => s + r.trainSeconds,
        0,
    );
    const evals = Object.values((outputs.eval?.evalRuns ?? {}) as Record<string, { evalSeconds: number }>).reduce(
        (s, r) => s + r.evalSeconds,
        0,
    );
    return train + evals;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
