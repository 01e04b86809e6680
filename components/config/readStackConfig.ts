/**
 * Reads this stack's Pulumi config and hands it to the pure loader. Secrets stay Pulumi secrets: only
 * whether they are set reaches loadConfig.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, loadConfig, StackConfig } from "./loadConfig";

const KEYS = [
    "role",
    "target",
    "tpu",
    "ssh",
    "repos",
    "env",
    "bucket",
    "wandb",
    "train",
    "eval",
    "local",
    "project",
] as const;

export interface StackSecrets {
    readonly wandbApiKey?: pulumi.Output<string>;
    readonly sshPrivateKey?: pulumi.Output<string>;
}

export function readStackConfig(): { config: StackConfig; secrets: StackSecrets } {
    const ours = new pulumi.Config(CONFIG_NAMESPACE);
    const values: Record<string, unknown> = {};
    for (const key of KEYS) {
        const text = ours.get(key);
        if (text === undefined) continue;
        try {
            values[key] = JSON.parse(text);
        } catch {
            values[key] = text;
        }
    }
    const secrets: StackSecrets = {
        wandbApiKey: ours.getSecret("wandbApiKey"),
        sshPrivateKey: ours.getSecret("sshPrivateKey"),
    };
    const config = loadConfig({
        stack: pulumi.getStack(),
        gcpProject: new pulumi.Config("gcp").get("project"),
        values,
        secretsSet: {
            wandbApiKey: secrets.wandbApiKey !== undefined,
            sshPrivateKey: secrets.sshPrivateKey !== undefined,
        },
    });
    return { config, secrets };
}
