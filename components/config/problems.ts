/**
 * How a configuration problem is reported: the full key as `pulumi config` spells it, the value as the program
 * received it, what is wrong, and the command or edit that fixes it. ConfigError carries every problem at once.
 */
import { RunError } from "@pulumi/pulumi/errors";
import { shellQuote } from "../shell/quote";

/** The namespace of this program's config keys (the Pulumi project name). */
export const CONFIG_NAMESPACE = "tpu-sft";

export interface ConfigProblem {
    /** Full key, e.g. `tpu-sft:tpu.zone` or `tpu-sft:train.runs[1].outputDir`. */
    readonly key: string;
    /** The offending value as JSON (NaN and Infinity as such), `(unset)` or `(set)` for a secret. */
    readonly value: string;
    readonly problem: string;
    /** What to run or change. */
    readonly fix: string;
}

/** A RunError, so the engine prints just this message (no stack trace) when the program stops on it. */
export class ConfigError extends RunError {
    constructor(
        readonly problems: readonly ConfigProblem[],
        /** Not `stack`: that would replace Error.stack, which the language host prints. */
        readonly stackName: string,
    ) {
        super(
            `invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p.key} = ${p.value}: ${p.problem}.\n    Fix: ${p.fix}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** A position in the config: object keys and array indexes below the namespace. */
export type ConfigPath = readonly (string | number)[];

/**
 * The `--path` spelling Pulumi parses: `a.b`, `a[0]`, and `a["x.y"]` for a key that a dot or bracket would
 * split (pulumi's resource.ParsePropertyPath).
 */
export function pathText(path: ConfigPath): string {
    let text = "";
    for (const segment of path) {
        if (typeof segment === "number") {
            text += `[${segment}]`;
        } else if (segment === "" || /[.[\]"\s]/.test(segment)) {
            text += `[${JSON.stringify(segment)}]`;
        } else {
            text += text === "" ? segment : `.${segment}`;
        }
    }
    return text;
}

export function keyOf(path: ConfigPath): string {
    return `${CONFIG_NAMESPACE}:${pathText(path)}`;
}

/** JSON, except that NaN, Infinity and -Infinity appear as themselves instead of JSON's `null`. */
export function describeValue(value: unknown): string {
    if (value === undefined) return "(unset)";
    const text = render(value);
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function render(value: unknown): string {
    if (typeof value === "number") {
        return Number.isFinite(value) ? JSON.stringify(value) : String(value);
    }
    if (Array.isArray(value)) {
        return `[${value.map((v) => (v === undefined ? "null" : render(v))).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(",")}}`;
    }
    return JSON.stringify(value) ?? String(value);
}

/** The commands a fix names, for one stack; every word is shell-quoted so the command can be pasted. */
export class FixCommands {
    constructor(readonly stack: string) {}

    /** `pulumi config set --path <path> <value> --stack <stack>` (a top-level key needs no --path). */
    set(path: ConfigPath, value: string): string {
        const key = path.length === 1 ? String(path[0]) : `--path ${shellQuote(pathText(path))}`;
        return `pulumi config set ${key} ${arg(value)} --stack ${shellQuote(this.stack)}`;
    }

    /** `pulumi config rm --path <path> --stack <stack>` */
    rm(path: ConfigPath): string {
        return `pulumi config rm --path ${shellQuote(pathText(path))} --stack ${shellQuote(this.stack)}`;
    }

    /** Removes a top-level key exactly as stored (a dotted name is one key here, not a path). */
    rmKey(name: string): string {
        return `pulumi config rm ${shellQuote(`${CONFIG_NAMESPACE}:${name}`)} --stack ${shellQuote(this.stack)}`;
    }

    secret(name: string, value: string): string {
        return `pulumi config set --secret ${CONFIG_NAMESPACE}:${name} ${arg(value)} --stack ${shellQuote(this.stack)}`;
    }

    /** Where a list or object is best edited by hand. */
    file(): string {
        return `Pulumi.${this.stack}.yaml`;
    }
}

/** Quotes a value for a pasted command (placeholders such as `<value>` are left as they are). */
export function arg(value: string): string {
    return /^<[^<>]*>$/.test(value) ? value : shellQuote(value);
}
