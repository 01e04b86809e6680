// `npm run faults`: known TPU failure modes, injected into the rehearsal's real engine, hosts and emulator.
// One line per case (name, expected, observed, PASS/FAIL), then `N passed, N failed`.
import * as fs from "fs";
import * as path from "path";
import { listObjects, putObject, readObjectBytes } from "./emulator";
import { run } from "./cli";
import { switchIndustrialToBest, writeConfig } from "./stackConfigs";
import { BUCKET, setUpWorld, WANDB_CANARY, World } from "./world";

interface Outcome {
    readonly name: string;
    readonly expected: string;
    readonly observed: string;
    readonly ok: boolean;
}
const outcomes: Outcome[] = [];
function record(name: string, expected: string, ok: boolean, observed: string): void {
    outcomes.push({ name, expected, observed, ok });
    console.log(
        `${ok ? "PASS" : "FAIL"} | ${name} | expected: ${expected} | observed: ${observed.replace(/\s+/g, " ").slice(0, 400)}`,
    );
}
const say = (text: string) => process.stderr.write(`[faults] ${text}\n`);

async function main(): Promise<number> {
    const started = Date.now();
    let world: World | undefined;
    const transcripts: string[] = [];
    try {
        world = await setUpWorld("faults", { echo: process.env.REHEARSE_QUIET !== "1" });
        const w = world;
        const keep = <T extends { stdout: string; stderr: string }>(r: T): T => {
            transcripts.push(r.stdout, r.stderr);
            return r;
        };
        const upTrain = async (allowFailure = false) => keep(await w.up("train", [], allowFailure));
        const upEval = async (allowFailure = false) => keep(await w.up("eval", [], allowFailure));
        const trainHost = (i: number) => `train-w${i}`;
        const faultFile = (host: string) => path.join(w.hostRoot(host), ".standin-faults.env");

        // Hostile values: the MLLM-JAX URL is a real repository at a path full of shell syntax.
        const canary = path.join(w.work, "INJECTED");
        const hostileDir = path.join(w.work, `it's $(touch ${canary}) \`touch ${canary}\`; touch ${canary} ☃ "q"`);
        fs.mkdirSync(hostileDir, { recursive: true });
        fs.cpSync(w.repos.mllmJax.url, path.join(hostileDir, "MLLM-JAX.git"), { recursive: true });
        const trainCfg = {
            ...w.trainConfig,
            "tpu-sft:repos": {
                ...w.repos,
                mllmJax: { ...w.repos.mllmJax, url: path.join(hostileDir, "MLLM-JAX.git") },
            },
        };
        writeConfig(w.files.train, trainCfg);

        // 1. One worker's training exits non-zero; a stale TPU lock and a leftover process wait on worker 0.
        fs.writeFileSync(faultFile(trainHost(2)), "FAIL_WORKER=2\nFAIL_CODE=3\nFAIL_AT_STEP=2\n");
        const failed = await upTrain(true);
        const text = failed.stdout + failed.stderr;
        const objectsAfterFailure = await listObjects(w.endpoint, BUCKET);
        record(
            "worker exits non-zero",
            "up fails naming the worker, exit code 3 and a log tail; nothing uploaded",
            failed.code !== 0 &&
                /worker t1v-n-rehearsal-train-w-2: the train job exited with code 3/.test(text) &&
                /--- last \d+ lines of \S+ on t1v-n-rehearsal-train-w-2 ---/.test(text) &&
                !objectsAfterFailure.some((o) => o.name.endsWith(".msgpack")),
            `exit ${failed.code}; ${(/worker t1v-n-rehearsal-train-w-2: [^\n]*/.exec(text) ?? ["no worker message"])[0]}; msgpack objects: ${objectsAfterFailure.filter((o) => o.name.endsWith(".msgpack")).length}`,
        );
        record(
            "hostile config values stay literal",
            "the hostile repository path is cloned; no injected command runs",
            failed.code !== 0 &&
                !fs.existsSync(canary) &&
                fs.existsSync(path.join(w.hostRoot(trainHost(0)), "MLLM-JAX", ".git")),
            `canary ${fs.existsSync(canary) ? "CREATED" : "absent"}; checkout ${fs.existsSync(path.join(w.hostRoot(trainHost(0)), "MLLM-JAX", ".git")) ? "present" : "missing"}`,
        );

        fs.rmSync(faultFile(trainHost(2)));
        await w.ssh(
            w.hosts.train[0].host,
            "touch /tmp/libtpu_lockfile; cd /root/MLLM-JAX && (setsid nohup bash -c 'exec -a run_sid_sft_leftover sleep 600' >/dev/null 2>&1 &)",
        );
        const fixed = await upTrain(true);
        const leftover = await w.ssh(w.hosts.train[0].host, "pgrep -f '[r]un_sid_sft_leftover' || true");
        const trainOut = fixed.code === 0 ? await w.outputs("train") : undefined;
        record(
            "relaunch after the fix",
            "the next up relaunches and completes",
            fixed.code === 0 && JSON.stringify(trainOut?.runs?.office?.exitCodes) === "[0,0,0,0]",
            `exit ${fixed.code}; office exit codes ${JSON.stringify(trainOut?.runs?.office?.exitCodes)}`,
        );
        record(
            "stale TPU lock and leftover process",
            "cleared before launch",
            !fs.existsSync("/tmp/libtpu_lockfile") && leftover.stdout.trim() === "",
            `lock ${fs.existsSync("/tmp/libtpu_lockfile") ? "present" : "gone"}; leftover pids '${leftover.stdout.trim()}'`,
        );
        record(
            "hostile values after success",
            "still no injected command",
            !fs.existsSync(canary),
            fs.existsSync(canary) ? "CREATED" : "absent",
        );

        // 2. The checkpoint object is replaced in the bucket between the stacks.
        const officeUri: string = trainOut.runs.office.checkpoints.best.uri;
        const objectName = officeUri.replace(`gs://${BUCKET}/`, "");
        const original = await readObjectBytes(w.endpoint, BUCKET, objectName);
        await putObject(
            w.endpoint,
            BUCKET,
            objectName,
            Buffer.concat([original.subarray(0, original.length - 1), Buffer.from("!")]),
        );
        const corrupted = await upEval(true);
        const evalRuns = await w.ssh(w.hosts.eval[0].host, "ls /root/tpu-sft-runs 2>/dev/null || true");
        const ctext = corrupted.stdout + corrupted.stderr;
        record(
            "checkpoint corrupted in the bucket",
            "download fails with both hashes; eval never starts",
            corrupted.code !== 0 &&
                /is not the one the train stack uploaded: expected size \d+ crc32c \S+, the bucket has size \d+ crc32c \S+/.test(
                    ctext,
                ) &&
                evalRuns.stdout.trim() === "",
            `exit ${corrupted.code}; ${(/checkpoint object [^\n]*/.exec(ctext) ?? ["no hash message"])[0]}; eval run dirs: '${evalRuns.stdout.trim()}'`,
        );
        await putObject(w.endpoint, BUCKET, objectName, original);

        // 3. W&B online, but the runner logs `wandb disabled due to init error` (and exits 0).
        fs.writeFileSync(faultFile("eval-w0"), "WANDB_INIT_ERROR=1\n");
        const wandb = await upEval(true);
        const wtext = wandb.stdout + wandb.stderr;
        record(
            "W&B init error",
            "eval fails with that line",
            wandb.code !== 0 && /W&B is online but the eval job logged: wandb disabled due to init error/.test(wtext),
            `exit ${wandb.code}; ${(/W&B is online[^\n]*/.exec(wtext) ?? ["no W&B message"])[0]}`,
        );
        fs.rmSync(faultFile("eval-w0"));
        const evalFixed = await upEval(true);
        const evalOut = evalFixed.code === 0 ? await w.outputs("eval") : undefined;
        record(
            "eval re-runs after the W&B fix",
            "the next up relaunches eval and records a W&B URL",
            evalFixed.code === 0 && /^https:\/\/wandb\.ai\//.test(evalOut?.evalRuns?.office?.wandbUrl ?? ""),
            `exit ${evalFixed.code}; office URL ${evalOut?.evalRuns?.office?.wandbUrl}`,
        );

        // 4. The evaluator's metrics disagree with its predictions.
        fs.writeFileSync(faultFile("eval-w0"), "BAD_METRICS=1\n");
        writeConfig(w.files.eval, switchIndustrialToBest(w.evalConfig));
        const bad = await upEval(true);
        const btext = bad.stdout + bad.stderr;
        const after = await w.outputs("eval");
        record(
            "metrics disagree",
            "cross-check fails with the side-by-side table; outputs keep no wrong metrics",
            bad.code !== 0 &&
                /eval run industrial: the metric computations disagree/.test(btext) &&
                /metric +calc\.py +metrics\.json +typescript/.test(btext) &&
                JSON.stringify(after.evalRuns?.industrial) === JSON.stringify(evalOut?.evalRuns?.industrial),
            `exit ${bad.code}; ${(/HR@1: calc\.py [^\n]*/.exec(btext) ?? ["no table"])[0]}; industrial outputs unchanged: ${JSON.stringify(after.evalRuns?.industrial) === JSON.stringify(evalOut?.evalRuns?.industrial)}`,
        );
        fs.rmSync(faultFile("eval-w0"));

        // 5. A worker's job is killed without an exit file, as a preemption would: reported within a poll
        //    plus the grace period, not at the time limit; the next `pulumi up` relaunches.
        const standinEnv = (i: number) => path.join(w.hostRoot(trainHost(i)), ".tpu-standin.env");
        const originalStandin = [0, 1, 2, 3].map((i) => fs.readFileSync(standinEnv(i), "utf8"));
        [0, 1, 2, 3].forEach((i) => fs.appendFileSync(standinEnv(i), "STANDIN_STEP_SECONDS=2\n"));
        const preemptTrain = JSON.parse(JSON.stringify(trainCfg));
        preemptTrain["tpu-sft:train"].runs[0].checkpoints = ["best", "last"];
        writeConfig(w.files.train, preemptTrain);
        const preemptStarted = Date.now() / 1000;
        const preempting = upTrain(true);
        // While steps run, what every host's process list shows (ps sees other sessions' command lines).
        let sampling = true;
        const processLists: string[] = [];
        const sampler = (async () => {
            while (sampling) {
                for (const host of [...w.hosts.train, ...w.hosts.eval])
                    processLists.push((await w.ssh(host.host, "ps -eo args")).stdout);
                await new Promise((r) => setTimeout(r, 300));
            }
        })();
        const runsDir = path.join(w.hostRoot(trainHost(3)), "tpu-sft-runs");
        let killedAt = 0;
        for (let tries = 0; tries < 300 && !killedAt; tries++) {
            await new Promise((r) => setTimeout(r, 500));
            const dir = fs.existsSync(runsDir)
                ? fs
                      .readdirSync(runsDir)
                      .map((d) => path.join(runsDir, d))
                      .find(
                          (d) =>
                              fs.existsSync(path.join(d, "pid")) &&
                              fs.statSync(path.join(d, "pid")).mtimeMs / 1000 >= preemptStarted,
                      )
                : undefined;
            if (
                dir &&
                /step=2\//.test(
                    fs.existsSync(path.join(dir, "train.log"))
                        ? fs.readFileSync(path.join(dir, "train.log"), "utf8")
                        : "",
                )
            ) {
                await w.ssh(w.hosts.train[3].host, `kill -9 -- -$(cat /root/tpu-sft-runs/${path.basename(dir)}/pid)`);
                killedAt = Date.now();
            }
        }
        const preempted = await preempting;
        sampling = false;
        await sampler;
        const sawSteps = processLists.some(
            (list) => /bash -c .*(wait|launch)\b/.test(list) || /run_sid_sft/.test(list),
        );
        const leakedInPs = processLists.some(
            (list) => list.includes(WANDB_CANARY) || list.includes(w.privateKey.split("\n")[1]),
        );
        record(
            "secrets not in process lists",
            "while steps run, no host's ps shows the W&B key or the private key",
            sawSteps && !leakedInPs,
            `${processLists.length} ps snapshots, steps seen: ${sawSteps}, secrets seen: ${leakedInPs}`,
        );
        const reportedAfter = (Date.now() - killedAt) / 1000;
        const ptext = preempted.stdout + preempted.stderr;
        record(
            "job killed without an exit file (preemption)",
            "reported as died or preempted within a poll interval plus the grace period (plus the slice's peer failures), not at the time limit",
            killedAt > 0 &&
                preempted.code !== 0 &&
                /worker t1v-n-rehearsal-train-w-3: the train process \d+ is gone without an exit code: it died or the VM was preempted/.test(
                    ptext,
                ) &&
                reportedAfter < 30,
            `killed ${killedAt ? "yes" : "never"}; up exit ${preempted.code} ${reportedAfter.toFixed(1)} s after the kill; ${(/worker t1v-n-rehearsal-train-w-3: [^\n]*/.exec(ptext) ?? ["no worker message"])[0]}`,
        );
        [0, 1, 2, 3].forEach((i) => fs.writeFileSync(standinEnv(i), originalStandin[i]));
        const resumed = await upTrain(true);
        record(
            "relaunch after a preemption",
            "the next up relaunches the slice and completes",
            resumed.code === 0 &&
                /attempt \d+ failed earlier and was reported; starting a new attempt/.test(
                    resumed.stdout + resumed.stderr,
                ),
            `exit ${resumed.code}`,
        );

        // 6. A host cannot be reached at launch (and so not every worker joins the rendezvous).
        for (let i = 0; i < 4; i++) fs.appendFileSync(standinEnv(i), "STANDIN_RENDEZVOUS_SECONDS=8\n");
        await run("bash", [path.join(__dirname, "hosts.sh"), "cut-net", w.hostsDir, trainHost(3)], { env: w.env });
        const changedTrain = JSON.parse(JSON.stringify(trainCfg));
        changedTrain["tpu-sft:train"].runs[0].checkpoints = ["last"];
        writeConfig(w.files.train, changedTrain);
        const t0 = Date.now();
        const unreachable = await upTrain(true);
        const seconds = (Date.now() - t0) / 1000;
        const utext = unreachable.stdout + unreachable.stderr;
        record(
            "host unreachable at launch",
            "bounded wait, then an error naming the host",
            unreachable.code !== 0 && /dial 10\.213\.0\.13:22/.test(utext) && seconds < 180,
            `exit ${unreachable.code} after ${seconds.toFixed(0)} s; ${(/dial 10\.213\.0\.13:22[^\n]*/.exec(utext) ?? ["no dial message"])[0]}`,
        );
        record(
            "not every worker joins the rendezvous",
            "the other workers fail naming the missing worker",
            /rendezvous failed: joined workers \[0, 1, 2\], missing workers \[3\]/.test(utext),
            (/rendezvous failed[^\n]*/.exec(utext) ?? ["no rendezvous message"])[0],
        );
        await run("bash", [path.join(__dirname, "hosts.sh"), "restore-net", w.hostsDir, trainHost(3)], { env: w.env });

        // 7. The SSH connection drops while a worker is waiting: the training keeps running, the interrupted
        //    `pulumi up` fails naming the step, and the next `pulumi up` resumes waiting without relaunching.
        [0, 1, 2, 3].forEach((i) => fs.writeFileSync(standinEnv(i), `${originalStandin[i]}STANDIN_STEP_SECONDS=2\n`));
        const dropTrain = JSON.parse(JSON.stringify(preemptTrain));
        dropTrain["tpu-sft:train"].runs[1].checkpoints = ["last"];
        writeConfig(w.files.train, dropTrain);
        const dropStarted = Date.now() / 1000;
        const dropping = upTrain(true);
        const w1Runs = path.join(w.hostRoot(trainHost(1)), "tpu-sft-runs");
        let dropDir: string | undefined;
        for (let tries = 0; tries < 300 && !dropDir; tries++) {
            await new Promise((r) => setTimeout(r, 500));
            const dir = fs.existsSync(w1Runs)
                ? fs
                      .readdirSync(w1Runs)
                      .filter((d) => d.startsWith("industrial-"))
                      .map((d) => path.join(w1Runs, d))
                      .find(
                          (d) =>
                              fs.existsSync(path.join(d, "pid")) &&
                              fs.statSync(path.join(d, "pid")).mtimeMs / 1000 >= dropStarted,
                      )
                : undefined;
            if (
                dir &&
                /step=2\//.test(
                    fs.existsSync(path.join(dir, "train.log"))
                        ? fs.readFileSync(path.join(dir, "train.log"), "utf8")
                        : "",
                )
            )
                dropDir = dir;
        }
        // Kill worker 1's SSH sessions (not its listener) from outside, as a dropped connection would end them.
        await run(
            "bash",
            [
                "-c",
                `for p in $(ip netns pids tpusft-train-w1); do if tr '\\0' ' ' </proc/$p/cmdline | grep -q '^sshd: root@'; then kill -9 $p; fi; done`,
            ],
            { env: w.env },
        );
        const dropped = await dropping;
        const dtext = dropped.stdout + dropped.stderr;
        const jobPid = dropDir ? fs.readFileSync(path.join(dropDir, "pid"), "utf8").trim() : "";
        const alive = (
            await w.ssh(
                w.hosts.train[1].host,
                `kill -0 ${jobPid} 2>/dev/null && echo alive || (test -f /root/tpu-sft-runs/${dropDir ? path.basename(dropDir) : "x"}/exit && echo finished) || echo gone`,
            )
        ).stdout.trim();
        record(
            "SSH drops while waiting",
            "the interrupted up fails naming the wait step; the training keeps running",
            !!dropDir &&
                dropped.code !== 0 &&
                /industrial-wait-w1/.test(dtext) &&
                (alive === "alive" || alive === "finished"),
            `up exit ${dropped.code}; error names industrial-wait-w1: ${/industrial-wait-w1/.test(dtext)}; job after the drop: ${alive}`,
        );
        const resumedAfterDrop = await upTrain(true);
        const rtext = resumedAfterDrop.stdout + resumedAfterDrop.stderr;
        const attemptFile = dropDir ? fs.readFileSync(path.join(dropDir, "attempt"), "utf8").trim() : "?";
        const dropOut = resumedAfterDrop.code === 0 ? await w.outputs("train") : undefined;
        record(
            "resume after the SSH drop",
            "the next up resumes waiting without relaunching and completes with the checkpoint",
            resumedAfterDrop.code === 0 &&
                attemptFile === "1" &&
                !/industrial-wait-w\d[^\n]*starting a new attempt/.test(rtext) &&
                !!dropOut?.runs?.industrial?.checkpoints?.last?.crc32c,
            `exit ${resumedAfterDrop.code}; attempt on worker 1: ${attemptFile}; industrial last ${dropOut?.runs?.industrial?.checkpoints?.last?.crc32c}`,
        );
        [0, 1, 2, 3].forEach((i) => fs.writeFileSync(standinEnv(i), originalStandin[i]));

        // 8. `pulumi destroy` while a host is gone: completes, and the bucket keeps its data.
        await run("bash", [path.join(__dirname, "hosts.sh"), "cut-net", w.hostsDir, trainHost(1)], { env: w.env });
        const before = (await listObjects(w.endpoint, BUCKET)).map((o) => o.name).sort();
        const destroyEval = keep(await w.destroy("eval", true));
        const destroyTrain = keep(await w.destroy("train", true));
        const afterDestroy = (await listObjects(w.endpoint, BUCKET)).map((o) => o.name).sort();
        record(
            "destroy with a host gone",
            "completes; no bucket data deleted",
            destroyEval.code === 0 &&
                destroyTrain.code === 0 &&
                JSON.stringify(before) === JSON.stringify(afterDestroy) &&
                before.length > 0,
            `destroy exits ${destroyEval.code}/${destroyTrain.code}; objects ${before.length} → ${afterDestroy.length}`,
        );

        // 9. Secrets: the W&B key canary and the SSH private key appear nowhere in plain text.
        const keyBody = w.privateKey.split("\n")[1];
        const leaks: string[] = [];
        const scan = (label: string, content: string) => {
            if (content.includes(WANDB_CANARY)) leaks.push(`${label}: W&B key`);
            if (content.includes(keyBody)) leaks.push(`${label}: SSH private key`);
        };
        transcripts.forEach((t, i) => scan(`pulumi output #${i}`, t));
        for (const file of walk(path.join(w.work, "state"))) scan(file, fs.readFileSync(file, "latin1"));
        for (const file of [w.files.train, w.files.eval]) scan(file, fs.readFileSync(file, "utf8"));
        const hostFiles = walk(path.join(w.hostsDir, "hosts")).filter((f) =>
            fs.readFileSync(f, "latin1").includes(WANDB_CANARY),
        );
        const envFiles = hostFiles.filter((f) => f.endsWith("/root/.env") && (fs.statSync(f).mode & 0o777) === 0o600);
        record(
            "secrets never in plain text",
            "no W&B key or private key in state, config files or pulumi output; on hosts only in /root/.env (mode 600)",
            leaks.length === 0 && hostFiles.length === envFiles.length && envFiles.length === 5,
            `leaks: ${leaks.join("; ") || "none"}; host files with the key: ${hostFiles.map((f) => path.relative(w.hostsDir, f)).join(", ")}`,
        );
    } catch (err) {
        record("fault suite completed", "no unexpected error", false, (err as Error).message.slice(0, 3000));
    } finally {
        if (world) await world.teardown();
    }
    const failed = outcomes.filter((o) => !o.ok).length;
    say(`${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(`${outcomes.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
}

function walk(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isSymbolicLink()) return [];
        if (entry.isDirectory()) return walk(full);
        return entry.isFile() && fs.statSync(full).size < 50_000_000 ? [full] : [];
    });
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
