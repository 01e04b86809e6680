/**
 * The parts every remote step shares. A step is one bash file, `scripts/remote/<step>.sh`, that sources
 * `lib.sh` from its own directory. Both files go to each host into `~/.tpu-sft/steps/<step>-<digest>/`, where
 * the digest covers exactly those two files: editing one step's script changes only that step's command, so
 * only that step runs again. The command itself is short: the step's inputs as quoted `NAME=value` words, its
 * time limit, and `bash <its file>`. Several steps travel together in one copy (StepBundle): a local directory
 * laid out as the hosts' `~/.tpu-sft/steps`, sent by one remote.CopyToRemote per host.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { envAssignments, shellQuote } from "../shell/quote";
import { assertInteger, assertOneOf, assertToolName } from "./inputChecks";

export const REMOTE_SCRIPT_DIR = path.resolve(__dirname, "..", "..", "scripts", "remote");

export const STEP_NAMES = [
    "identify",
    "bootstrap",
    "launch",
    "wait",
    "locate",
    "upload",
    "handoff",
    "download",
    "evalreport",
    "calc",
    "artifacts",
    "evalrecord",
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Where the copies go on a host, relative to the login's home (SFTP paths are). */
export const REMOTE_STEPS_DIR = ".tpu-sft/steps";

/** One file of a step: here, and on the host (relative to the home directory). */
export interface ShippedFile {
    readonly local: string;
    readonly remote: string;
}

export interface StepShipment {
    readonly step: StepName;
    /** 12 hex digits of sha256 over lib.sh and the step's script. */
    readonly digest: string;
    /** lib.sh and the step's script. */
    readonly files: readonly ShippedFile[];
    /** The step's script on the host, relative to the home directory. */
    readonly script: string;
}

/** The digest of a step's files (lib.sh and the step's script, in that order, by name and content). */
function digestOf(files: readonly { readonly name: string; readonly bytes: Buffer }[]): string {
    const hash = crypto.createHash("sha256");
    for (const { name, bytes } of files) hash.update(`${name}\0`).update(bytes).update("\0");
    return hash.digest("hex").slice(0, 12);
}

/** What has to be on a host to run `step`, with the scripts read from `dir`. */
export function shipmentOf(step: StepName, dir: string): StepShipment {
    const local = (name: string) => path.join(dir, `${name}.sh`);
    const digest = digestOf(["lib", step].map((name) => ({ name: `${name}.sh`, bytes: fs.readFileSync(local(name)) })));
    const remoteDir = `${REMOTE_STEPS_DIR}/${step}-${digest}`;
    return {
        step,
        digest,
        files: ["lib", step].map((name) => ({ local: local(name), remote: `${remoteDir}/${name}.sh` })),
        script: `${remoteDir}/${step}.sh`,
    };
}

const shipments = new Map<StepName, StepShipment>();

/** What has to be on a host to run `step` (this checkout's scripts/remote, read once). */
export function stepShipment(step: StepName): StepShipment {
    let shipment = shipments.get(step);
    if (shipment === undefined) {
        shipment = shipmentOf(step, REMOTE_SCRIPT_DIR);
        shipments.set(step, shipment);
    }
    return shipment;
}

/**
 * Where bundles are staged: `<checkout>/.tpu-sft-ship` (git-ignored), so the copies' source paths are the same
 * relative path on every machine and stay readable between `pulumi up`s. Each bundle is its own directory, named
 * by its digest, so a bundle never changes once staged and programs running side by side never disturb each other.
 */
export const STAGE_ROOT = path.resolve(__dirname, "..", "..", ".tpu-sft-ship");

/**
 * Several steps shipped to a host by ONE remote.CopyToRemote: a local directory named `steps`, staged as
 * `<stage root>/<bundle digest>/steps/<step>-<digest>/{lib.sh,<step>.sh}`, whose FileArchive is copied to
 * `remotePath` (`.tpu-sft`). On the host that lays out exactly each step's shipment,
 * `.tpu-sft/steps/<step>-<digest>/<file>`, the paths stepCommand runs.
 *
 * How pulumi-command v1.2.1 copies an archive (read in its source, provider/pkg/provider/remote/copyController.go
 * and copy.go; the hash and diff in pulumi/sdk/v3 go/common/resource/archive/archive.go):
 * - Only a path-based source is accepted (copyController.go, Check): a FileAsset or StringAsset, or a FileArchive
 *   of a file or directory. An AssetArchive fails Check ("archive must be a path to a file or directory").
 * - The path is copied as it is (copyController.go, sftpCopy): a directory recursively (copyDir: one SFTP Mkdir per
 *   missing directory, one Create + write per file, existing files overwritten, nothing deleted); a .tar or .zip
 *   file is sent as one file, not unpacked.
 * - A directory whose path has NO trailing slash is copied INTO remotePath: its files land under
 *   `<remotePath>/<basename of the directory>/`, remotePath being created first (MkdirAll) when missing. (With a
 *   trailing slash its contents would land directly in remotePath.) Hence the directory named `steps`, no trailing
 *   slash, and remotePath `.tpu-sft`. Relative remote paths are relative to the login's home (SFTP).
 * - File modes are not copied: the SFTP open and mkdir requests carry no attributes (pkg/sftp v1.13.6
 *   Client.Create, Client.Mkdir), so the server's defaults apply (OpenSSH: 0666 and 0777 less its umask) and an
 *   overwritten file keeps its mode. Nothing needs one: every step runs as `bash <file>`.
 * - Update copies again only when the source's hash or remotePath changed (copyController.go, Update: needCopy),
 *   and then the whole directory. A directory's hash is the sha256 of a tar of its files with their paths relative
 *   to it, every mode 0600 and no times (archive.go, EnsureHashWithWD, addNextFileToTar), and the diff compares
 *   archives by that hash alone (archive.go, Equals). So restaging identical files gives no diff on the next `up`,
 *   and any changed step script (a new digest, so a new `<step>-<digest>` directory) copies the bundle again.
 * - CopyToRemote has no Delete: a replaced or deleted copy leaves its files on the host.
 */
export interface StepBundle {
    /** The steps it ships, without repeats, in the order asked for. */
    readonly steps: readonly StepName[];
    /** 12 hex digits over its steps' directories (`<step>-<digest>`, each named by its own content). */
    readonly digest: string;
    /** The staged local directory, absolute and named `steps`: the copy's FileArchive (no trailing slash). */
    readonly dir: string;
    /** The copy's remotePath: the parent of REMOTE_STEPS_DIR, relative to the home directory. */
    readonly remotePath: string;
    /** Every file of the bundle: `local` in `dir`, `remote` where the copy puts it on the host. */
    readonly files: readonly ShippedFile[];
}

const BUNDLE_DIR_NAME = path.posix.basename(REMOTE_STEPS_DIR);
const BUNDLE_REMOTE_PATH = path.posix.dirname(REMOTE_STEPS_DIR);

/**
 * The bundle of `steps` with the scripts read from `scriptDir`, staged under `stageRoot` (written once; an existing
 * staged copy is checked file by file and rewritten if it differs).
 */
export function bundleOf(steps: readonly StepName[], scriptDir: string, stageRoot: string): StepBundle {
    const unique = [...new Set(steps)];
    if (unique.length === 0) throw new Error("a step bundle needs at least one step");
    // The bytes read here are the bytes staged: checked against the digest they are shipped under.
    const contents = new Map<string, Buffer>();
    const stepDirs: string[] = [];
    for (const step of unique) {
        const read = ["lib", step].map((name) => ({
            name: `${name}.sh`,
            bytes: fs.readFileSync(path.join(scriptDir, `${name}.sh`)),
        }));
        const stepDir = `${step}-${digestOf(read)}`;
        stepDirs.push(stepDir);
        for (const { name, bytes } of read) contents.set(`${stepDir}/${name}`, bytes);
    }
    const digest = crypto
        .createHash("sha256")
        .update([...stepDirs].sort().join("\n"))
        .digest("hex")
        .slice(0, 12);
    const top = path.join(stageRoot, digest);
    stageDirectory(top, new Map([...contents].map(([rel, bytes]) => [`${BUNDLE_DIR_NAME}/${rel}`, bytes])));
    const dir = path.join(top, BUNDLE_DIR_NAME);
    return {
        steps: unique,
        digest,
        dir,
        remotePath: BUNDLE_REMOTE_PATH,
        files: [...contents.keys()].map((rel) => ({
            local: path.join(dir, ...rel.split("/")),
            remote: `${REMOTE_STEPS_DIR}/${rel}`,
        })),
    };
}

const bundles = new Map<string, StepBundle>();

/** The bundle of `steps` from this checkout's scripts/remote, staged under STAGE_ROOT (once per program). */
export function stepBundle(steps: readonly StepName[]): StepBundle {
    const key = [...new Set(steps)].join(",");
    let bundle = bundles.get(key);
    if (bundle === undefined) {
        bundle = bundleOf(steps, REMOTE_SCRIPT_DIR, STAGE_ROOT);
        for (const step of bundle.steps) {
            if (!bundle.files.some((f) => f.remote === stepShipment(step).script))
                throw new Error(`${REMOTE_SCRIPT_DIR}/${step}.sh changed while the program ran; run it again`);
        }
        bundles.set(key, bundle);
    }
    return bundle;
}

/** Whether `dir` holds exactly `contents` (relative path → bytes): regular files only, nothing more. */
function holds(dir: string, contents: ReadonlyMap<string, Buffer>): boolean {
    const found: string[] = [];
    const walk = (rel: string): boolean => {
        for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const child = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) {
                if (!walk(child)) return false;
            } else if (entry.isFile()) {
                found.push(child);
            } else {
                return false;
            }
        }
        return true;
    };
    try {
        if (!walk("")) return false;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw err;
    }
    return (
        found.length === contents.size &&
        found.every((rel) => {
            const expected = contents.get(rel);
            return expected !== undefined && fs.readFileSync(path.join(dir, rel)).equals(expected);
        })
    );
}

/**
 * Makes `dir` hold exactly `contents`: written into a fresh directory beside it and renamed into place, so a
 * reader (another program staging the same bundle, the engine hashing it) never sees a partial directory.
 */
function stageDirectory(dir: string, contents: ReadonlyMap<string, Buffer>): void {
    if (holds(dir, contents)) return;
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const fresh = fs.mkdtempSync(path.join(path.dirname(dir), ".staging-"));
    try {
        for (const [rel, bytes] of contents) {
            const file = path.join(fresh, ...rel.split("/"));
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, bytes);
        }
        try {
            fs.renameSync(fresh, dir);
        } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
            // Staged meanwhile by another program (the same bytes), or an edited copy: replace only the latter.
            if (!holds(dir, contents)) {
                fs.rmSync(dir, { recursive: true, force: true });
                fs.renameSync(fresh, dir);
            }
        }
    } finally {
        fs.rmSync(fresh, { recursive: true, force: true });
    }
}

/**
 * The command line that runs `step` with `env` as its inputs, stopped on the host after `limitSeconds`
 * (lib.sh re-runs the step under coreutils `timeout`; the provider itself enforces no limit).
 */
export function stepCommand(step: StepName, env: Readonly<Record<string, string>>, limitSeconds: number): string {
    assertInteger(`${step} time limit (seconds)`, limitSeconds, 1);
    const { script } = stepShipment(step);
    const file = `"$HOME/${script}"`;
    const missing = shellQuote(`~/${script} is missing on this host: its copy never reached it (a replaced VM?)`);
    const words = envAssignments({ ...env, STEP_LIMIT_SECONDS: String(limitSeconds) });
    return `[ -f ${file} ] || { echo ${missing} >&2; exit 1; }; ${[...words, "bash", file].join(" ")}`;
}

/** Settings that point `gcloud storage` on the hosts at the bucket endpoint (empty for real GCS). */
export type StorageEnv = Readonly<Record<string, string>>;

/** The Python a step runs: the SOP's conda env, or the host's python3 (the offline rehearsal). */
export interface PythonEnvInputs {
    readonly mode: "conda" | "system-python";
    readonly condaEnv: string;
}

/** PythonEnvInputs as step inputs, checked. */
export function pythonEnv(step: StepName, inputs: PythonEnvInputs): Record<string, string> {
    return {
        ENV_MODE: assertOneOf(`${step}.mode`, inputs.mode, ["conda", "system-python"]),
        CONDA_ENV: assertToolName(`${step}.condaEnv`, inputs.condaEnv),
    };
}
