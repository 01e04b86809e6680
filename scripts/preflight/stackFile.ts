/**
 * The stack's config as `pulumi up` would see it, read from Pulumi.<stack>.yaml without the Pulumi engine and
 * without decrypting anything: secrets count only as set or not (a `secure:` value).
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { CONFIG_NAMESPACE, RawConfig } from "../../components/config/loadConfig";

export class StackFileError extends Error {}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && typeof (value as { secure?: unknown }).secure === "string";
}

/** Plain strings that hold JSON (`pulumi config set key '{...}'`) are parsed, as readStackConfig does. */
function parsed(value: unknown): unknown {
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

export function rawConfigFromStackFile(text: string, stack: string): RawConfig {
    const doc = yaml.load(text) as { config?: Record<string, unknown> } | null;
    const config = doc?.config ?? {};
    const values: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(prefix) && !isSecure(value)) {
            values[key.slice(prefix.length)] = parsed(value);
        }
    }
    const project = config["gcp:project"];
    return {
        stack,
        gcpProject: typeof project === "string" && project !== "" ? project : undefined,
        values,
        secretsSet: {
            wandbApiKey: isSecure(config[`${prefix}wandbApiKey`]),
            sshPrivateKey: isSecure(config[`${prefix}sshPrivateKey`]),
        },
    };
}

/** `stack` may be fully qualified (org/project/name); `configFile` replaces Pulumi.<stack>.yaml in `dir`. */
export function readStackFile(dir: string, stack: string, configFile?: string): RawConfig {
    const name = stack.split("/").pop() as string;
    const file = configFile ?? path.join(dir, `Pulumi.${name}.yaml`);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new StackFileError(
            `no stack config ${file}. Fix: pulumi stack init ${stack}, or run preflight in the project directory (--dir)`,
        );
    }
    return rawConfigFromStackFile(text, name);
}
