/**
 * What the config checks share: the raw values, typed picks of the values that are valid on their own, the fix
 * commands for this stack, and the one problem list (a problem is reported once per key and text).
 */
import { z } from "zod";
import { exampleFor } from "./examples";
import { knownKeysAt } from "./keyTree";
import { ConfigPath, ConfigProblem, describeValue, FixCommands, keyOf, pathText } from "./problems";
import type { RawConfig } from "./stackConfig";

/** What the checks share: the raw values, typed picks of valid values, and the problem list. */
export class Checker {
    readonly problems: ConfigProblem[] = [];
    readonly fix: FixCommands;

    constructor(readonly raw: RawConfig) {
        this.fix = new FixCommands(raw.stack);
    }

    get stack(): string {
        return this.raw.stack;
    }

    /** The raw value at a path, undefined when absent. */
    at(path: ConfigPath): unknown {
        let current: unknown = this.raw.values;
        for (const segment of path) {
            if (current === null || typeof current !== "object") return undefined;
            current = (current as Record<string | number, unknown>)[segment];
        }
        return current;
    }

    /** The value at `path` parsed by `schema` (defaults applied), or undefined when it is not valid. */
    pick<S extends z.ZodType>(schema: S, path: ConfigPath): z.output<S> | undefined {
        const result = schema.safeParse(this.at(path));
        return result.success ? result.data : undefined;
    }

    /** A problem with the key at `path`; the value shown is the raw value there unless `value` says otherwise. */
    add(path: ConfigPath, problem: string, fix: string, value?: string): void {
        this.addKey(keyOf(path), value ?? describeValue(this.at(path)), problem, fix);
    }

    addKey(key: string, value: string, problem: string, fix: string): void {
        if (!this.problems.some((p) => p.key === key && p.problem === problem)) {
            this.problems.push({ key, value, problem, fix });
        }
    }

    /** The usual fix for a value at `path`: set it to the example (or `<value>`), or edit the file for a list. */
    setFix(path: ConfigPath): string {
        const example = exampleFor(path);
        if (example !== undefined) return this.fix.set(path, example);
        if (knownKeysAt(path) !== undefined || Array.isArray(this.at(path))) {
            return `edit ${pathText(path)} in ${this.fix.file()}`;
        }
        return this.fix.set(path, "<value>");
    }
}
