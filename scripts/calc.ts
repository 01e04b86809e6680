/**
 * CLI twin of upstream MiniOneRec calc.py:
 *
 *   npm run --silent calc -- --path <predictions.json> --item_path <info.txt> [--json]
 *
 * Without --json it prints exactly what calc.py prints on stdout. With --json it prints one line
 * {"n","invalid","k","hr","ndcg","n_beam"}. Bad input prints one line on stderr, naming the file (and the record),
 * and exits with 2. All metric logic lives in components/metrics/calc.ts; this file only parses arguments and does I/O.
 *
 * Like calc.py under Fire, `--path '["a.json","b.json"]'` (a JSON list) evaluates several files in one run, with
 * upstream's cumulative state. The output is one block per file, and with --json one line per file.
 */
import * as fs from "fs";

import {
    CalcEvaluation,
    CalcInputError,
    evaluateCalcFiles,
    formatCalcPyStdout,
    resolveItemPath,
} from "../components/metrics/calc";

const USAGE = "usage: calc --path <predictions.json> --item_path <info.txt> [--json]";
const EXIT_BAD_INPUT = 2;

interface CliOptions {
    paths: string[];
    itemPath: string;
    json: boolean;
}

/** An input problem, reported as one stderr line with exit code 2. */
class BadInputError extends Error {}

/** A `--path` value that Fire would parse as a list: a JSON array of file names. */
function parsePathList(value: string): string[] {
    if (!value.startsWith("[")) return [value];
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        throw new BadInputError(`--path ${value}: a list of paths must be a JSON array of strings`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === "string")) {
        throw new BadInputError(`--path ${value}: a list of paths must be a non-empty JSON array of strings`);
    }
    return parsed as string[];
}

/** Accepts `--flag value` and `--flag=value`. `--item-path` is an alias, because Fire maps '-' to '_'. */
function parseArgs(argv: readonly string[]): CliOptions {
    const values = new Map<string, string>();
    let json = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "--json") {
            json = true;
            continue;
        }
        const match = /^--(path|item[_-]path)(?:=(.*))?$/s.exec(arg);
        if (match === null) throw new BadInputError(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
        const name = (match[1] as string).replace("-", "_");
        let value = match[2];
        if (value === undefined) {
            value = argv[++i];
            if (value === undefined) throw new BadInputError(`--${name} needs a value; ${USAGE}`);
        }
        values.set(name, value);
    }
    const path = values.get("path");
    const itemPath = values.get("item_path");
    if (path === undefined) throw new BadInputError(`missing --path; ${USAGE}`);
    if (itemPath === undefined) throw new BadInputError(`missing --item_path; ${USAGE}`);
    return { paths: parsePathList(path), itemPath, json };
}

/**
 * Read a file the way Python's text mode does. Decoding is strict UTF-8, because a decode error crashes upstream. A
 * leading BOM is kept as U+FEFF, because Python's 'utf-8' codec keeps it (Node's default decoding would drop it).
 */
function readTextFile(file: string, role: string): string {
    let bytes: Buffer;
    try {
        bytes = fs.readFileSync(file);
    } catch (err) {
        throw new BadInputError(`${file}: cannot read ${role}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
        throw new BadInputError(`${file}: ${role} is not valid UTF-8`);
    }
}

function readPredictions(file: string): unknown {
    const text = readTextFile(file, "predictions file");
    try {
        return JSON.parse(text) as unknown;
    } catch (err) {
        throw new BadInputError(`${file}: predictions file is not valid JSON: ${(err as Error).message}`);
    }
}

function run(argv: readonly string[]): string {
    const options = parseArgs(argv);
    const parsedFiles = options.paths.map(readPredictions);
    const itemText = readTextFile(resolveItemPath(options.itemPath), "item file");
    let blocks: CalcEvaluation[];
    try {
        blocks = evaluateCalcFiles(parsedFiles, itemText);
    } catch (err) {
        if (err instanceof CalcInputError) throw new BadInputError(`${options.paths[err.fileIndex]}: ${err.message}`);
        throw err;
    }
    if (!options.json) {
        return blocks
            .map(({ metrics, invalidPredictions }) => formatCalcPyStdout(metrics, invalidPredictions))
            .join("");
    }
    return blocks
        .map(
            ({ metrics: { n, invalid, k, hr, ndcg, n_beam } }) =>
                `${JSON.stringify({ n, invalid, k, hr, ndcg, n_beam })}\n`,
        )
        .join("");
}

function main(): void {
    try {
        process.stdout.write(run(process.argv.slice(2)));
    } catch (err) {
        if (!(err instanceof BadInputError)) throw err;
        // Exactly one line, even if an underlying message has line breaks.
        process.stderr.write(`calc: error: ${err.message.replace(/\s*\n\s*/g, " ")}\n`);
        process.exitCode = EXIT_BAD_INPUT;
    }
}

main();
