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

/** The deploying machine's address, which every user sets like gcp:project (the stack files name none). */
export const DEPLOYER_RANGES = ["198.51.100.7/32"];

/** A stack file's values: untyped YAML that tests reshape freely, the way users edit it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the point is to write any shape, valid or not
export type StackValues = Record<string, any>;

/** What a user sets before `pulumi up` beyond the checked-in file: the firewall's source ranges. */
export function withUserSettings(values: StackValues): StackValues {
    const tpu = (values.tpu ?? {}) as StackValues;
    values.tpu = { ...tpu, firewall: { ...(tpu.firewall ?? {}), sourceRanges: [...DEPLOYER_RANGES] } };
    return values;
}
