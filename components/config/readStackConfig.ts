/**
 * Reads this stack's Pulumi config as the engine gives it (every key, including unknown and dotted ones) and
 * hands it to the pure loader. Secrets stay Pulumi secrets: only whether they are set reaches loadConfig.
 */
import * as pulumi from "@pulumi/pulumi";
import { decodeEngineConfig } from "./engineConfig";
import { CONFIG_NAMESPACE, loadConfig, StackConfig } from "./loadConfig";

export interface StackSecrets {
    readonly wandbApiKey?: pulumi.Output<string>;
    readonly sshPrivateKey?: pulumi.Output<string>;
}

/**
 * The engine's list of secret keys. @pulumi/pulumi keeps `isConfigSecret` out of its typings (it is marked
 * internal), so it is looked up at run time; without it every key counts as not secret and the check that the
 * W&B and SSH keys are encrypted is skipped, never failed.
 */
function secretKeyTest(): ((key: string) => boolean) | undefined {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: unknown };
    const test = runtimeConfig.isConfigSecret;
    return typeof test === "function" ? (key: string) => Boolean(test(key)) : undefined;
}

export function readStackConfig(): { config: StackConfig; secrets: StackSecrets } {
    const isSecret = secretKeyTest();
    const raw = decodeEngineConfig(pulumi.getStack(), {
        all: pulumi.runtime.allConfig(),
        isSecret: isSecret ?? (() => false),
    });
    const config = loadConfig(isSecret ? raw : { ...raw, secretKeys: undefined });
    const ours = new pulumi.Config(CONFIG_NAMESPACE);
    const secrets: StackSecrets = {
        wandbApiKey: ours.getSecret("wandbApiKey"),
        sshPrivateKey: ours.getSecret("sshPrivateKey"),
    };
    return { config, secrets };
}
