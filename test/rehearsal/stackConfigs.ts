// The rehearsal's stack configs: the checked-in Pulumi.train.yaml and Pulumi.eval.yaml with only what
// the local target needs changed (hosts, emulator endpoint, stand-in repos, system Python, short timings).
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { Json } from "./world";

/** One rehearsal host, as hosts.sh prints it. */
export interface HostEntry {
    readonly name: string;
    readonly hostname: string;
    readonly host: string;
    readonly port: number;
    readonly netns: string;
}

export interface HostsJson {
    readonly train: HostEntry[];
    readonly eval: HostEntry[];
    readonly bridge: string;
    readonly subnet: string;
    readonly world: string;
}

export interface Repos {
    readonly mllmJax: { url: string; commit: string };
    readonly miniOneRec: { url: string; commit: string };
}

// Stack config as YAML/JSON values; loadConfig is what checks them.
type Config = Record<string, Json>;

function load(root: string, stack: "train" | "eval"): Config {
    return (yaml.load(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Config }).config;
}

/** The control-plane twin the stacks create their slices through (test/rehearsal/hosts.sh and its state dir). */
export interface ControlPlane {
    readonly control: string;
    readonly stateDir: string;
}

function localise(config: Config, plane: ControlPlane, endpoint: string, repos: Repos, publicKey: string): void {
    config["gcp:project"] = "rehearsal";
    config["tpu-sft:target"] = "local";
    config["tpu-sft:local"] = {
        slice: { control: plane.control, stateDir: plane.stateDir },
        storageEndpoint: endpoint,
    };
    // The rehearsal's checks run `up` again on finished stacks (nothing may change) and inject faults into live
    // slices, so its stacks keep their slices, as the SOP kept its VMs; the reclaim cases set tpu.reclaim themselves.
    config["tpu-sft:tpu"] = { ...config["tpu-sft:tpu"], reclaim: "keep" };
    config["tpu-sft:repos"] = repos;
    config["tpu-sft:env"] = { ...config["tpu-sft:env"], mode: "system-python" };
    config["tpu-sft:ssh"] = { ...config["tpu-sft:ssh"], publicKey, dialErrorLimit: 5, perDialTimeoutSeconds: 5 };
}

export function trainConfig(
    root: string,
    plane: ControlPlane,
    endpoint: string,
    repos: Repos,
    publicKey: string,
): Config {
    const config = load(root, "train");
    localise(config, plane, endpoint, repos, publicKey);
    const train = config["tpu-sft:train"];
    // pollSeconds is how often each worker's wait looks for its peers' failure markers in the bucket (one gcloud
    // call, ~0.8 s of CPU); the job itself is polled every second whatever it says.
    config["tpu-sft:train"] = { ...train, pollSeconds: 5, progressSeconds: 2, graceSeconds: 2, timeLimitMinutes: 10 };
    // Industrial hands off both kinds, so the rehearsal can later switch an eval run to the other one.
    config["tpu-sft:train"].runs = train.runs.map((r: Config) =>
        r.name === "industrial" ? { ...r, checkpoints: ["best", "last"] } : r,
    );
    return config;
}

export function evalConfig(
    root: string,
    plane: ControlPlane,
    endpoint: string,
    repos: Repos,
    publicKey: string,
    trainStack: string,
): Config {
    const config = load(root, "eval");
    localise(config, plane, endpoint, repos, publicKey);
    config["tpu-sft:eval"] = {
        ...config["tpu-sft:eval"],
        trainStack,
        pollSeconds: 1,
        progressSeconds: 2,
        graceSeconds: 2,
        timeLimitMinutes: 10,
    };
    return config;
}

/** Phase 4's change: the Industrial eval run evaluates the best checkpoint instead of the last one. */
export function switchIndustrialToBest(config: Config): Config {
    const next = JSON.parse(JSON.stringify(config)) as Config;
    next["tpu-sft:eval"].runs = next["tpu-sft:eval"].runs.map((r: Config) =>
        r.name === "industrial"
            ? {
                  ...r,
                  checkpoint: "best",
                  config: r.config.replace("eval_from_last", "eval_from_best"),
                  outputDir: r.outputDir.replace("eval_from_last", "eval_from_best"),
              }
            : r,
    );
    return next;
}

/**
 * Writes a stack config file; an existing file keeps its other top-level keys (the secrets' encryption
 * salt) and its encrypted values, so a rewritten config still decrypts.
 */
export function writeConfig(file: string, config: Config): void {
    const doc: Config = fs.existsSync(file) ? ((yaml.load(fs.readFileSync(file, "utf8")) as Config) ?? {}) : {};
    const secrets = Object.fromEntries(
        Object.entries((doc.config ?? {}) as Config).filter(
            ([, v]) => v !== null && typeof v === "object" && "secure" in v,
        ),
    );
    doc.config = { ...config, ...secrets };
    fs.writeFileSync(file, yaml.dump(doc, { lineWidth: 200 }));
}
