/**
 * The calc CLI's inputs beyond plain JSON (issue 9, item 8), and the readers behind them:
 * - predictions JSON with bare NaN, Infinity and -Infinity, read as Python's json module reads it
 *   (components/metrics/pythonJson.ts);
 * - predictions files above the streaming threshold, read record by record (components/metrics/jsonArrayReader.ts,
 *   scripts/calc/inputFiles.ts), so a file larger than a JavaScript string can hold gives the same output;
 * - a stdout that the reader closes early (`| head -n 1`).
 *
 * Ground truth: python3's own json.loads for the JSON dialect (values, error messages and offsets), and the
 * pure-Python stand-in calc.py, which reads its files with Python's open() and json.load(), for the CLI's stdout.
 * Streaming runs here with a lowered threshold (CALC_STREAM_ABOVE_BYTES); `npm run bench:calc` runs a 1 GiB file.
 *
 * Not proven here: a real file above the string limit (the benchmark does that), and the refusal of an item file
 * above that limit (it needs a 512 MiB file).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { JsonArrayReader, JsonArrayReaderOptions, JsonArrayReadError } from "../components/metrics/jsonArrayReader";
import { parsePythonJson, PythonJsonError } from "../components/metrics/pythonJson";
import {
    DEFAULT_STREAM_THRESHOLD,
    MAX_STRING_LENGTH,
    STREAM_THRESHOLD_ENV,
    streamThreshold,
} from "../scripts/calc/inputFiles";
import { EXAMPLES_DIR, REPO_ROOT, runCli, runPython, runStandIn } from "./helpers/calcCli";

const STREAM = { CALC_STREAM_ABOVE_BYTES: "0" };
const WHOLE = {};
const MODES: [string, Record<string, string>][] = [
    ["read whole", WHOLE],
    ["streamed", STREAM],
];

let tmpRootDir: string | undefined;
function tmpRoot(): string {
    tmpRootDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "calc-input-test-"));
    return tmpRootDir;
}
after(() => {
    if (tmpRootDir !== undefined) fs.rmSync(tmpRootDir, { recursive: true, force: true });
});

/** Write a file (text or bytes) under a fresh directory of the test temp root and return its path. */
function writeFile(name: string, content: string | Buffer): string {
    const dir = fs.mkdtempSync(path.join(tmpRoot(), "case-"));
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
}

// ---------------------------------------------------------------------------------------------------------------
// Python's json dialect
// ---------------------------------------------------------------------------------------------------------------

type PythonResult = { ok: true; value: unknown } | { ok: false; msg: string; pos: number };

/**
 * json.loads of each text, by python3 itself. Non-finite floats come back tagged as {"$nonfinite": repr}, so the
 * answer is plain JSON; untag() turns them back into numbers.
 */
function pythonLoads(texts: readonly string[]): PythonResult[] {
    const script = `
import json, math, sys
def tag(v):
    if isinstance(v, float) and not math.isfinite(v):
        return {"$nonfinite": repr(v)}
    if isinstance(v, list):
        return [tag(x) for x in v]
    if isinstance(v, dict):
        return {k: tag(x) for k, x in v.items()}
    return v
out = []
for text in json.load(sys.stdin):
    try:
        out.append({"ok": True, "value": tag(json.loads(text))})
    except json.JSONDecodeError as e:
        out.append({"ok": False, "msg": e.msg, "pos": e.pos})
print(json.dumps(out))
`;
    const result = runPython(["-c", script], JSON.stringify(texts));
    assert.strictEqual(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as PythonResult[];
}

function untag(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(untag);
    if (typeof value === "object" && value !== null) {
        const entries = Object.entries(value);
        if (entries.length === 1 && entries[0]?.[0] === "$nonfinite") {
            return { nan: NaN, inf: Infinity, "-inf": -Infinity }[entries[0][1] as string];
        }
        return Object.fromEntries(entries.map(([k, v]) => [k, untag(v)]));
    }
    return value;
}

/** Accepted by Python; JSON.parse refuses all but the last few (standard JSON, for the fast path). */
const PYTHON_ACCEPTS = [
    "NaN",
    "Infinity",
    "-Infinity",
    " \t\r\n[NaN, Infinity, -Infinity]\r\n",
    '{"a": NaN, "b": [1, -Infinity, {"c": Infinity}], "d": "NaN"}',
    '{"s": "q\\"uo\\\\te\\u00e9\\ud83d\\ude00\\n\\/", "l": [1, 2.5e-3, -0.0, 1E5, true, false, null, {"x": []}], "n": NaN}',
    "[1e400, -1e400, NaN, 123456789012345678, 0.1]",
    '{"a": 1, "a": NaN}',
    '{"__proto__": NaN, "z": 1}',
    '[[[[NaN]]], {}, [], ""]',
    '{"output": "X\\n", "predict": ["X", "Y"], "score": -Infinity}',
    '["\\ud800", "caf\u00e9", NaN]',
    '{"standard": [1, "two", {"three": 3.0}]}',
    "[1e400]",
];

/** Refused by Python: the same wording and offset are expected from parsePythonJson. */
const PYTHON_REFUSES = [
    "",
    "nan",
    "NAN",
    "+Infinity",
    "-NaN",
    "infinity",
    "-inf",
    "Infinityx",
    "NaN NaN",
    "[NaN,]",
    '{"a": NaN,}',
    "[NaN 1]",
    "[01]",
    "{'a': NaN}",
    '{"a" NaN}',
    "{1: NaN}",
    '["a\tb", NaN]',
    '["\\x", NaN]',
    '["\\u12", NaN]',
    '["abc, NaN',
    "[NaN",
    "-",
    "[NaN]]",
    "\ufeff[NaN]",
];

describe("parsePythonJson: Python's json.loads, NaN and Infinity included", () => {
    let accepted: PythonResult[] = [];
    let refused: PythonResult[] = [];
    before(() => {
        accepted = pythonLoads(PYTHON_ACCEPTS);
        refused = pythonLoads(PYTHON_REFUSES);
    });

    PYTHON_ACCEPTS.forEach((text, i) => {
        it(`reads ${JSON.stringify(text)} to the value Python reads`, () => {
            const python = accepted[i] as PythonResult;
            assert.ok(python.ok, `python3 refused ${text}`);
            assert.deepStrictEqual(parsePythonJson(text), untag(python.value));
        });
    });

    PYTHON_REFUSES.forEach((text, i) => {
        it(`refuses ${JSON.stringify(text)} with Python's message and offset`, () => {
            const python = refused[i] as PythonResult;
            assert.ok(!python.ok, `python3 accepted ${text}`);
            assert.throws(
                () => parsePythonJson(text),
                (err: unknown) => {
                    assert.ok(err instanceof PythonJsonError, String(err));
                    assert.deepStrictEqual({ msg: err.reason, pos: err.offset }, { msg: python.msg, pos: python.pos });
                    return true;
                },
            );
        });
    });

    it("most of the accepted texts are ones JSON.parse refuses (the extended parser is what reads them)", () => {
        const refusedByJsonParse = PYTHON_ACCEPTS.filter((text) => {
            try {
                JSON.parse(text);
                return false;
            } catch {
                return true;
            }
        });
        assert.strictEqual(refusedByJsonParse.length, PYTHON_ACCEPTS.length - 2);
    });

    it("a '__proto__' key is an ordinary own key, not the prototype", () => {
        const value = parsePythonJson('{"__proto__": {"polluted": NaN}}') as Record<string, unknown>;
        assert.deepStrictEqual(Object.keys(value), ["__proto__"]);
        assert.strictEqual(Object.getPrototypeOf(value), Object.prototype);
        assert.strictEqual((value as { polluted?: unknown }).polluted, undefined);
    });

    it("the message gives line and column as Python does", () => {
        assert.throws(() => parsePythonJson("[\n  NaN,\n  nan]"), {
            name: "PythonJsonError",
            message: "Expecting value: line 3 column 3 (char 11)",
        });
    });
});

// ---------------------------------------------------------------------------------------------------------------
// Reading a JSON array in chunks
// ---------------------------------------------------------------------------------------------------------------

function readInChunks(bytes: Uint8Array, chunkSize: number, options?: JsonArrayReaderOptions): unknown[] {
    const reader = new JsonArrayReader(options);
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += chunkSize) out.push(...reader.push(bytes.subarray(i, i + chunkSize)));
    reader.end();
    return out;
}

/** Strings full of the bytes the splitter looks at, escapes at every position, multi-byte UTF-8 and NaN. */
const TRICKY =
    ' [ {"a": "x,]}\\"[{", "b": ["\\\\", "é😀\u2028", NaN], "c": {"d": [[], {}]}} ,\n' +
    '"\\\\\\"", -Infinity,[[]],{} , 1e400,"tab\\tend\\u005c",  "\\"]"\r\n]\n ';

describe("JsonArrayReader: a top-level array, element by element, from chunks of bytes", () => {
    const documents: [string, Buffer][] = [
        ["tricky strings, nesting and Python's constants", Buffer.from(TRICKY, "utf8")],
        ["[]", Buffer.from("[]")],
        [" [ ]\\n", Buffer.from(" [ ]\n")],
        ["one number", Buffer.from("[7]")],
        ...fs
            .readdirSync(EXAMPLES_DIR)
            .filter((name) => !name.endsWith(".md"))
            .map((name): [string, Buffer] => [
                `${name}/predictions.json`,
                fs.readFileSync(path.join(EXAMPLES_DIR, name, "predictions.json")),
            ]),
    ];
    for (const [name, bytes] of documents) {
        it(`${name}: every chunk size gives the elements Python's json gives for the whole text`, () => {
            const whole = parsePythonJson(bytes.toString("utf8")) as unknown[];
            for (const chunkSize of [1, 2, 3, 5, 7, 11, 13, 64, 4096, bytes.length || 1]) {
                assert.deepStrictEqual(readInChunks(bytes, chunkSize), whole, `chunk size ${chunkSize}`);
            }
        });
    }

    it("the tricky document is what python3 reads", () => {
        const [python] = pythonLoads([TRICKY]);
        assert.ok(python?.ok);
        assert.deepStrictEqual(readInChunks(Buffer.from(TRICKY, "utf8"), 3), untag(python.value));
    });

    const errors: [string, string | Buffer, JsonArrayReadError["kind"], string][] = [
        ["empty input", "", "syntax", "Expecting value at byte 0"],
        ["only whitespace", " \n ", "syntax", "Expecting value at byte 3"],
        ["a byte-order mark", "\ufeff[]", "syntax", "Unexpected UTF-8 BOM (decode using utf-8-sig) at byte 0"],
        ["an object", '{"predict": []}', "not-array", "must be an array of records, got object"],
        ["a string", '"[1]"', "not-array", "must be an array of records, got string"],
        ["NaN", "NaN", "not-array", "must be an array of records, got NaN"],
        ["-Infinity", " -Infinity", "not-array", "must be an array of records, got -Infinity"],
        ["a number", "12", "not-array", "must be an array of records, got number"],
        ["true", "true", "not-array", "must be an array of records, got boolean"],
        ["null", "null", "not-array", "must be an array of records, got null"],
        ["a trailing comma", "[1,]", "syntax", "Expecting value at byte 3"],
        ["two commas", "[1,,2]", "syntax", "Expecting value at byte 3"],
        ["a missing comma", "[1 2]", "syntax", "record 0 (starting at byte 1): Extra data: line 1 column 3 (char 2)"],
        ["text after the array", "[1] x", "syntax", "Extra data at byte 4"],
        ["a second array", "[1][2]", "syntax", "Extra data at byte 3"],
        ["an unclosed array", "[1", "syntax", "Unterminated array (the input ends inside element 0) at byte 2"],
        ["an unclosed string", '[1, "ab', "syntax", "Unterminated string (the input ends inside element 1) at byte 7"],
        ["a stray }", "[}", "syntax", "Expecting ',' delimiter at byte 1"],
        ["a stray } after an object", '[{"a": 1}}]', "syntax", "Expecting ',' delimiter at byte 9"],
        [
            "mismatched brackets",
            "[[1}]",
            "syntax",
            "record 0 (starting at byte 1): Expecting ',' delimiter: line 1 column 3 (char 2)",
        ],
        [
            "lower-case nan",
            "[1, nan]",
            "syntax",
            "record 1 (starting at byte 3): Expecting value: line 1 column 2 (char 1)",
        ],
        [
            "invalid UTF-8",
            Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]),
            "utf8",
            "record 0 (bytes 1..4) is not valid UTF-8",
        ],
    ];
    for (const [name, input, kind, message] of errors) {
        it(`refuses ${name}, saying where, at any chunk size`, () => {
            const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
            for (const chunkSize of [1, 2, 1024]) {
                assert.throws(
                    () => readInChunks(bytes, chunkSize),
                    (err: unknown) => {
                        assert.ok(err instanceof JsonArrayReadError, String(err));
                        assert.deepStrictEqual({ kind: err.kind, message: err.message }, { kind, message });
                        return true;
                    },
                    `chunk size ${chunkSize}`,
                );
            }
        });
    }

    it("refuses an element larger than the string limit, naming it, before holding all of it", () => {
        const big = `"${"x".repeat(100)}"`;
        const bytes = Buffer.from(`["abcdef", ${big}, 1]`);
        // Element 1 is ' "xxx…"' (its leading space included): 103 bytes.
        assert.deepStrictEqual(readInChunks(bytes, 7, { maxElementBytes: 103 }), ["abcdef", "x".repeat(100), 1]);
        for (const chunkSize of [7, 1024]) {
            assert.throws(
                () => readInChunks(bytes, chunkSize, { maxElementBytes: 102 }),
                (err: unknown) => {
                    assert.ok(err instanceof JsonArrayReadError);
                    assert.strictEqual(err.kind, "too-large");
                    assert.match(
                        err.message,
                        /^record 1 \(at byte 10\) is at least 1\d\d bytes, and the largest string JavaScript can hold is 102 bytes: calc cannot read it$/,
                    );
                    return true;
                },
            );
        }
    });
});

// ---------------------------------------------------------------------------------------------------------------
// The CLI: NaN and Infinity
// ---------------------------------------------------------------------------------------------------------------

const C03 = path.join(EXAMPLES_DIR, "c03_rank_boundaries");
const C03_ITEMS = path.join(C03, "items.txt");
const C03_EXPECTED = fs.readFileSync(path.join(C03, "expected.txt"), "utf8");

/** JSON text in json.dump(indent=4) layout, where the strings "__NaN__", "__Inf__", "__-Inf__" become bare tokens. */
function pythonJsonText(value: unknown): string {
    return JSON.stringify(value, null, 4)
        .replace(/"__NaN__"/g, "NaN")
        .replace(/"__Inf__"/g, "Infinity")
        .replace(/"__-Inf__"/g, "-Infinity");
}

/** c03's records with extra keys calc.py never reads, holding NaN and both infinities (as an evaluator might). */
function c03WithNonFiniteScores(): string {
    const records = JSON.parse(fs.readFileSync(path.join(C03, "predictions.json"), "utf8")) as Record<
        string,
        unknown
    >[];
    return pythonJsonText(
        records.map((record, i) => ({
            ...record,
            scores: ["__NaN__", "__Inf__", "__-Inf__", i],
            loss: i % 2 === 0 ? "__NaN__" : "__-Inf__",
        })),
    );
}

/** Bad input: exit 2, nothing on stdout, exactly one stderr line that contains `message`. */
function assertBadInput(result: ReturnType<typeof runCli>, message: string): void {
    assert.strictEqual(result.status, 2, `exit code (stderr: ${result.stderr})`);
    assert.strictEqual(result.stdout, "");
    assert.ok(/^calc: error: [^\n]+\n$/.test(result.stderr), `one stderr line, got ${JSON.stringify(result.stderr)}`);
    assert.ok(result.stderr.includes(message), `${JSON.stringify(message)} in ${result.stderr}`);
}

describe("calc CLI: NaN and Infinity in the predictions JSON", () => {
    it("the test file has the tokens, and JSON.parse refuses it", () => {
        const text = c03WithNonFiniteScores();
        assert.deepStrictEqual(
            [/\bNaN\b/g, /[^-]Infinity\b/g, /-Infinity\b/g].map((pattern) => text.match(pattern)?.length),
            [13 + 7, 13, 13 + 6],
        );
        assert.throws(() => JSON.parse(text), SyntaxError);
    });

    for (const [mode, env] of MODES) {
        it(`${mode}: keys calc.py never reads may hold them, and the output is calc.py's (stand-in and recorded)`, () => {
            const file = writeFile("predictions.json", c03WithNonFiniteScores());
            const standIn = runStandIn(file, C03_ITEMS);
            assert.strictEqual(standIn.status, 0, standIn.stderr);
            assert.strictEqual(standIn.stdout, C03_EXPECTED);
            const result = runCli(["--path", file, "--item_path", C03_ITEMS], env);
            assert.strictEqual(result.stderr, "");
            assert.strictEqual(result.status, 0);
            assert.strictEqual(result.stdout, C03_EXPECTED);
        });
    }

    const ok = { output: "I1\n", predict: ["I1"] };
    const misplaced: [string, unknown, string, RegExp][] = [
        [
            "a beam",
            [ok, { output: "I1\n", predict: ["__NaN__", "I1"] }],
            'record 1: "predict"[0] must be a string, got NaN',
            /AttributeError: 'float' object has no attribute 'strip'/,
        ],
        [
            "the predict list",
            [{ output: "I1\n", predict: "__Inf__" }],
            'record 0: "predict" must be an array of strings, got Infinity',
            /TypeError: 'float' object is not iterable/,
        ],
        [
            "the output",
            [ok, ok, { output: "__-Inf__", predict: ["I1"] }],
            'record 2: "output" must be a string or a non-empty array, got -Infinity',
            /AttributeError: 'float' object has no attribute 'strip'/,
        ],
        [
            "the output list's first element",
            [{ output: ["__NaN__"], predict: ["I1"] }],
            'record 0: "output"[0] must be a string, got NaN',
            /AttributeError: 'float' object has no attribute 'strip'/,
        ],
        [
            "the whole file",
            "__NaN__",
            "predictions JSON must be an array of records, got NaN",
            /TypeError: 'float' object is not iterable/,
        ],
    ];
    for (const [where, records, message, pythonError] of misplaced) {
        it(`in ${where}, where calc.py needs a string or a list: exit 2 naming the value (calc.py crashes)`, () => {
            const file = writeFile("predictions.json", pythonJsonText(records));
            const items = writeFile("items.txt", "I1\tOne\t0\n");
            const standIn = runStandIn(file, items);
            assert.notStrictEqual(standIn.status, 0);
            assert.match(standIn.stderr, pythonError);
            for (const [mode, env] of MODES) {
                const result = runCli(["--path", file, "--item_path", items], env);
                assert.doesNotThrow(() => assertBadInput(result, `${file}: ${message}`), mode);
            }
        });
    }
});

// ---------------------------------------------------------------------------------------------------------------
// The CLI: streaming
// ---------------------------------------------------------------------------------------------------------------

const ITEMS = "I1\tOne\t0\nI2\tTwo\t1\nI3\tThree\t2\n";
/** Invalid predictions (printed before the block), an empty and a two-line one among them, and an escaped quote. */
const WITH_INVALID = [
    { output: "I1\n", predict: ['""', '"a\nb"', "I2", "I1"] },
    { output: "I2\n", predict: ["BAD", 'Q\\"', "I3"], score: "__NaN__" },
    { output: "I3\n", predict: ["I3", "BAD"] },
];

describe("calc CLI: predictions files above CALC_STREAM_ABOVE_BYTES are streamed", () => {
    for (const name of ["c01_all_hits_rank1", "c03_rank_boundaries", "c08_n1"]) {
        it(`${name}: streamed, plain output is expected.txt and --json is expected.json`, () => {
            const dir = path.join(EXAMPLES_DIR, name);
            const args = ["--path", path.join(dir, "predictions.json"), "--item_path", path.join(dir, "items.txt")];
            const plain = runCli(args, STREAM);
            assert.strictEqual(plain.status, 0, plain.stderr);
            assert.strictEqual(plain.stdout, fs.readFileSync(path.join(dir, "expected.txt"), "utf8"));
            const json = runCli([...args, "--json"], STREAM);
            assert.strictEqual(json.status, 0, json.stderr);
            const { command: _command, ...expected } = JSON.parse(
                fs.readFileSync(path.join(dir, "expected.json"), "utf8"),
            ) as Record<string, unknown>;
            assert.deepStrictEqual(JSON.parse(json.stdout), expected);
        });
    }

    it("invalid predictions print in calc.py's order (a second pass), equal to the whole-file run and the stand-in", () => {
        const file = writeFile("predictions.json", pythonJsonText(WITH_INVALID));
        const items = writeFile("items.txt", ITEMS);
        const standIn = runStandIn(file, items);
        assert.strictEqual(standIn.status, 0, standIn.stderr);
        assert.ok(standIn.stdout.startsWith("\nI1\na\nb\nI1\nBAD\nI2\nQ\\\nI2\n4\n[1, 3]\n"), standIn.stdout);
        for (const [mode, env] of MODES) {
            const result = runCli(["--path", file, "--item_path", items], env);
            assert.strictEqual(result.status, 0, `${mode}: ${result.stderr}`);
            assert.strictEqual(result.stdout, standIn.stdout, mode);
        }
    });

    it("several files, one streamed and one read whole, give the same blocks as both read whole", () => {
        const small = writeFile("small.json", pythonJsonText(WITH_INVALID.slice(0, 2)));
        const large = writeFile("large.json", pythonJsonText([...WITH_INVALID, ...WITH_INVALID]));
        const items = writeFile("items.txt", ITEMS);
        const threshold = String(fs.statSync(small).size);
        assert.ok(fs.statSync(large).size > fs.statSync(small).size);
        const args = ["--path", JSON.stringify([small, large]), "--item_path", items];
        const whole = runCli(args, WHOLE);
        const standIn = runStandIn(JSON.stringify([small, large]), items);
        assert.strictEqual(whole.stdout, standIn.stdout);
        for (const order of [args, ["--path", JSON.stringify([large, small]), "--item_path", items]]) {
            const mixed = runCli(order, { CALC_STREAM_ABOVE_BYTES: threshold });
            assert.strictEqual(mixed.status, 0, mixed.stderr);
            assert.strictEqual(mixed.stdout, runCli(order, WHOLE).stdout);
        }
        const json = runCli([...args, "--json"], { CALC_STREAM_ABOVE_BYTES: threshold });
        assert.strictEqual(json.stdout, runCli([...args, "--json"], WHOLE).stdout);
    });

    const bad: [string, string | Buffer, string][] = [
        ["not an array", '{"predict": []}', "predictions JSON must be an array of records, got object"],
        ["an empty array", "[\n]\n", "predictions JSON is an empty array (upstream calc.py crashes on it)"],
        [
            "a file cut short",
            pythonJsonText(WITH_INVALID).slice(0, pythonJsonText(WITH_INVALID).lastIndexOf("}") + 1),
            "predictions file is not valid JSON: Unterminated array (the input ends inside element 2) at byte",
        ],
        [
            "a malformed record after records with invalid predictions",
            pythonJsonText([...WITH_INVALID, { output: "I1\n" }]),
            'record 3: missing "predict"',
        ],
        [
            "bytes that are not UTF-8",
            Buffer.concat([
                Buffer.from('[{"output": "I1", "predict": ["I1", "'),
                Buffer.from([0xc3, 0x28]),
                Buffer.from('"]}]'),
            ]),
            "predictions file is not valid UTF-8: record 0 (bytes 1..",
        ],
    ];
    for (const [name, content, message] of bad) {
        it(`streamed, exit 2 and nothing on stdout: ${name}`, () => {
            const file = writeFile("predictions.json", content);
            const items = writeFile("items.txt", ITEMS);
            assertBadInput(runCli(["--path", file, "--item_path", items], STREAM), `${file}: ${message}`);
        });
    }

    it("a streamed syntax error gives the byte offset; the whole-file reader gives line and column", () => {
        const file = writeFile("predictions.json", '[{"output": "I1", "predict": ["I1"]},\n nan]');
        const items = writeFile("items.txt", ITEMS);
        const args = ["--path", file, "--item_path", items];
        assertBadInput(
            runCli(args, STREAM),
            `${file}: predictions file is not valid JSON: record 1 (starting at byte 37): Expecting value: line 2 column 2 (char 2)`,
        );
        assertBadInput(
            runCli(args, WHOLE),
            `${file}: predictions file is not valid JSON: Expecting value: line 2 column 2 (char 39)`,
        );
    });

    it("the threshold is a whole number of bytes up to the string limit; a bad value names the variable and the fix", () => {
        assert.strictEqual(streamThreshold({}), DEFAULT_STREAM_THRESHOLD);
        assert.strictEqual(streamThreshold({ [STREAM_THRESHOLD_ENV]: "" }), DEFAULT_STREAM_THRESHOLD);
        assert.strictEqual(streamThreshold({ [STREAM_THRESHOLD_ENV]: "0" }), 0);
        assert.strictEqual(streamThreshold({ [STREAM_THRESHOLD_ENV]: String(MAX_STRING_LENGTH) }), MAX_STRING_LENGTH);
        for (const raw of ["-1", "1.5", "1e6", "64MiB", " 5", String(MAX_STRING_LENGTH + 1)]) {
            assert.throws(() => streamThreshold({ [STREAM_THRESHOLD_ENV]: raw }), {
                message:
                    `CALC_STREAM_ABOVE_BYTES=${JSON.stringify(raw)} must be a whole number of bytes from 0 to ` +
                    `${MAX_STRING_LENGTH} (the longest string JavaScript can hold); unset it for the default 67108864`,
            });
        }
        const file = path.join(C03, "predictions.json");
        assertBadInput(
            runCli(["--path", file, "--item_path", C03_ITEMS], { CALC_STREAM_ABOVE_BYTES: "lots" }),
            'calc: error: CALC_STREAM_ABOVE_BYTES="lots" must be a whole number of bytes',
        );
    });
});

// ---------------------------------------------------------------------------------------------------------------
// The CLI: a stdout closed early
// ---------------------------------------------------------------------------------------------------------------

describe("calc CLI: piped into head", () => {
    let file: string;
    let items: string;
    let fullStdout: string;
    before(() => {
        // 4,000 records of 50 invalid predictions: 200,000 prints, megabytes of stdout, far beyond a pipe's buffer.
        const records = Array.from({ length: 4000 }, () => ({
            output: "I1\n",
            predict: Array.from({ length: 50 }, (_, i) => `BAD${i}`),
        }));
        file = writeFile("predictions.json", JSON.stringify(records));
        items = writeFile("items.txt", ITEMS);
        const full = runCli(["--path", file, "--item_path", items], WHOLE);
        assert.strictEqual(full.status, 0, full.stderr);
        fullStdout = full.stdout;
    });

    it("the full output is far larger than a pipe holds, so head closes it mid-write", () => {
        assert.ok(fullStdout.length > 1024 * 1024, `${fullStdout.length} bytes`);
        assert.ok(fullStdout.startsWith("BAD0\nI1\nBAD1\nI1\n"));
    });

    /** `npm run calc … | head -n 1` in bash with pipefail, so the pipeline's status is calc's (through npm). */
    function pipeIntoHead(npmFlags: string, env: Record<string, string>): ReturnType<typeof spawnSync> {
        const inherited = { ...process.env };
        delete inherited["CALC_STREAM_ABOVE_BYTES"];
        return spawnSync(
            "bash",
            [
                "-c",
                `set -o pipefail; npm run ${npmFlags} calc -- --path "$1" --item_path "$2" | head -n 1`,
                "bash",
                file,
                items,
            ],
            { cwd: REPO_ROOT, env: { ...inherited, ...env }, encoding: "utf8" },
        );
    }

    for (const [mode, env] of MODES) {
        it(`${mode}: npm run --silent calc | head -n 1 prints the first line and exits 0 with nothing on stderr`, () => {
            const result = pipeIntoHead("--silent", env);
            assert.deepStrictEqual(
                { status: result.status, stdout: result.stdout, stderr: result.stderr },
                { status: 0, stdout: "BAD0\n", stderr: "" },
            );
        });
    }

    it("npm run calc | head -n 1 (npm's banner first) exits 0 with nothing on stderr", () => {
        const result = pipeIntoHead("", WHOLE);
        assert.deepStrictEqual(
            { status: result.status, stdout: result.stdout, stderr: result.stderr },
            { status: 0, stdout: "\n", stderr: "" },
        );
    });
});
