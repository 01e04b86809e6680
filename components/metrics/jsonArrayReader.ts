/**
 * Reads a top-level JSON array from bytes that arrive in chunks, one element at a time, so that a predictions file
 * larger than a JavaScript string can hold (buffer.constants.MAX_STRING_LENGTH, about 512 MiB in V8) is read with
 * bounded memory. Each element is decoded as strict UTF-8 and parsed as Python's json module parses it
 * (parsePythonJson), so the values are the ones `json.load` of the whole file gives, element for element.
 *
 * The reader only finds element boundaries: outside strings, a ',' or ']' at nesting depth 0. UTF-8 never uses the
 * bytes of '"', '\', brackets or ',' inside a multi-byte character, so this works on raw bytes. Every element's text
 * is then parsed in full, and the bytes between elements may only be whitespace, so any text the splitting could
 * misread is malformed JSON and is reported.
 */
import { constants as bufferConstants } from "buffer";

import { describeJsonType } from "./calc";
import { parsePythonJson, PythonJsonError } from "./pythonJson";

/** Why the bytes are not a JSON array of elements that can be read. */
export class JsonArrayReadError extends Error {
    constructor(
        message: string,
        /** What kind of problem: the caller words its error after it. */
        readonly kind: "syntax" | "utf8" | "not-array" | "too-large",
        /** 0-based byte offset in the whole input where the problem is (for "syntax", "utf8", "not-array"). */
        readonly byteOffset: number,
    ) {
        super(message);
        this.name = "JsonArrayReadError";
    }
}

export interface JsonArrayReaderOptions {
    /** The largest element, in bytes, to decode; larger ones are refused. Default: the longest JS string. */
    readonly maxElementBytes?: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isWhitespace(byte: number): boolean {
    return byte === SPACE || byte === TAB || byte === LF || byte === CR;
}

/** How a top-level value that is not an array starts, named like describeJsonType names parsed values. */
function describeFirstByte(byte: number): string {
    if (byte === OPEN_OBJECT) return "object";
    if (byte === QUOTE) return "string";
    if (byte === 0x74 || byte === 0x66) return describeJsonType(true);
    if (byte === 0x6e) return describeJsonType(null);
    if (byte === 0x4e) return describeJsonType(NaN);
    if (byte === 0x49) return describeJsonType(Infinity);
    return "number";
}

/** "minus": the input starts with '-', and the next byte tells -Infinity from a number. */
type State = "start" | "minus" | "open" | "element" | "done";

/**
 * Feed chunks with push() and finish with end(). Each call returns the elements completed so far, in order.
 * Throws JsonArrayReadError at the first problem.
 */
export class JsonArrayReader {
    private readonly maxElementBytes: number;
    private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    private state: State = "start";
    /** Bytes consumed before the current chunk. */
    private consumed = 0;
    /** Pieces of the current element from earlier chunks. */
    private parts: Uint8Array[] = [];
    private partsBytes = 0;
    /** Byte offset of the current element's first byte (its leading whitespace included). */
    private elementStart = 0;
    private elementIndex = 0;
    private depth = 0;
    private inString = false;
    /** A backslash inside a string was the last byte of the previous chunk. */
    private escapePending = false;

    constructor(options: JsonArrayReaderOptions = {}) {
        this.maxElementBytes = options.maxElementBytes ?? bufferConstants.MAX_STRING_LENGTH;
    }

    push(chunk: Uint8Array): unknown[] {
        const out: unknown[] = [];
        let i = 0;
        let pieceStart = 0; // where the current element's bytes start in this chunk
        const n = chunk.length;
        while (i < n) {
            if (this.state === "element") {
                if (this.inString) {
                    i = this.skipStringBytes(chunk, i);
                    continue;
                }
                const byte = chunk[i] as number;
                if (byte === QUOTE) {
                    this.inString = true;
                    i++;
                } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
                    this.depth++;
                    i++;
                } else if (this.depth > 0) {
                    if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) this.depth--;
                    i++;
                } else if (byte === COMMA || byte === CLOSE_ARRAY) {
                    out.push(this.finishElement(chunk.subarray(pieceStart, i)));
                    i++;
                    if (byte === COMMA) {
                        this.startElement(i);
                        pieceStart = i;
                    } else {
                        this.state = "done";
                    }
                } else if (byte === CLOSE_OBJECT) {
                    throw this.syntaxError("Expecting ',' delimiter", this.consumed + i);
                } else {
                    i++;
                }
            } else {
                const byte = chunk[i] as number;
                if (isWhitespace(byte)) {
                    i++;
                } else if (this.state === "start") {
                    if (byte === 0x2d) {
                        this.state = "minus";
                        i++;
                        continue;
                    }
                    if (byte === 0xef && this.consumed + i === 0) {
                        // Python's json.loads refuses a text that starts with U+FEFF (bytes EF BB BF) by name.
                        throw this.syntaxError("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
                    }
                    if (byte !== OPEN_ARRAY) {
                        if (byte >= 0x80 || !/^[0-9"{tfnNI]$/.test(String.fromCharCode(byte))) {
                            throw this.syntaxError("Expecting value", this.consumed + i);
                        }
                        throw this.notArray(describeFirstByte(byte), this.consumed + i);
                    }
                    this.state = "open";
                    i++;
                } else if (this.state === "minus") {
                    throw this.notArray(byte === 0x49 ? describeJsonType(-Infinity) : "number", this.consumed + i - 1);
                } else if (this.state === "open") {
                    if (byte === CLOSE_ARRAY) {
                        this.state = "done";
                        i++;
                    } else {
                        this.startElement(i);
                        pieceStart = i;
                    }
                } else {
                    throw this.syntaxError("Extra data", this.consumed + i);
                }
            }
        }
        if (this.state === "element") this.keepPiece(chunk.subarray(pieceStart));
        this.consumed += n;
        return out;
    }

    /** The input has ended: the array must be closed. */
    end(): void {
        if (this.state === "start" || this.state === "minus") throw this.syntaxError("Expecting value", this.consumed);
        if (this.state !== "done") {
            const what = this.inString ? "Unterminated string" : "Unterminated array";
            throw this.syntaxError(`${what} (the input ends inside element ${this.elementIndex})`, this.consumed);
        }
    }

    /** Inside a string from chunk[i]: jump to the byte after its closing quote, or to the end of the chunk. */
    private skipStringBytes(chunk: Uint8Array, i: number): number {
        if (this.escapePending) {
            this.escapePending = false;
            i++;
        }
        for (;;) {
            const quote = chunk.indexOf(QUOTE, i);
            const backslash = chunk.indexOf(BACKSLASH, i);
            if (backslash !== -1 && (quote === -1 || backslash < quote)) {
                if (backslash + 1 >= chunk.length) {
                    this.escapePending = true;
                    return chunk.length;
                }
                i = backslash + 2;
                continue;
            }
            if (quote === -1) return chunk.length;
            this.inString = false;
            return quote + 1;
        }
    }

    private startElement(i: number): void {
        this.state = "element";
        this.elementStart = this.consumed + i;
        this.depth = 0;
        this.parts = [];
        this.partsBytes = 0;
    }

    private keepPiece(piece: Uint8Array): void {
        if (piece.length === 0) return;
        this.checkSize(this.partsBytes + piece.length);
        // Copy: the caller may reuse the chunk's memory.
        this.parts.push(new Uint8Array(piece));
        this.partsBytes += piece.length;
    }

    private checkSize(bytes: number): void {
        if (bytes > this.maxElementBytes) {
            throw new JsonArrayReadError(
                `record ${this.elementIndex} (at byte ${this.elementStart}) is at least ${bytes} bytes, and the ` +
                    `largest string JavaScript can hold is ${this.maxElementBytes} bytes: calc cannot read it`,
                "too-large",
                this.elementStart,
            );
        }
    }

    private finishElement(lastPiece: Uint8Array): unknown {
        let bytes: Uint8Array = lastPiece;
        if (this.parts.length > 0) {
            this.checkSize(this.partsBytes + lastPiece.length);
            bytes = Buffer.concat([...this.parts, lastPiece]);
            this.parts = [];
            this.partsBytes = 0;
        } else {
            this.checkSize(lastPiece.length);
        }
        let text: string;
        try {
            text = this.decoder.decode(bytes);
        } catch {
            throw new JsonArrayReadError(
                `record ${this.elementIndex} (bytes ${this.elementStart}..${this.elementStart + bytes.length}) is not valid UTF-8`,
                "utf8",
                this.elementStart,
            );
        }
        if (/^[ \t\n\r]*$/.test(text)) {
            // Python's json: "[1,,2]" and "[1,]" fail where the value should be.
            throw this.syntaxError("Expecting value", this.elementStart + bytes.length);
        }
        let value: unknown;
        try {
            value = parsePythonJson(text);
        } catch (err) {
            if (!(err instanceof PythonJsonError)) throw err;
            throw new JsonArrayReadError(
                `record ${this.elementIndex} (starting at byte ${this.elementStart}): ${err.message}`,
                "syntax",
                this.elementStart,
            );
        }
        this.elementIndex++;
        return value;
    }

    private notArray(got: string, byteOffset: number): JsonArrayReadError {
        return new JsonArrayReadError(`must be an array of records, got ${got}`, "not-array", byteOffset);
    }

    private syntaxError(reason: string, byteOffset: number): JsonArrayReadError {
        return new JsonArrayReadError(`${reason} at byte ${byteOffset}`, "syntax", byteOffset);
    }
}
