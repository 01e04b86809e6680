/**
 * CLI twin of upstream MiniOneRec calc.py:
 *
 *   npm run --silent calc -- --path <predictions.json> --item_path <info.txt> [--json]
 *
 * Without --json it prints exactly what calc.py prints on stdout. With --json it prints one line
 * {"n","invalid","k","hr","ndcg","n_beam"}. Bad input prints one line on stderr, naming the file (and the record),
 * and exits with 2, with nothing on stdout. The metrics are components/metrics/calc.ts; the rendering of calc.py's
 * stdout is scripts/calc/render.ts; this file parses arguments and does the I/O.
 *
 * Like calc.py under Fire, `--path '["a.json","b.json"]'` (a JSON list) evaluates several files in one run, with
 * upstream's cumulative state. The output is one block per file, and with --json one line per file.
 *
 * Inputs calc.py accepts and JSON.parse does not are read as Python does: bare NaN, Infinity and -Infinity in the
 * predictions JSON (calc.py reads only "predict" and "output", so elsewhere they change nothing). A predictions file
 * above CALC_STREAM_ABOVE_BYTES (default 64 MiB) is streamed record by record, so even a file larger than a
 * JavaScript string can hold gives the same output. If such a run has invalid predictions to print, the file is
 * read a second time to print them, so that bad input still leaves stdout empty. A closed stdout (`| head`) ends
 * the run quietly with status 0.
 */
import { CalcInputError, CalcMetrics, CalcRun, InvalidPrediction, assertRecordList } from "../components/metrics/calc";
import {
    CalcCliError,
    fileSize,
    readPredictionsWhole,
    readTextFile,
    resolveItemPath,
    streamPredictions,
    streamThreshold,
} from "./calc/inputFiles";
import { formatCalcPySummary, formatInvalidPrint } from "./calc/render";

const USAGE = "usage: calc --path <predictions.json> --item_path <info.txt> [--json]";
const EXIT_BAD_INPUT = 2;

interface CliOptions {
    paths: string[];
    itemPath: string;
    json: boolean;
}

/** One predictions file: parsed up front when small, or streamed when above the threshold. */
type PredictionsInput = { path: string; parsed: unknown } | { path: string; streamed: true };

/** A `--path` value that Fire would parse as a list: a JSON array of file names. */
function parsePathList(value: string): string[] {
    if (!value.startsWith("[")) return [value];
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        throw new CalcCliError(`--path ${value}: a list of paths must be a JSON array of strings`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === "string")) {
        throw new CalcCliError(`--path ${value}: a list of paths must be a non-empty JSON array of strings`);
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
        if (match === null) throw new CalcCliError(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
        const name = (match[1] as string).replace("-", "_");
        let value = match[2];
        if (value === undefined) {
            value = argv[++i];
            if (value === undefined) throw new CalcCliError(`--${name} needs a value; ${USAGE}`);
        }
        values.set(name, value);
    }
    const path = values.get("path");
    const itemPath = values.get("item_path");
    if (path === undefined) throw new CalcCliError(`missing --path; ${USAGE}`);
    if (itemPath === undefined) throw new CalcCliError(`missing --item_path; ${USAGE}`);
    return { paths: parsePathList(path), itemPath, json };
}

/** Parse the small predictions files now (so their errors come first, as before); mark the large ones. */
function openPredictions(paths: readonly string[], threshold: number): PredictionsInput[] {
    return paths.map((path) =>
        fileSize(path, "predictions file") > threshold
            ? { path, streamed: true }
            : { path, parsed: readPredictionsWhole(path) },
    );
}

/** Receives what one evaluation pass produces, in calc.py's print order. */
interface PassSink {
    invalid(print: InvalidPrediction): void;
    /** After each file, with its block; may wait (for stdout to drain). */
    fileDone(metrics: CalcMetrics): Promise<void> | void;
    /** After each streamed chunk of records; may wait. */
    chunkDone(): Promise<void> | void;
}

/** One calc.py pass over every predictions file. Throws CalcCliError on bad input. */
async function evaluatePass(inputs: readonly PredictionsInput[], itemText: string, sink: PassSink): Promise<void> {
    const run = new CalcRun(itemText);
    try {
        for (const [fileIndex, input] of inputs.entries()) {
            run.beginFile();
            if ("parsed" in input) {
                let records: readonly unknown[];
                try {
                    records = assertRecordList(input.parsed);
                } catch (err) {
                    throw new CalcInputError((err as CalcInputError).reason, undefined, fileIndex);
                }
                for (const record of records) run.addRecord(record, sink.invalid);
            } else {
                for await (const records of streamPredictions(input.path)) {
                    for (const record of records) run.addRecord(record, sink.invalid);
                    await sink.chunkDone();
                }
            }
            await sink.fileDone(run.endFile());
        }
    } catch (err) {
        if (err instanceof CalcInputError) throw new CalcCliError(`${inputs[err.fileIndex]?.path}: ${err.message}`);
        throw err;
    }
}

/** Buffers stdout text and writes it in large pieces, waiting for the pipe to drain when it is full. */
class StdoutWriter {
    private pending: string[] = [];
    private pendingLength = 0;

    add(text: string): void {
        this.pending.push(text);
        this.pendingLength += text.length;
    }

    async flushIfLarge(): Promise<void> {
        if (this.pendingLength >= 1 << 16) await this.flush();
    }

    async flush(): Promise<void> {
        if (this.pendingLength === 0) return;
        const text = this.pending.join("");
        this.pending = [];
        this.pendingLength = 0;
        if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
    }
}

async function run(argv: readonly string[]): Promise<void> {
    const options = parseArgs(argv);
    const inputs = openPredictions(options.paths, streamThreshold());
    const itemText = readTextFile(resolveItemPath(options.itemPath), "item file");
    const out = new StdoutWriter();

    // Pass 1 computes every block and checks all the input; nothing reaches stdout before it succeeds. Invalid
    // prints are kept for printing only when every file was read whole (a streamed file's could exceed memory).
    const streamed = inputs.some((input) => !("parsed" in input));
    const keepPrints = !options.json && !streamed;
    const blocks: CalcMetrics[] = [];
    await evaluatePass(inputs, itemText, {
        invalid: keepPrints ? (print) => out.add(formatInvalidPrint(print)) : () => undefined,
        fileDone: (metrics) => {
            blocks.push(metrics);
            if (options.json) {
                const { n, invalid, k, hr, ndcg, n_beam } = metrics;
                out.add(`${JSON.stringify({ n, invalid, k, hr, ndcg, n_beam })}\n`);
            } else if (keepPrints) {
                out.add(formatCalcPySummary(metrics));
            }
        },
        chunkDone: () => undefined,
    });
    const invalidTotal = blocks[blocks.length - 1]?.invalid ?? 0;
    if (options.json || keepPrints || invalidTotal === 0) {
        if (!options.json && !keepPrints) blocks.forEach((metrics) => out.add(formatCalcPySummary(metrics)));
        await out.flush();
        return;
    }

    // Pass 2, streamed input with invalid predictions: read the files again and print as calc.py does.
    let fileIndex = 0;
    await evaluatePass(inputs, itemText, {
        invalid: (print) => out.add(formatInvalidPrint(print)),
        fileDone: async (metrics) => {
            if (JSON.stringify(metrics) !== JSON.stringify(blocks[fileIndex])) {
                throw new CalcCliError(`${inputs[fileIndex]?.path}: predictions file changed while calc read it`);
            }
            fileIndex += 1;
            out.add(formatCalcPySummary(metrics));
            await out.flush();
        },
        chunkDone: () => out.flushIfLarge(),
    });
}

/** `| head` closes stdout early: that is the reader's choice, not an error, so stop quietly with status 0. */
function exitQuietlyOnClosedStdout(): void {
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "EPIPE") process.exit(0);
        throw err;
    });
}

async function main(): Promise<void> {
    exitQuietlyOnClosedStdout();
    try {
        await run(process.argv.slice(2));
    } catch (err) {
        if (!(err instanceof CalcCliError)) throw err;
        // Exactly one line, even if an underlying message has line breaks.
        process.stderr.write(`calc: error: ${err.message.replace(/\s*\n\s*/g, " ")}\n`);
        process.exitCode = EXIT_BAD_INPUT;
    }
}

void main();
