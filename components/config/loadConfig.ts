/**
 * Pure config loading: raw Pulumi config values in, a validated and derived StackConfig out, or one
 * ConfigError that lists every problem at once (key, value, fix) before any resource exists.
 */
import { z } from "zod";
import {
    AcceleratorShape,
    RUNTIMES_BY_GENERATION,
    ZONES_BY_GENERATION,
    knownAcceleratorTypes,
    parseAcceleratorType,
} from "./accelerators";
import { StackSchemaOutput, stackSchema } from "./schema";

/** The namespace of this program's config keys (the Pulumi project name). */
export const CONFIG_NAMESPACE = "tpu-sft";

export interface ConfigProblem {
    /** Full key, e.g. `tpu-sft:tpu.zone`. */
    readonly key: string;
    /** The offending value as JSON, or `(unset)`. */
    readonly value: string;
    readonly problem: string;
    /** What to run or change. */
    readonly fix: string;
}

export class ConfigError extends Error {
    constructor(
        readonly problems: readonly ConfigProblem[],
        readonly stack: string,
    ) {
        super(
            `invalid configuration for stack "${stack}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p.key} = ${p.value}: ${p.problem}.\n    Fix: ${p.fix}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export interface RawConfig {
    readonly stack: string;
    /** `gcp:project`, or undefined when unset. */
    readonly gcpProject: string | undefined;
    /** Every `tpu-sft:*` key, its value parsed from JSON where it is JSON. */
    readonly values: Readonly<Record<string, unknown>>;
    /** Which secrets are set; their values stay Pulumi secrets and never pass through here. */
    readonly secretsSet: { readonly wandbApiKey: boolean; readonly sshPrivateKey: boolean };
}

export interface StackConfig extends StackSchemaOutput {
    readonly stack: string;
    readonly gcpProject: string;
    readonly shape: AcceleratorShape;
    readonly region: string;
    readonly vmName: string;
    readonly bucketName: string;
    readonly bucketLocation: string;
    /** True when the program must generate the SSH key pair. */
    readonly generateSshKey: boolean;
}

export function loadConfig(raw: RawConfig): StackConfig {
    const problems: ConfigProblem[] = [];
    const add = (path: string, problem: string, fix: string, value?: unknown) =>
        problems.push({
            key: keyOf(path),
            value: describeValue(value !== undefined ? value : valueAt(raw.values, path)),
            problem,
            fix,
        });

    if (!raw.gcpProject) {
        problems.push({
            key: "gcp:project",
            value: "(unset)",
            problem: "the GCP project is not set (it is never hard-coded)",
            fix: `pulumi config set gcp:project <your-project-id> --stack ${raw.stack}`,
        });
    }

    const parsed = stackSchema.safeParse(raw.values);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            const path = issue.path.map(String).join(".");
            add(path, issueText(issue), fixFor(path, raw.stack));
        }
        throw new ConfigError(problems, raw.stack);
    }
    const cfg = parsed.data;
    const set = (path: string, example: string) => `pulumi config set --path ${path} ${example} --stack ${raw.stack}`;

    const shape = parseAcceleratorType(cfg.tpu.acceleratorType);
    if (!shape) {
        add(
            "tpu.acceleratorType",
            "is not a known TPU accelerator type",
            `${set("tpu.acceleratorType", "v6e-16")} (known: ${knownAcceleratorTypes().join(", ")})`,
        );
    } else {
        const zones = ZONES_BY_GENERATION[shape.generation];
        if (!cfg.tpu.skipZoneCheck && cfg.target === "gcp" && !zones.includes(cfg.tpu.zone)) {
            add(
                "tpu.zone",
                `does not offer ${shape.generation} TPUs`,
                `${set("tpu.zone", zones[0])} (${shape.generation} zones: ${zones.join(", ")}), or set tpu.skipZoneCheck true for a newer zone`,
            );
        }
        const runtimes = RUNTIMES_BY_GENERATION[shape.generation];
        if (!runtimes.includes(cfg.tpu.runtimeVersion)) {
            add(
                "tpu.runtimeVersion",
                `is not a runtime for ${shape.generation}`,
                set("tpu.runtimeVersion", runtimes[0]) + ` (allowed: ${runtimes.join(", ")})`,
            );
        }
    }
    if (cfg.tpu.adopt && !cfg.tpu.name) {
        add(
            "tpu.name",
            "must name the existing VM when tpu.adopt is true",
            set("tpu.name", "<existing-vm-name>"),
            "(unset)",
        );
    }
    if (cfg.tpu.adopt && !raw.secretsSet.sshPrivateKey) {
        add(
            "tpu.adopt",
            "an adopted VM keeps its own metadata, so the program cannot install a generated SSH key on it",
            `pulumi config set --secret sshPrivateKey < key-file --stack ${raw.stack} and set ssh.publicKey to a key the VM already accepts`,
            true,
        );
    }
    if (cfg.ssh.publicKey && !raw.secretsSet.sshPrivateKey) {
        add(
            "ssh.publicKey",
            "is set but the sshPrivateKey secret is not",
            `pulumi config set --secret sshPrivateKey < key-file --stack ${raw.stack}, or remove ssh.publicKey to let the program generate a key`,
            "(set)",
        );
    }
    if (!cfg.ssh.publicKey && raw.secretsSet.sshPrivateKey) {
        add(
            "ssh.publicKey",
            "must be set when the sshPrivateKey secret is given",
            set("ssh.publicKey", "'ssh-ed25519 AAAA… user'"),
            "(unset)",
        );
    }
    if (cfg.wandb.mode === "online" && !raw.secretsSet.wandbApiKey) {
        problems.push({
            key: keyOf("wandbApiKey"),
            value: "(unset)",
            problem: "W&B mode is online but the API key secret is not set",
            fix: `pulumi config set --secret ${CONFIG_NAMESPACE}:wandbApiKey <key> --stack ${raw.stack}, or ${set("wandb.mode", "disabled")}`,
        });
    }
    if (cfg.target === "local" && !cfg.local) {
        add(
            "local",
            "must list the hosts and the storage endpoint when target is local",
            set("local.hosts[0].host", "10.0.0.2"),
            "(unset)",
        );
    }
    if (cfg.target === "local" && cfg.local && shape && cfg.local.hosts.length !== shape.hosts) {
        add(
            "local.hosts",
            `lists ${cfg.local.hosts.length} hosts but ${shape.type} has ${shape.hosts}`,
            `list exactly ${shape.hosts} hosts under local.hosts, one per worker`,
        );
    }

    if (cfg.role === "train") {
        if (!cfg.train) {
            add("train", "is required for a train stack", set("train.runs[0].name", "office"), "(unset)");
        } else {
            checkUnique(
                cfg.train.runs.map((r) => r.name),
                "train.runs",
                "name",
                add,
                set,
            );
            checkUnique(
                cfg.train.runs.map((r) => r.outputDir),
                "train.runs",
                "outputDir",
                add,
                set,
            );
        }
    }

    if (cfg.role === "eval") {
        if (!cfg.eval) {
            add(
                "eval",
                "is required for an eval stack",
                set("eval.trainStack", "organization/tpu-sft/train"),
                "(unset)",
            );
        } else {
            const sources = [cfg.eval.trainStack, cfg.eval.checkpoints].filter((s) => s !== undefined).length;
            if (sources !== 1) {
                add(
                    "eval.trainStack",
                    sources === 0
                        ? "names no source of checkpoints"
                        : "and eval.checkpoints are both set; choose one source",
                    `${set("eval.trainStack", "organization/tpu-sft/train")}, or list explicit gs:// checkpoints under eval.checkpoints`,
                );
            }
            checkUnique(
                cfg.eval.runs.map((r) => r.name),
                "eval.runs",
                "name",
                add,
                set,
            );
            checkUnique(
                cfg.eval.runs.map((r) => r.outputDir),
                "eval.runs",
                "outputDir",
                add,
                set,
            );
            if (cfg.eval.checkpoints) {
                cfg.eval.runs.forEach((run, i) => {
                    if (!cfg.eval?.checkpoints?.[run.trainRun]?.[run.checkpoint]) {
                        add(
                            `eval.runs.${i}.trainRun`,
                            `has no '${run.checkpoint}' checkpoint under eval.checkpoints`,
                            set(
                                `eval.checkpoints.${run.trainRun}.${run.checkpoint}.uri`,
                                "gs://bucket/prefix/run/sft_state_best.msgpack",
                            ),
                            run.trainRun,
                        );
                    }
                });
            }
        }
    }

    const region = cfg.tpu.zone.replace(/-[a-z]$/, "");
    const bucketName = cfg.bucket.name ?? `${raw.gcpProject ?? "project"}-mllm-jax-artifacts`;
    const bucketProblem = checkBucketName(bucketName);
    if (bucketProblem) {
        add("bucket.name", bucketProblem, set("bucket.name", "my-project-mllm-jax-artifacts"), bucketName);
    }

    if (problems.length > 0) {
        throw new ConfigError(problems, raw.stack);
    }
    return {
        ...cfg,
        stack: raw.stack,
        gcpProject: raw.gcpProject as string,
        shape: shape as AcceleratorShape,
        region,
        vmName:
            cfg.tpu.name ??
            `mllm-jax-${cfg.tpu.acceleratorType}-${raw.stack}`
                .toLowerCase()
                .replace(/[^a-z0-9-]/g, "-")
                .slice(0, 63),
        bucketName,
        bucketLocation: cfg.bucket.location ?? region.toUpperCase(),
        generateSshKey: !raw.secretsSet.sshPrivateKey,
    };
}

/** GCS bucket naming rules (cloud.google.com/storage/docs/buckets#naming), for names without dots. */
export function checkBucketName(name: string): string | undefined {
    if (name.length < 3 || name.length > 63) return `must be 3-63 characters long (got ${name.length})`;
    if (!/^[a-z0-9][a-z0-9_.-]*[a-z0-9]$/.test(name))
        return "must use lowercase letters, digits, '-', '_' or '.', and start and end with a letter or digit";
    if (name.startsWith("goog") || name.includes("google")) return "must not start with 'goog' or contain 'google'";
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not look like an IP address";
    return undefined;
}

function checkUnique(
    values: readonly string[],
    listPath: string,
    field: string,
    add: (path: string, problem: string, fix: string, value?: unknown) => void,
    set: (path: string, example: string) => string,
): void {
    const seen = new Map<string, number>();
    values.forEach((value, index) => {
        const first = seen.get(value);
        if (first !== undefined) {
            add(
                `${listPath}.${index}.${field}`,
                `repeats ${listPath}[${first}].${field}`,
                set(`${listPath}[${index}].${field}`, `<another-${field}>`),
                value,
            );
        } else {
            seen.set(value, index);
        }
    });
}

function keyOf(path: string): string {
    return `${CONFIG_NAMESPACE}:${path.replace(/\.(\d+)(?=\.|$)/g, "[$1]")}`;
}

function valueAt(values: Readonly<Record<string, unknown>>, path: string): unknown {
    let current: unknown = values;
    for (const part of path.split(".").filter((p) => p !== "")) {
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string, unknown>)[part];
    }
    return current;
}

function describeValue(value: unknown): string {
    if (value === undefined) return "(unset)";
    if (value === "(unset)" || value === "(set)") return value;
    const text = JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function issueText(issue: z.core.$ZodIssue): string {
    if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
        return "is required";
    }
    return issue.message.replace(/^Invalid input: /, "").replace(/^Invalid option: /, "");
}

function fixFor(path: string, stack: string): string {
    const examples: Record<string, string> = {
        role: "train",
        "tpu.zone": "us-east5-b",
        "tpu.acceleratorType": "v6e-16",
        "tpu.runtimeVersion": "v6e-ubuntu-2404",
        "tpu.provisioning": "spot",
        "repos.mllmJax.commit": "03455fc",
        "repos.miniOneRec.commit": "81b4ba9",
        "wandb.mode": "online",
    };
    const generic = path.replace(/\.(\d+)(?=\.|$)/g, "[$1]");
    const example = examples[path] ?? "<value>";
    return `pulumi config set --path ${generic} ${example} --stack ${stack} (see Pulumi.${stack === "eval" ? "eval" : "train"}.yaml for the documented defaults)`;
}
