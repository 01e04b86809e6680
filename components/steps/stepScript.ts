/**
 * The parts every remote step shares. A step is one bash file, `scripts/remote/<step>.sh`, that sources
 * `lib.sh` from its own directory. Both files are copied to each host (remote.CopyToRemote) into
 * `~/.tpu-sft/steps/<step>-<digest>/`, where the digest covers exactly those two files: editing one step's
 * script changes only that step's command, so only that step runs again. The command itself is short: the
 * step's inputs as quoted `NAME=value` words, its time limit, and `bash <its file>`.
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

/** What has to be on a host to run `step`, with the scripts read from `dir`. */
export function shipmentOf(step: StepName, dir: string): StepShipment {
    const local = (name: string) => path.join(dir, `${name}.sh`);
    const hash = crypto.createHash("sha256");
    for (const name of ["lib", step])
        hash.update(`${name}.sh\0`)
            .update(fs.readFileSync(local(name)))
            .update("\0");
    const digest = hash.digest("hex").slice(0, 12);
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
