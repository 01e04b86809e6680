/**
 * The calc CLI's file reading, as calc.py reads its files: strict UTF-8 text, the item path rule, and predictions
 * JSON as Python's json module reads it (NaN, Infinity and -Infinity included). A predictions file above the
 * streaming threshold is read record by record instead of as one string, so files larger than a JavaScript
 * string can hold are read with bounded memory and the same results.
 */
import { constants as bufferConstants } from "buffer";
import * as fs from "fs";

import { JsonArrayReader, JsonArrayReadError } from "../../components/metrics/jsonArrayReader";
import { parsePythonJson } from "../../components/metrics/pythonJson";

/** An input problem, reported as one stderr line with exit code 2. */
export class CalcCliError extends Error {}

/** The longest string V8 can build, in UTF-16 code units; a UTF-8 file of at most this many bytes always fits. */
export const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

/** Environment variable that sets the size above which a predictions file is streamed. */
export const STREAM_THRESHOLD_ENV = "CALC_STREAM_ABOVE_BYTES";

/**
 * Default streaming threshold. Parsing a file whole takes several times its size in memory (the bytes, the string
 * and the parsed records), so streaming starts well below the string limit. Measured with
 * `npm run bench:calc -- --compare-mib 64`: a 64 MiB file peaked at 269 MiB read whole and at 128 MiB streamed, in
 * about the same time; streamed memory stays flat as files grow (129 MiB for 1 GiB).
 */
export const DEFAULT_STREAM_THRESHOLD = 64 * 1024 * 1024;

/** Read the streaming threshold from the environment, or the default when it is unset or empty. */
export function streamThreshold(env: NodeJS.ProcessEnv = process.env): number {
    const raw = env[STREAM_THRESHOLD_ENV];
    if (raw === undefined || raw === "") return DEFAULT_STREAM_THRESHOLD;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value <= MAX_STRING_LENGTH)) {
        throw new CalcCliError(
            `${STREAM_THRESHOLD_ENV}=${JSON.stringify(raw)} must be a whole number of bytes from 0 to ` +
                `${MAX_STRING_LENGTH} (the longest string JavaScript can hold); unset it for the default ` +
                `${DEFAULT_STREAM_THRESHOLD}`,
        );
    }
    return value;
}

/** calc.py's item path rule: a trailing `.txt` is cut off and `.txt` is always appended. */
export function resolveItemPath(itemPath: string): string {
    return `${itemPath.endsWith(".txt") ? itemPath.slice(0, -4) : itemPath}.txt`;
}

function cannotRead(file: string, role: string, err: unknown): CalcCliError {
    return new CalcCliError(`${file}: cannot read ${role}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
}

/** The file's size in bytes; a missing or unreadable file is a CalcCliError naming it. */
export function fileSize(file: string, role: string): number {
    try {
        fs.accessSync(file, fs.constants.R_OK);
        return fs.statSync(file).size;
    } catch (err) {
        throw cannotRead(file, role, err);
    }
}

/**
 * Read a whole file the way Python's text mode does. Decoding is strict UTF-8, because a decode error crashes
 * upstream. A leading BOM is kept as U+FEFF, because Python's 'utf-8' codec keeps it (Node's default decoding would
 * drop it). A file too large for one JavaScript string is refused with its size.
 */
export function readTextFile(file: string, role: string): string {
    const size = fileSize(file, role);
    if (size > MAX_STRING_LENGTH) {
        throw new CalcCliError(
            `${file}: the ${role} is ${size} bytes, more than the ${MAX_STRING_LENGTH} a JavaScript string can hold`,
        );
    }
    let bytes: Buffer;
    try {
        bytes = fs.readFileSync(file);
    } catch (err) {
        throw cannotRead(file, role, err);
    }
    try {
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
        throw new CalcCliError(`${file}: ${role} is not valid UTF-8`);
    }
}

/** Read and parse a whole predictions file (small enough to be one string). */
export function readPredictionsWhole(file: string): unknown {
    const text = readTextFile(file, "predictions file");
    try {
        return parsePythonJson(text);
    } catch (err) {
        throw new CalcCliError(`${file}: predictions file is not valid JSON: ${(err as Error).message}`);
    }
}

/** Bytes per read while streaming. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

/**
 * Stream a predictions file's top-level array, yielding its records in order, a chunk's worth at a time. Any
 * problem (unreadable, not UTF-8, not JSON, not an array, a record too large for a string) is a CalcCliError
 * naming the file and the byte offset. An empty array yields nothing; the caller decides what that means.
 */
export async function* streamPredictions(file: string, maxRecordBytes?: number): AsyncGenerator<unknown[]> {
    const reader = new JsonArrayReader({ maxElementBytes: maxRecordBytes });
    const stream = fs.createReadStream(file, { highWaterMark: STREAM_CHUNK_BYTES });
    try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
            const records = translate(file, () => reader.push(chunk));
            if (records.length > 0) yield records;
        }
    } catch (err) {
        if (err instanceof CalcCliError || !(err as NodeJS.ErrnoException).code) throw err;
        throw cannotRead(file, "predictions file", err);
    } finally {
        stream.destroy();
    }
    translate(file, () => reader.end());
}

/** Run one reader step, turning its errors into the CLI's one-line messages (worded like the whole-file ones). */
function translate<T>(file: string, step: () => T): T {
    try {
        return step();
    } catch (err) {
        if (!(err instanceof JsonArrayReadError)) throw err;
        if (err.kind === "not-array") throw new CalcCliError(`${file}: predictions JSON ${err.message}`);
        if (err.kind === "utf8") throw new CalcCliError(`${file}: predictions file is not valid UTF-8: ${err.message}`);
        if (err.kind === "too-large") throw new CalcCliError(`${file}: ${err.message}`);
        throw new CalcCliError(`${file}: predictions file is not valid JSON: ${err.message}`);
    }
}
