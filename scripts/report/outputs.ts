/**
 * The eval stack's outputs as the report reads them: the zod schema of `evalRuns`, and the two ways to obtain them
 * (`pulumi stack output --stack <stack> --json` as a child process, or a file holding that same JSON).
 *
 * Every problem is a ReportInputError with a one-line message that names the run and the field, so the CLI can print
 * it as is and exit with 2.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";

import { z } from "zod";

import { checkpointRefSchema } from "../../components/checkpointRef";
import { StackCost, stackCostSchema } from "../../components/lifecycle/stackCost";

/** A problem with the report's input (arguments, pulumi, the outputs JSON). The CLI prints it and exits with 2. */
export class ReportInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ReportInputError";
    }
}

/** What `pulumi stack output --json` prints for a secret output when --show-secrets is not given. */
const SECRET_PLACEHOLDER = "[secret]";

const metric = z.number().min(0).max(1);
const count = z.number().int().nonnegative();

/** HR@K or NDCG@K keyed by K as a string: {"1": 0.088, "3": 0.121, ...}. Keys are checked against `k` below. */
const metricByK = z.record(z.string(), metric);

export const evalRunSchema = z
    .object({
        n: count,
        invalid: count,
        k: z
            .array(z.number().int().positive())
            .min(1)
            .refine((ks) => new Set(ks).size === ks.length, "must not repeat a K"),
        hr: metricByK,
        ndcg: metricByK,
        wandbUrl: z.string(),
        checkpoint: checkpointRefSchema,
        artifacts: z.record(z.string(), z.string()),
        agreement: z.object({ agree: z.boolean(), maxAbsDiff: z.number().nonnegative() }),
        evalSeconds: z.number().nonnegative(),
    })
    .superRefine((run, ctx) => {
        if (run.invalid > run.n) {
            ctx.addIssue({ code: "custom", path: ["invalid"], message: `is ${run.invalid}, more than n (${run.n})` });
        }
        const wanted = new Set(run.k.map(String));
        for (const field of ["hr", "ndcg"] as const) {
            for (const key of run.k.map(String)) {
                if (!Object.prototype.hasOwnProperty.call(run[field], key)) {
                    ctx.addIssue({ code: "custom", path: [field, key], message: `is missing (k lists ${key})` });
                }
            }
            for (const key of Object.keys(run[field])) {
                if (!wanted.has(key)) {
                    ctx.addIssue({
                        code: "custom",
                        path: [field, key],
                        message: `has no matching K in k [${run.k.join(", ")}]`,
                    });
                }
            }
        }
    });

export type EvalRun = z.infer<typeof evalRunSchema>;
/** Eval runs by name, e.g. {office: ..., industrial: ...}. */
export type EvalRuns = Record<string, EvalRun>;

const MAX_ISSUES_SHOWN = 4;

/** Replaces zod's default messages for the two cases a reader of pulumi output most needs spelled out. */
function errorMap(issue: { input?: unknown }): string | undefined {
    if (issue.input === undefined) return "is missing";
    if (issue.input === SECRET_PLACEHOLDER) {
        return `is a secret ("${SECRET_PLACEHOLDER}"); the eval stack must not mark its evalRuns outputs secret`;
    }
    return undefined;
}

function fieldName(path: readonly PropertyKey[]): string {
    return path
        .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
        .join("")
        .replace(/^\./, "");
}

/**
 * Validates `evalRuns` in a parsed `pulumi stack output --json` object. `source` names where the JSON came from (a
 * file, or the pulumi command) and starts every error message.
 */
export function parseEvalOutputs(outputs: unknown, source: string): EvalRuns {
    if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) {
        throw new ReportInputError(`${source}: the stack outputs are not a JSON object`);
    }
    const evalRuns = (outputs as Record<string, unknown>).evalRuns;
    if (evalRuns === undefined) {
        throw new ReportInputError(
            `${source}: the outputs have no eval runs (no "evalRuns" output; is this the eval stack, and has it been deployed?)`,
        );
    }
    if (evalRuns === SECRET_PLACEHOLDER) {
        throw new ReportInputError(
            `${source}: evalRuns is a secret ("${SECRET_PLACEHOLDER}"); the eval stack must not mark its evalRuns output secret`,
        );
    }
    if (typeof evalRuns !== "object" || evalRuns === null || Array.isArray(evalRuns)) {
        throw new ReportInputError(
            `${source}: evalRuns must be an object keyed by run name, not ${describe(evalRuns)}`,
        );
    }
    const names = Object.keys(evalRuns);
    if (names.length === 0) {
        throw new ReportInputError(`${source}: the outputs have no eval runs (evalRuns is empty)`);
    }
    // No prototype, so a run named __proto__ is an ordinary key.
    const runs: EvalRuns = Object.create(null) as EvalRuns;
    for (const name of names) {
        const parsed = evalRunSchema.safeParse((evalRuns as Record<string, unknown>)[name], { error: errorMap });
        if (!parsed.success) {
            const issues = parsed.error.issues;
            const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => {
                const field = fieldName(issue.path);
                return field === "" ? issue.message : `field ${field}: ${issue.message}`;
            });
            const more = issues.length > MAX_ISSUES_SHOWN ? ` (and ${issues.length - MAX_ISSUES_SHOWN} more)` : "";
            throw new ReportInputError(`${source}: eval run ${JSON.stringify(name)}: ${shown.join("; ")}${more}`);
        }
        runs[name] = parsed.data;
    }
    return runs;
}

/** What the report reads from a stack's outputs: the eval runs, and the stack's `cost` when it has one. */
export interface ReportOutputs {
    readonly runs: EvalRuns;
    readonly cost?: StackCost;
}

/** parseEvalOutputs, plus the optional `cost` output (components/lifecycle/stackCost.ts). */
export function parseReportOutputs(outputs: unknown, source: string): ReportOutputs {
    const runs = parseEvalOutputs(outputs, source);
    if ((outputs as Record<string, unknown>).cost === undefined) return { runs };
    return { runs, cost: parseStackCost(outputs, source) };
}

function describe(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    return `a ${typeof value}`;
}

/** A stack's `cost` output (the eval stack's, or the train stack's that `--train-stack` adds to the report). */
export function parseStackCost(outputs: unknown, source: string): StackCost {
    const raw = typeof outputs === "object" && outputs !== null ? (outputs as Record<string, unknown>).cost : undefined;
    if (raw === undefined) {
        throw new ReportInputError(
            `${source}: the outputs have no cost output (has the stack been deployed with a version that reports its cost?)`,
        );
    }
    const cost = stackCostSchema.safeParse(raw);
    if (!cost.success) {
        const why = cost.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
        throw new ReportInputError(`${source}: the cost output does not have the expected shape (${why})`);
    }
    return cost.data;
}

/** The outputs JSON from a file (`--outputs`), as `pulumi stack output --json` prints it. */
export function loadOutputsFile(file: string): ReportOutputs {
    return parseReportOutputs(readOutputsFile(file), file);
}

/** The JSON of an outputs file, unparsed. */
export function readOutputsFile(file: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new ReportInputError(
            `${file}: cannot read the outputs file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        );
    }
    let value: unknown;
    try {
        value = JSON.parse(text) as unknown;
    } catch (err) {
        throw new ReportInputError(`${file}: the outputs file is not valid JSON: ${(err as Error).message}`);
    }
    return value;
}

/** Runs a command; injectable so the pulumi path can be tested without pulumi. */
export type Runner = (command: string, args: readonly string[]) => SpawnSyncReturns<string>;

const defaultRunner: Runner = (command, args) =>
    spawnSync(command, args, { encoding: "utf8", env: process.env, maxBuffer: 256 * 1024 * 1024 });

function lastLine(text: string): string {
    const lines = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== "");
    return lines[lines.length - 1] ?? "";
}

/** The outputs of `stack`, read with `pulumi stack output --stack <stack> --json` (the environment passes through). */
export function readStackOutputs(stack: string, run: Runner = defaultRunner): ReportOutputs {
    const { value, command } = readStackOutputJson(stack, run);
    return parseReportOutputs(value, command);
}

/** The `cost` output of `stack`, read as readStackOutputs reads it (for --train-stack). */
export function readStackCost(stack: string, run: Runner = defaultRunner): StackCost {
    const { value, command } = readStackOutputJson(stack, run);
    return parseStackCost(value, command);
}

/** The JSON `pulumi stack output --stack <stack> --json` prints, unparsed, and the command that printed it. */
function readStackOutputJson(stack: string, run: Runner = defaultRunner): { value: unknown; command: string } {
    const args = ["stack", "output", "--stack", stack, "--json"];
    const command = `pulumi ${args.join(" ")}`;
    const result = run("pulumi", args);
    if (result.error !== undefined) {
        const code = (result.error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
            throw new ReportInputError(
                "pulumi is not on PATH; install the Pulumi CLI, or pass --outputs <file.json> with the output of `pulumi stack output --json`",
            );
        }
        throw new ReportInputError(`${command} could not run: ${result.error.message}`);
    }
    if (result.status !== 0) {
        const said = lastLine(result.stderr ?? "") || lastLine(result.stdout ?? "") || "(no output)";
        const how = result.status === null ? `killed by ${result.signal ?? "a signal"}` : `exit ${result.status}`;
        if (/no stack named|stack .* not found|could not find stack/i.test(said)) {
            throw new ReportInputError(`stack ${JSON.stringify(stack)} does not exist (pulumi: ${said})`);
        }
        throw new ReportInputError(`${command} failed (${how}): ${said}`);
    }
    let value: unknown;
    try {
        value = JSON.parse(result.stdout) as unknown;
    } catch (err) {
        throw new ReportInputError(`${command} did not print JSON: ${(err as Error).message}`);
    }
    return { value, command };
}
