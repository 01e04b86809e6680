// The checked-in Pulumi.train.yaml, as the values loadConfig receives, so tests exercise what users run.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export function stackFileValues(stack: "train" | "eval"): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config)) {
        if (key.startsWith("tpu-sft:")) values[key.slice("tpu-sft:".length)] = value;
    }
    return values;
}

/** Pulumi config as `pulumi config` stores it: every value a string, objects as JSON. */
export function asPulumiConfig(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(
        Object.entries(values).map(([k, v]) => [`tpu-sft:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    );
}

export function clone<T>(value: T): T {
    return JSON.parse(JSON.stringify(value)) as T;
}
