/**
 * Builds the exact command text of every remote step. Each step is `scripts/remote/lib.sh` followed by
 * the step's script. Bootstrap carries every step's script and installs them on the host under
 * `~/.tpu-sft/steps/<digest>/`; every other step is a short `bash <that file>` line, so a failing step's
 * error (which quotes the command) stays readable and the state stays small. Inputs are environment
 * variables quoted by `shellQuote`. Pure: the same inputs give the same string, so an unchanged config runs
 * no command.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { bashWithEnv, envAssignments, shellQuote } from "../shell/quote";

export const REMOTE_SCRIPT_DIR = path.resolve(__dirname, "..", "..", "scripts", "remote");

/** Steps installed by bootstrap and run from their file. */
export const INSTALLED_STEPS = [
    "launch",
    "wait",
    "locate",
    "upload",
    "download",
    "evalreport",
    "calc",
    "artifacts",
] as const;
export type StepName = "bootstrap" | (typeof INSTALLED_STEPS)[number];

const scriptCache = new Map<string, string>();

/** A file of scripts/remote without comment lines: they are for readers here, not for the hosts. */
function remoteFile(name: string): string {
    let text = scriptCache.get(name);
    if (text === undefined) {
        text = fs
            .readFileSync(path.join(REMOTE_SCRIPT_DIR, `${name}.sh`), "utf8")
            .split("\n")
            .filter((line) => !/^\s*(#.*)?$/.test(line))
            .join("\n");
        scriptCache.set(name, text);
    }
    return text;
}

/** The whole script a step runs: lib.sh, then the step. */
export function stepScript(step: StepName): string {
    return `${remoteFile("lib")}\n${remoteFile(step)}`;
}

/** The files bootstrap installs: lib.sh, and each step sourcing it from its own directory. */
export function installedFiles(): Record<string, string> {
    const files: Record<string, string> = { lib: remoteFile("lib") };
    for (const step of INSTALLED_STEPS) files[step] = `source "\${BASH_SOURCE[0]%/*}/lib.sh"\n${remoteFile(step)}`;
    return files;
}

/** Names the installed script set: any change to a script gives a new directory, so old and new never mix. */
export function stepScriptsDigest(): string {
    const hash = crypto.createHash("sha256");
    for (const [name, text] of Object.entries(installedFiles())) hash.update(`${name}\0${text}\0`);
    return hash.digest("hex").slice(0, 12);
}

/** Where bootstrap installs a step's script on a host (`$HOME` expands there). */
export function installedStepPath(step: (typeof INSTALLED_STEPS)[number]): string {
    return `$HOME/.tpu-sft/steps/${stepScriptsDigest()}/${step}.sh`;
}

/** The command line that runs `step` with `env` as its inputs. */
export function stepCommand(step: StepName, env: Readonly<Record<string, string>>): string {
    if (step === "bootstrap") {
        return bashWithEnv(stepScript(step), env, step);
    }
    const file = `"${installedStepPath(step)}"`;
    const missing = shellQuote(
        `step scripts ${stepScriptsDigest()} are not installed on this host; the bootstrap step installs them (run pulumi up)`,
    );
    return `[ -f ${file} ] || { echo ${missing} >&2; exit 1; }; ${[...envAssignments(env), "bash", file].join(" ")}`;
}

/** Environment that carries the installed scripts to bootstrap. */
function installedScriptsEnv(): Record<string, string> {
    const env: Record<string, string> = { STEP_SCRIPTS_DIGEST: stepScriptsDigest() };
    for (const [name, text] of Object.entries(installedFiles())) env[`STEP_SCRIPT_${name.toUpperCase()}`] = text;
    return env;
}

/** Settings that point `gcloud storage` on the hosts at the bucket endpoint (empty for real GCS). */
export type StorageEnv = Readonly<Record<string, string>>;

export interface PythonEnvInputs {
    /** conda (the SOP) or system-python (the offline rehearsal). */
    readonly mode: "conda" | "system-python";
    readonly condaEnv: string;
}

export interface BootstrapInputs extends PythonEnvInputs {
    readonly python: string;
    readonly jax: string;
    readonly libtpu: string;
    readonly minicondaUrl: string;
    readonly jaxReleasesUrl: string;
    readonly torchIndexUrl: string;
    readonly mllmJax: { readonly url: string; readonly commit: string };
    readonly miniOneRec: { readonly url: string; readonly commit: string };
    /** Whether the W&B key is sent on stdin (it never appears in the command text). */
    readonly wandbKeyOnStdin: boolean;
}

export function bootstrapCommand(inputs: BootstrapInputs): string {
    return stepCommand("bootstrap", {
        ...installedScriptsEnv(),
        ENV_MODE: inputs.mode,
        CONDA_ENV: inputs.condaEnv,
        PYTHON_VERSION: inputs.python,
        JAX_VERSION: inputs.jax,
        LIBTPU_VERSION: inputs.libtpu,
        MINICONDA_URL: inputs.minicondaUrl,
        JAX_RELEASES_URL: inputs.jaxReleasesUrl,
        TORCH_INDEX_URL: inputs.torchIndexUrl,
        MLLM_URL: inputs.mllmJax.url,
        MLLM_COMMIT: inputs.mllmJax.commit,
        MINI_URL: inputs.miniOneRec.url,
        MINI_COMMIT: inputs.miniOneRec.commit,
        WANDB_KEY_ON_STDIN: inputs.wandbKeyOnStdin ? "1" : "0",
    });
}

export interface JobInputs extends PythonEnvInputs {
    /** `<run>-<key>`: names the run directory on every worker; changes when the run's inputs change. */
    readonly runId: string;
    /** The YAML the runner reads, relative to the checkout. */
    readonly config: string;
    readonly jobMode: "train" | "eval";
    /** JAX processes in the job (the slice's host count). */
    readonly processCount: number;
}

function jobEnv(inputs: JobInputs): Record<string, string> {
    return {
        RUN_ID: inputs.runId,
        JOB_CONFIG: inputs.config,
        JOB_MODE: inputs.jobMode,
        PROCESS_COUNT: String(inputs.processCount),
        ENV_MODE: inputs.mode,
        CONDA_ENV: inputs.condaEnv,
    };
}

export function launchCommand(inputs: JobInputs): string {
    return stepCommand("launch", jobEnv(inputs));
}

/** How a wait step polls; the same knobs for train and eval jobs. */
export interface JobTiming {
    readonly timeLimitMinutes: number;
    readonly pollSeconds: number;
    /** A progress line at least this often. */
    readonly progressSeconds: number;
    /** Extra seconds before a vanished process without an exit file is called dead. */
    readonly graceSeconds: number;
}

export interface WaitInputs extends JobInputs {
    readonly timing: JobTiming;
    /** Where this worker's log goes when the job ends ("" keeps it on the host). */
    readonly logUri: string;
    readonly storageEnv: StorageEnv;
    /** W&B is online: a job whose log says `wandb disabled due to init error` fails the wait. */
    readonly requireWandb?: boolean;
}

/** Log lines a failure message carries. */
export const FAILURE_TAIL_LINES = 40;

export function waitCommand(inputs: WaitInputs): string {
    return stepCommand("wait", {
        ...inputs.storageEnv,
        ...jobEnv(inputs),
        TIME_LIMIT_SECONDS: String(inputs.timing.timeLimitMinutes * 60),
        POLL_SECONDS: String(inputs.timing.pollSeconds),
        PROGRESS_SECONDS: String(inputs.timing.progressSeconds),
        GRACE_SECONDS: String(inputs.timing.graceSeconds),
        TAIL_LINES: String(FAILURE_TAIL_LINES),
        LOG_URI: inputs.logUri,
        ...(inputs.requireWandb ? { REQUIRE_WANDB: "1" } : {}),
    });
}

export interface LocateInputs {
    readonly runId: string;
    readonly outputDir: string;
    readonly kinds: readonly ("best" | "last")[];
    readonly storageEnv: StorageEnv;
}

export function locateCommand(inputs: LocateInputs): string {
    return stepCommand("locate", {
        ...inputs.storageEnv,
        RUN_ID: inputs.runId,
        OUTPUT_DIR: inputs.outputDir,
        KINDS: inputs.kinds.join(","),
    });
}

export interface UploadInputs {
    readonly file: string;
    readonly destUri: string;
    readonly size: number;
    readonly crc32c: string;
    readonly storageEnv: StorageEnv;
}

export function uploadCommand(inputs: UploadInputs): string {
    return stepCommand("upload", {
        ...inputs.storageEnv,
        FILE: inputs.file,
        DEST_URI: inputs.destUri,
        EXPECT_SIZE: String(inputs.size),
        EXPECT_CRC32C: inputs.crc32c,
    });
}

export interface DownloadInputs {
    readonly srcUri: string;
    /** The eval YAML; its train.resume_from_checkpoint decides where the file goes. */
    readonly config: string;
    readonly kind: "best" | "last";
    readonly size: number;
    readonly crc32c: string;
    readonly storageEnv: StorageEnv;
}

export function downloadCommand(inputs: DownloadInputs): string {
    return stepCommand("download", {
        ...inputs.storageEnv,
        SRC_URI: inputs.srcUri,
        JOB_CONFIG: inputs.config,
        KIND: inputs.kind,
        EXPECT_SIZE: String(inputs.size),
        EXPECT_CRC32C: inputs.crc32c,
    });
}

export interface EvalReportInputs {
    readonly runId: string;
    /** The eval config's output_dir, relative to the checkout. */
    readonly outputDir: string;
    readonly wandbMode: "online" | "offline" | "disabled";
}

export function evalReportCommand(inputs: EvalReportInputs): string {
    return stepCommand("evalreport", {
        RUN_ID: inputs.runId,
        OUTPUT_DIR: inputs.outputDir,
        WANDB_MODE: inputs.wandbMode,
    });
}

export interface CalcInputs extends PythonEnvInputs {
    readonly runId: string;
    readonly outputDir: string;
    /** The MiniOneRec info file, relative to the checkout. */
    readonly itemFile: string;
}

export function calcCommand(inputs: CalcInputs): string {
    return stepCommand("calc", {
        RUN_ID: inputs.runId,
        OUTPUT_DIR: inputs.outputDir,
        ITEM_FILE: inputs.itemFile,
        ENV_MODE: inputs.mode,
        CONDA_ENV: inputs.condaEnv,
    });
}

export interface ArtifactsInputs {
    readonly runId: string;
    readonly outputDir: string;
    readonly itemFile: string;
    /** gs://bucket/prefix/eval/<run> */
    readonly destPrefix: string;
    readonly storageEnv: StorageEnv;
}

export function artifactsCommand(inputs: ArtifactsInputs): string {
    return stepCommand("artifacts", {
        ...inputs.storageEnv,
        RUN_ID: inputs.runId,
        OUTPUT_DIR: inputs.outputDir,
        ITEM_FILE: inputs.itemFile,
        DEST_PREFIX: inputs.destPrefix,
    });
}

/** `gs://bucket/prefix/parts…`, refusing parts that would escape their folder. */
export function gcsUri(bucket: string, ...parts: string[]): string {
    for (const part of parts) {
        if (part === "" || part.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
            throw new Error(`invalid object path segment ${JSON.stringify(part)} under gs://${bucket}`);
        }
    }
    return `gs://${bucket}/${parts.join("/")}`;
}
