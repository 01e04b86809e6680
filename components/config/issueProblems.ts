/**
 * A zod issue as a config problem: the key as `pulumi config` spells it, the value, what is wrong in words a
 * user acts on (an unknown key with its did-you-mean, a list given as text, an enum with its options), and a fix.
 */
import { z } from "zod";
import { canonicalAcceleratorType } from "./accelerators";
import { Checker } from "./checker";
import { exampleFor } from "./examples";
import { knownKeysAt, parsePath, suggestKey } from "./keyTree";
import { arg, ConfigPath, describeValue, pathText } from "./problems";
import { CALC_TOPK_LIST } from "./schema";
import { didYouMean } from "./suggest";

export function reportIssue(c: Checker, path: (string | number)[], issue: z.core.$ZodIssue): void {
    const value = c.at(path);
    switch (issue.code) {
        case "unrecognized_keys":
            for (const key of issue.keys) reportUnknownKey(c, path, key);
            return;
        case "invalid_type": {
            if (value === undefined) {
                c.add(path, "is required", c.setFix(path));
                return;
            }
            const custom = !issue.message.startsWith("Invalid input");
            c.add(
                path,
                custom ? issue.message : typeProblem(c, path, issue.expected, value),
                custom ? c.setFix(path) : typeFix(c, path, issue.expected, value),
            );
            return;
        }
        case "invalid_value": {
            const options = issue.values.map(String);
            const guess = typeof value === "string" ? didYouMean(value, options) : undefined;
            const fallback = didYouMean(c.stack, options) ?? exampleFor(path) ?? options[0];
            c.add(
                path,
                value === undefined
                    ? `is required (one of ${options.join(", ")})`
                    : `must be one of ${options.join(", ")}${guess ? ` (did you mean ${guess}?)` : ""}`,
                c.fix.set(path, guess ?? fallback),
            );
            return;
        }
        default:
            c.add(path, issue.message.replace(/^Invalid input: /, ""), customFix(c, path, issue));
    }
}

function reportUnknownKey(c: Checker, parent: (string | number)[], key: string): void {
    const path = [...parent, key];
    const suggestion = suggestKey(parent, key);
    const value = c.at(path);
    const known = knownKeysAt(parent) ?? [];
    const scalar = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    c.add(
        path,
        `is not a known key${suggestion ? ` (did you mean ${suggestion}?)` : ""}`,
        suggestion
            ? scalar
                ? `${c.fix.rm(path)} && ${c.fix.set(parsePath(suggestion) ?? [suggestion], String(value))}`
                : `rename ${pathText(path)} to ${suggestion} in ${c.fix.file()}`
            : `${c.fix.rm(path)} (known keys of ${pathText(parent)}: ${known.join(", ")})`,
    );
}

/** The fix for a failed check: remove a repeat, rename a bad map key, set a value. */
function customFix(c: Checker, path: (string | number)[], issue: z.core.$ZodIssue): string {
    const topk = path.indexOf("topk");
    if (topk >= 0) {
        return `set ${pathText(path.slice(0, topk + 1))} to [${CALC_TOPK_LIST.join(", ")}] or a prefix of it, in ${c.fix.file()}`;
    }
    if (issue.message.startsWith("repeats ")) return c.fix.rm(path);
    if (/^a (label key|run name) /.test(issue.message)) {
        return `rename ${pathText(path)} in ${c.fix.file()} (${issue.message})`;
    }
    if (issue.code === "too_small" && Array.isArray(c.at(path))) {
        const example = exampleFor([...path, 0]);
        if (example !== undefined) return c.fix.set([...path, 0], example);
    }
    if (path.length === 2 && path[0] === "tpu" && path[1] === "acceleratorType") {
        const canonical = typeof c.at(path) === "string" ? canonicalAcceleratorType(String(c.at(path))) : undefined;
        if (canonical) return c.fix.set(path, canonical);
    }
    return c.setFix(path);
}

function typeName(value: unknown): string {
    if (Array.isArray(value)) return "a list";
    if (value === null) return "null";
    if (typeof value === "object") return "an object";
    if (typeof value === "number") return Number.isInteger(value) ? "a whole number" : "a number";
    return `a ${typeof value === "string" ? "string" : typeof value}`;
}

function typeProblem(c: Checker, path: ConfigPath, expected: string, value: unknown): string {
    if (expected === "object" || expected === "record") {
        if (path.length === 1 && path[0] === "project" && typeof value === "string") {
            return "must be an object with enableServices, not a project ID (did you mean gcp:project?)";
        }
        return `must be an object of keys (got ${typeName(value)})`;
    }
    if (expected === "array") {
        if (typeof value === "string" && value.trim().startsWith("[")) {
            return "is the text of a list, not a list (pulumi config set --path stores text; set each item by index)";
        }
        return `must be a list (got ${typeName(value)})`;
    }
    if (expected === "string") {
        return typeof value === "number" && !Number.isInteger(value)
            ? `must be text, not the number ${describeValue(value)} (quote it in ${c.fix.file()})`
            : `must be text (got ${typeName(value)})`;
    }
    if (expected === "boolean") return `must be true or false (got ${typeName(value)})`;
    return `must be ${expected} (got ${typeName(value)})`;
}

function typeFix(c: Checker, path: ConfigPath, expected: string, value: unknown): string {
    if (path.length === 1 && path[0] === "project" && typeof value === "string") {
        return `${c.fix.rmKey("project")} && pulumi config set gcp:project ${arg(value)} --stack ${c.stack}`;
    }
    if (expected === "array") {
        const example = exampleFor([...path, 0]) ?? "<value>";
        return `${c.fix.rm(path)} && ${c.fix.set([...path, 0], example)} (one command per item), or edit ${pathText(path)} in ${c.fix.file()}`;
    }
    if (expected === "object" || expected === "record") {
        return `set its keys with --path (e.g. ${c.fix.set([...path, knownKeysAt(path)?.[0] ?? "<key>"], "<value>")}), or edit ${pathText(path)} in ${c.fix.file()}`;
    }
    return c.setFix(path);
}
