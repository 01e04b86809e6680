/**
 * The stack's config as the Pulumi engine hands it to the program: one flat map of `namespace:key` to string.
 * A value set with `--path` (or written as a YAML map or list) arrives as the JSON text of the whole top-level
 * object; a plain value arrives as its text; a nested key set without `--path` arrives as one key with a dotted
 * name (`tpu-sft:tpu.zone`); secrets arrive decrypted, their keys listed as secret.
 */
import { CONFIG_NAMESPACE } from "./problems";
import { OBJECT_SECTIONS, SECRET_KEYS, SecretKey } from "./schema";
import type { RawConfig } from "./stackConfig";

export interface EngineConfig {
    /** `pulumi.runtime.allConfig()`: every key of every namespace. */
    readonly all: Readonly<Record<string, string>>;
    /** Whether the engine marks a full key as secret. */
    readonly isSecret: (key: string) => boolean;
}

/** Everything loadConfig needs, with the secrets' values left out (only whether each is set). */
export function decodeEngineConfig(stack: string, config: EngineConfig): RawConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    const secretsSet: Record<SecretKey, boolean> = { wandbApiKey: false, sshPrivateKey: false };
    for (const [key, text] of Object.entries(config.all)) {
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(prefix.length);
        if (config.isSecret(key)) secretKeys.push(name);
        if ((SECRET_KEYS as readonly string[]).includes(name)) {
            secretsSet[name as SecretKey] = true;
            continue;
        }
        values[name] = decodeValue(name, text);
    }
    return { stack, gcpProject: config.all["gcp:project"], values, secretsSet, secretKeys: secretKeys.sort() };
}

/** An object key's JSON text parsed (left as text when it is not JSON); any other key's text as it is. */
function decodeValue(name: string, text: string): unknown {
    const objectKey = (OBJECT_SECTIONS as readonly string[]).includes(name);
    if (!objectKey && !/^\s*[[{]/.test(text)) return text;
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}
