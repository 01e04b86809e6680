// The rehearsal's world, shared by `npm run rehearse` and `npm run faults`: the pinned toolchain, an SSH
// key, the stand-in repositories, five hosts, the GCS emulator with the bucket, and two stacks (train and
// eval, target local) on a file backend in a temp dir.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mustRun, rehearsalSshArgs, run, Ran, toolchainEnv } from "./cli";
import { createBucket, startEmulator } from "./emulator";
import { evalConfig, HostsJson, Repos, trainConfig, writeConfig } from "./stackConfigs";

export const ROOT = path.resolve(__dirname, "..", "..");
export const WANDB_CANARY = "rehearsalwandbcanary0123456789abcdef0123";
export const BUCKET = "rehearsal-mllm-jax-artifacts";

/** Stack outputs and configs as parsed JSON: the checks that read a field are what validate its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface World {
    readonly work: string;
    readonly env: NodeJS.ProcessEnv;
    readonly bin: string;
    readonly hosts: HostsJson;
    readonly hostsDir: string;
    readonly repos: Repos;
    readonly endpoint: string;
    readonly privateKey: string;
    readonly publicKey: string;
    readonly stacks: { readonly train: string; readonly eval: string };
    readonly files: { readonly train: string; readonly eval: string };
    readonly evalConfig: Record<string, Json>;
    readonly trainConfig: Record<string, Json>;
    /** Runs the pinned `pulumi` with the world's environment; `allowFailure` returns instead of throwing. */
    pulumi(what: string, args: string[], options?: { input?: string; allowFailure?: boolean }): Promise<Ran>;
    up(which: "train" | "eval", extra?: string[], allowFailure?: boolean): Promise<Ran>;
    destroy(which: "train" | "eval", allowFailure?: boolean): Promise<Ran>;
    outputs(which: "train" | "eval"): Promise<Json>;
    /** Runs a shell command on a host over SSH with the rehearsal key, as root. */
    ssh(host: string, command: string): Promise<Ran>;
    /** The host's /root on this machine (its files, as the host sees them). */
    hostRoot(name: string): string;
    teardown(): Promise<void>;
    /** The engine event log of every `up` so far, oldest first. */
    readonly eventLogs: string[];
    /** Seconds of each part of setting the world up (the toolchain check among them). */
    readonly setupSeconds: Record<string, number>;
}

export async function setUpWorld(kind: string, options: { echo: boolean }): Promise<World> {
    // Unique per run: stack files (`pulumi stack init` writes Pulumi.<stack>.yaml into the project) and host
    // names never meet another run's on a shared machine.
    const prefix = `${kind}-${crypto.randomBytes(3).toString("hex")}`;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `tpu-sft-${prefix}-`));
    const setupSeconds: Record<string, number> = {};
    let mark = Date.now();
    const lap = (part: string) => {
        setupSeconds[part] = (Date.now() - mark) / 1000;
        mark = Date.now();
    };
    fs.mkdirSync(path.join(work, "state"));
    const env = await toolchainEnv(ROOT, {
        ...process.env,
        PULUMI_HOME: path.join(work, "pulumi-home"),
        PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "",
        // Enables `pulumi up --event-log` (the engine's per-resource events, for the step timings).
        PULUMI_DEBUG_COMMANDS: "true",
    });
    const bin = env.TOOLS_BIN as string;
    lap("toolchain");
    const hostsScript = path.join(ROOT, "test/rehearsal/hosts.sh");
    const hostsDir = path.join(work, "hosts");
    const keyFile = path.join(work, "id_ed25519");
    await mustRun("ssh-keygen", "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "rehearsal", "-f", keyFile], {
        env,
    });
    const repos = JSON.parse(
        (
            await mustRun(
                "make-repos.sh",
                "bash",
                [path.join(ROOT, "test/fixtures/standin/make-repos.sh"), path.join(work, "repos")],
                { env },
            )
        ).stdout
            .trim()
            .split("\n")
            .pop()!,
    ) as Repos;
    await run("bash", [hostsScript, "down", hostsDir], { env });
    // The bridge only: each stack's slice creates its hosts (hosts.sh slice-up, through the program's LocalSlice).
    const hosts = JSON.parse(
        (
            await mustRun("hosts.sh network", "bash", [hostsScript, "network", hostsDir, `${keyFile}.pub`], { env })
        ).stdout
            .trim()
            .split("\n")
            .pop()!,
    ) as HostsJson;
    lap("hosts and repos");
    const emulator = await startEmulator(bin, hosts.bridge, 4443, path.join(work, "gcs"));
    await createBucket(emulator.endpoint, BUCKET);

    const publicKey = fs.readFileSync(`${keyFile}.pub`, "utf8").trim();
    const privateKey = fs.readFileSync(keyFile, "utf8");
    const stacks = { train: `organization/tpu-sft/${prefix}-train`, eval: `organization/tpu-sft/${prefix}-eval` };
    const files = {
        train: path.join(work, `Pulumi.${prefix}-train.yaml`),
        eval: path.join(work, `Pulumi.${prefix}-eval.yaml`),
    };
    const plane = { control: hostsScript, stateDir: hostsDir };
    const train = trainConfig(ROOT, plane, emulator.endpoint, repos, publicKey);
    const evaluated = evalConfig(ROOT, plane, emulator.endpoint, repos, publicKey, stacks.train);
    writeConfig(files.train, train);
    writeConfig(files.eval, evaluated);
    // `pulumi stack init` leaves Pulumi.<stack>.yaml in the project; the world's configs live in its temp dir.
    const strays = [`Pulumi.${prefix}-train.yaml`, `Pulumi.${prefix}-eval.yaml`]
        .map((f) => path.join(ROOT, f))
        .filter((f) => !fs.existsSync(f));

    const pulumi: World["pulumi"] = async (what, args, opts = {}) => {
        const result = await run(path.join(bin, "pulumi"), [...args, "--non-interactive"], {
            env,
            cwd: ROOT,
            input: opts.input,
            echo: options.echo,
        });
        if (result.code !== 0 && !opts.allowFailure) {
            throw new Error(
                `${what} failed (exit ${result.code}):\n${result.stdout.slice(-6000)}\n${result.stderr.slice(-3000)}`,
            );
        }
        return result;
    };
    for (const which of ["train", "eval"] as const) {
        await pulumi(`stack init ${stacks[which]}`, ["stack", "init", stacks[which]]);
        await pulumi("config set wandbApiKey", [
            "config",
            "set",
            "--secret",
            "--stack",
            stacks[which],
            "--config-file",
            files[which],
            "tpu-sft:wandbApiKey",
            WANDB_CANARY,
        ]);
        await pulumi(
            "config set sshPrivateKey",
            [
                "config",
                "set",
                "--secret",
                "--stack",
                stacks[which],
                "--config-file",
                files[which],
                "tpu-sft:sshPrivateKey",
            ],
            { input: privateKey },
        );
    }
    for (const stray of strays) fs.rmSync(stray, { force: true });
    lap("emulator and stacks");
    let upCount = 0;
    const eventLogs: string[] = [];

    return {
        work,
        env,
        eventLogs,
        setupSeconds,
        bin,
        hosts,
        hostsDir,
        repos,
        endpoint: emulator.endpoint,
        privateKey,
        publicKey,
        stacks,
        files,
        evalConfig: evaluated,
        trainConfig: train,
        pulumi,
        up: (which, extra = [], allowFailure = false) => {
            // The engine's events of every up, for per-step timings (stepTimings.ts).
            const eventLog = path.join(work, "events", `${String(++upCount).padStart(3, "0")}-up-${which}.jsonl`);
            fs.mkdirSync(path.dirname(eventLog), { recursive: true });
            eventLogs.push(eventLog);
            return pulumi(
                `pulumi up ${stacks[which]}`,
                [
                    "up",
                    "--yes",
                    "--skip-preview",
                    "--stack",
                    stacks[which],
                    "--config-file",
                    files[which],
                    "--event-log",
                    eventLog,
                    ...extra,
                ],
                { allowFailure },
            );
        },
        destroy: (which, allowFailure = false) =>
            pulumi(
                `pulumi destroy ${stacks[which]}`,
                ["destroy", "--yes", "--skip-preview", "--stack", stacks[which], "--config-file", files[which]],
                { allowFailure },
            ),
        outputs: async (which) =>
            JSON.parse(
                (await pulumi(`stack output ${stacks[which]}`, ["stack", "output", "--json", "--stack", stacks[which]]))
                    .stdout,
            ),
        ssh: (host, command) => run("ssh", rehearsalSshArgs(keyFile, host, command), { env }),
        hostRoot: (name) => path.join(hostsDir, "hosts", name, "root"),
        teardown: async () => {
            await emulator.stop();
            await run("bash", [hostsScript, "down", hostsDir], { env });
            for (const stray of strays) fs.rmSync(stray, { force: true });
            if (process.env.REHEARSE_KEEP !== "1") fs.rmSync(work, { recursive: true, force: true });
        },
    };
}
