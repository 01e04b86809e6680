// The checked-in stack files, as the values loadConfig receives, and a way to hand any config to the program
// exactly as the Pulumi engine does, so tests exercise what users run.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
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

/**
 * Pulumi config as the engine hands it to the program (pkg/resource/deploy: Config.Decrypt, then
 * Plaintext.marshalText): every value a string; a string as it is; anything else (an object set with --path or
 * written as a YAML map, a number, a boolean) as its JSON text.
 */
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

export interface EngineOptions {
    /** The stack name `pulumi.getStack()` returns; defaults to the stack file's name. */
    readonly stackName?: string;
    /** gcp:project; null leaves it unset. Defaults to my-proj. */
    readonly gcpProject?: string | null;
    /** Secret values to set; each is listed as secret unless named in `plaintext`. Default: a W&B key. */
    readonly secrets?: { readonly wandbApiKey?: string; readonly sshPrivateKey?: string };
    /** Secrets stored without --secret (the engine does not list them as secret). */
    readonly plaintext?: readonly string[];
    /** Further keys the engine lists as secret (full keys, e.g. tpu-sft:tpu). */
    readonly secretKeys?: readonly string[];
    /** Extra raw engine entries, exactly as the engine would pass them (e.g. a dotted key, or hand-written JSON). */
    readonly extra?: Readonly<Record<string, string>>;
}

const NO_RESOURCES: pulumi.runtime.Mocks = {
    newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
    call: (args) => args.inputs,
};

/**
 * Sets the engine's config (and the stack name) for `values`, then runs the program's own readStackConfig,
 * the path `pulumi up` takes.
 */
export async function readThroughEngine(
    stack: "train" | "eval",
    values: Record<string, unknown>,
    options: EngineOptions = {},
) {
    await pulumi.runtime.setMocks(NO_RESOURCES, "tpu-sft", options.stackName ?? stack, true);
    const secrets = options.secrets ?? { wandbApiKey: "k0123456789" };
    const entries: Record<string, string> = { ...asPulumiConfig(values) };
    if (options.gcpProject !== null) entries["gcp:project"] = options.gcpProject ?? "my-proj";
    const secretKeys: string[] = [...(options.secretKeys ?? [])];
    for (const [name, value] of Object.entries(secrets)) {
        if (value === undefined) continue;
        entries[`tpu-sft:${name}`] = value;
        if (!options.plaintext?.includes(name)) secretKeys.push(`tpu-sft:${name}`);
    }
    Object.assign(entries, options.extra ?? {});
    pulumi.runtime.setAllConfig(entries, secretKeys);
    const { readStackConfig } = await import("../../components/config/readStackConfig");
    return readStackConfig();
}
