/**
 * JSON as Python's `json.loads` reads it, which is what calc.py's `json.load(f)` does with a predictions file.
 * Python's decoder accepts three tokens that JSON.parse rejects: bare `NaN`, `Infinity` and `-Infinity` (and nothing
 * else beyond JSON: not `nan`, `+Infinity`, `-NaN`, single quotes or trailing commas). Everything else is read
 * alike: the same number grammar and rounding (1e400 becomes Infinity in both), the same string escapes, control
 * characters in strings rejected, duplicate keys resolved to the last value, whitespace limited to space, tab, LF, CR.
 * Two differences remain, and neither can change calc.py's results, which use only strings: an integer `-0` is -0
 * here (Python's int 0 has no sign), and integers beyond 2^53 are rounded to float64. Error messages use Python
 * 3.11's wording and offsets (in UTF-16 code units, which equal Python's for BMP text).
 */

/** Text that Python's json module would refuse, with Python's wording and a 1-based line and column. */
export class PythonJsonError extends SyntaxError {
    /** Python's message without the position, e.g. "Expecting value". */
    readonly reason: string;
    /** 0-based offset in UTF-16 code units of the text. */
    readonly offset: number;

    constructor(reason: string, text: string, offset: number) {
        const before = text.slice(0, offset);
        const line = before.split("\n").length;
        const column = offset - before.lastIndexOf("\n");
        super(`${reason}: line ${line} column ${column} (char ${offset})`);
        this.name = "PythonJsonError";
        this.reason = reason;
        this.offset = offset;
    }
}

/**
 * Parse `text` as Python's `json.loads(text)` does. Standard JSON goes through the native JSON.parse; only text
 * it refuses is re-read by the extended parser below, which either finds Python's extra tokens or throws
 * PythonJsonError at the first place Python would stop.
 */
export function parsePythonJson(text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return new PythonJsonParser(text).parseDocument();
    }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/** A recursive-descent reader of Python's JSON grammar: py_scanner.make_scanner and decoder.py, in order. */
class PythonJsonParser {
    private index = 0;

    constructor(private readonly text: string) {}

    parseDocument(): unknown {
        if (this.text.startsWith("\ufeff")) throw this.error("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
        let value: unknown;
        try {
            value = this.parseValue();
        } catch (err) {
            // Python raises RecursionError; either way the document cannot be read.
            if (err instanceof RangeError) throw this.error("Nesting too deep");
            throw err;
        }
        this.skipWhitespace();
        if (this.index !== this.text.length) throw this.error("Extra data");
        return value;
    }

    private error(reason: string, offset = this.index): PythonJsonError {
        return new PythonJsonError(reason, this.text, offset);
    }

    private skipWhitespace(): void {
        const { text } = this;
        for (;;) {
            const c = text.charCodeAt(this.index);
            if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
            this.index++;
        }
    }

    private startsWithAt(word: string): boolean {
        return this.text.startsWith(word, this.index);
    }

    private parseValue(): unknown {
        this.skipWhitespace();
        const c = this.text[this.index];
        if (c === '"') return this.parseString();
        if (c === "{") return this.parseObject();
        if (c === "[") return this.parseArray();
        const literals: [string, unknown][] = [
            ["null", null],
            ["true", true],
            ["false", false],
        ];
        for (const [word, value] of literals) {
            if (this.startsWithAt(word)) {
                this.index += word.length;
                return value;
            }
        }
        NUMBER.lastIndex = this.index;
        const number = NUMBER.exec(this.text);
        if (number !== null) {
            this.index += number[0].length;
            return Number(number[0]);
        }
        const constants: [string, number][] = [
            ["NaN", NaN],
            ["Infinity", Infinity],
            ["-Infinity", -Infinity],
        ];
        for (const [word, value] of constants) {
            if (this.startsWithAt(word)) {
                this.index += word.length;
                return value;
            }
        }
        throw this.error("Expecting value");
    }

    /** A string literal: find its end, then let JSON.parse apply the escapes (same rules as Python's strict mode). */
    private parseString(): string {
        const { text } = this;
        const start = this.index;
        let end = start + 1;
        for (;;) {
            const quote = text.indexOf('"', end);
            if (quote === -1) throw this.error("Unterminated string starting at", start);
            let backslashes = 0;
            while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
            end = quote + 1;
            if (backslashes % 2 === 0) break;
        }
        const literal = text.slice(start, end);
        try {
            this.index = end;
            return JSON.parse(literal) as string;
        } catch {
            // Python names the first offending character; find it for the message.
            for (let i = start + 1; i < end - 1; i++) {
                const c = text.charCodeAt(i);
                if (c < 0x20) throw this.error("Invalid control character at", i);
                if (c === 0x5c) {
                    const next = text[i + 1] as string;
                    if (next === "u") {
                        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
                            throw this.error("Invalid \\uXXXX escape", i + 1);
                        i += 5;
                    } else if ('"\\/bfnrt'.includes(next)) {
                        i += 1;
                    } else {
                        throw this.error("Invalid \\escape", i);
                    }
                }
            }
            throw this.error("Invalid string", start);
        }
    }

    private parseArray(): unknown[] {
        this.index++; // '['
        const values: unknown[] = [];
        this.skipWhitespace();
        if (this.text[this.index] === "]") {
            this.index++;
            return values;
        }
        for (;;) {
            values.push(this.parseValue());
            this.skipWhitespace();
            const c = this.text[this.index];
            this.index++;
            if (c === "]") return values;
            if (c !== ",") throw this.error("Expecting ',' delimiter", this.index - 1);
        }
    }

    private parseObject(): Record<string, unknown> {
        this.index++; // '{'
        const object: Record<string, unknown> = {};
        this.skipWhitespace();
        if (this.text[this.index] === "}") {
            this.index++;
            return object;
        }
        for (;;) {
            if (this.text[this.index] !== '"') {
                throw this.error("Expecting property name enclosed in double quotes");
            }
            const key = this.parseString();
            this.skipWhitespace();
            if (this.text[this.index] !== ":") throw this.error("Expecting ':' delimiter");
            this.index++;
            // defineProperty, not assignment: a "__proto__" key is an ordinary key, as in JSON.parse and Python.
            Object.defineProperty(object, key, {
                value: this.parseValue(),
                writable: true,
                enumerable: true,
                configurable: true,
            });
            this.skipWhitespace();
            const c = this.text[this.index];
            this.index++;
            if (c === "}") return object;
            if (c !== ",") throw this.error("Expecting ',' delimiter", this.index - 1);
            this.skipWhitespace();
        }
    }
}
