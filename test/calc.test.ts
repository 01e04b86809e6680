/**
 * Tests for the calc.py port (components/metrics/: calc.ts, pythonText.ts, calcPyStdout.ts), its rendering of
 * calc.py's stdout (scripts/calc/render.ts, numpyFormat.ts), its CLI (scripts/calc.ts) and the pure-Python stand-in
 * for upstream calc.py (test/fixtures/minionerec/calc.py). The CLI's input edge cases (Python JSON, streaming,
 * a closed stdout) are in calcInput.test.ts.
 *
 * Ground truth comes from two places. The reference cases in test/fixtures/calc-examples were produced by the real
 * upstream calc.py with numpy. The hand-written cases use expectations derived independently, as 1/log2(rank+1)
 * per hit averaged over n. The numpy formatting is checked in three ways: fixed strings, the reference stdout, and
 * a cross-check against the stand-in, whose formatter is built differently (Python repr and '%e', not Dragon4).
 *
 * Not proven here: agreement with real numpy on inputs outside the reference cases (the stand-in only imitates
 * numpy), and Fire's parsing of argument values beyond plain strings and JSON-style lists (bare-word lists such as
 * [a.json,b.json], numbers).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import {
    assertRecordList,
    CalcEvaluation,
    CalcInputError,
    CalcMetrics,
    computeCalcMetrics,
    cpythonLn,
    evaluateCalc,
    evaluateCalcFiles,
} from "../components/metrics/calc";
import { CalcStdoutParseError, parseCalcPyStdout } from "../components/metrics/calcPyStdout";
import {
    normaliseBeam,
    normaliseTarget,
    parseItemCatalog,
    pythonStrip,
    splitUniversalNewlines,
} from "../components/metrics/pythonText";
import { resolveItemPath } from "../scripts/calc/inputFiles";
import { formatNumpyArray } from "../scripts/calc/numpyFormat";
import { formatCalcPyStdout, formatPythonIntList } from "../scripts/calc/render";
import { EXAMPLES_DIR, runCli, runPython, runStandIn, STAND_IN } from "./helpers/calcCli";
import { mulberry32 } from "./helpers/mulberry32";

const FLOAT_TOLERANCE = 1e-12;
/** numpy prints 8 significant decimals, so a parsed value of magnitude <= 1 is within 5e-9 of the true one. */
const PRINT_TOLERANCE = 5e-9;

// ---------------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------------

interface ReferenceExpected extends CalcMetrics {
    command: string;
}

interface ReferenceCase {
    name: string;
    dir: string;
    /** One path, or several when args.json holds a list (Fire's list-valued --path). */
    predictionsPaths: string[];
    itemPathArg: string;
    /** An object for one block; an array with one object per block is accepted for multi-path cases. */
    expected: ReferenceExpected | ReferenceExpected[];
    expectedStdout: string;
}

function loadReferenceCase(dir: string): ReferenceCase {
    const args = JSON.parse(fs.readFileSync(path.join(dir, "args.json"), "utf8")) as {
        path: string | string[];
        item_path: string;
    };
    return {
        name: path.basename(dir),
        dir,
        predictionsPaths: (Array.isArray(args.path) ? args.path : [args.path]).map((p) => path.join(dir, p)),
        itemPathArg: path.join(dir, args.item_path),
        expected: JSON.parse(fs.readFileSync(path.join(dir, "expected.json"), "utf8")) as ReferenceCase["expected"],
        expectedStdout: fs.readFileSync(path.join(dir, "expected.txt"), "utf8"),
    };
}

/** Pair each expected block with a computed one. A single expected object describes the last block. */
function expectedBlocks<T>(c: ReferenceCase, blocks: readonly T[]): [ReferenceExpected, T][] {
    if (Array.isArray(c.expected)) {
        assert.strictEqual(blocks.length, c.expected.length, "number of result blocks");
        return c.expected.map((e, i) => [e, blocks[i] as T]);
    }
    return [[c.expected, blocks[blocks.length - 1] as T]];
}

/** The --path argument as the CLI and the stand-in take it. */
function pathArgument(c: ReferenceCase): string {
    return c.predictionsPaths.length === 1 ? (c.predictionsPaths[0] as string) : JSON.stringify(c.predictionsPaths);
}

function listReferenceDirs(): string[] {
    if (!fs.existsSync(EXAMPLES_DIR)) return [];
    return fs
        .readdirSync(EXAMPLES_DIR, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => path.join(EXAMPLES_DIR, entry.name))
        .sort();
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance: number, label: string): void {
    assert.strictEqual(actual.length, expected.length, `${label}: length`);
    actual.forEach((value, i) => {
        const want = expected[i] as number;
        assert.ok(Math.abs(value - want) <= tolerance, `${label}[${i}]: got ${value}, want ${want} (±${tolerance})`);
    });
}

/** Call a function of the stand-in module with JSON arguments and return its JSON result. */
function callStandIn(expression: string, input: unknown): unknown {
    const script =
        "import json, sys\n" +
        `sys.path.insert(0, ${JSON.stringify(path.dirname(STAND_IN))})\n` +
        "import calc\n" +
        "data = json.load(sys.stdin)\n" +
        `print(json.dumps(${expression}))\n`;
    const result = runPython(["-c", script], JSON.stringify(input));
    assert.strictEqual(result.status, 0, `stand-in helper failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as unknown;
}

let tmpRootDir: string | undefined;
/** A temp directory for this file's cases, created on first use and removed after the run. */
function tmpRoot(): string {
    tmpRootDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "calc-test-"));
    return tmpRootDir;
}
after(() => {
    if (tmpRootDir !== undefined) fs.rmSync(tmpRootDir, { recursive: true, force: true });
});

/** Write predictions and an item file into a fresh directory under the test temp root. */
function writeCase(name: string, records: unknown, itemText: string): { predictionsPath: string; itemPath: string } {
    const dir = fs.mkdtempSync(path.join(tmpRoot(), `${name.replace(/[^a-z0-9]+/gi, "_")}-`));
    const predictionsPath = path.join(dir, "predictions.json");
    const itemPath = path.join(dir, "items.txt");
    fs.writeFileSync(predictionsPath, typeof records === "string" ? records : JSON.stringify(records, null, 4));
    fs.writeFileSync(itemPath, itemText);
    return { predictionsPath, itemPath };
}

// ---------------------------------------------------------------------------------------------------------------
// reference cases computed by upstream calc.py
// ---------------------------------------------------------------------------------------------------------------

describe("calc.py reference cases (test/fixtures/calc-examples)", () => {
    const dirs = listReferenceDirs();

    it("the reference directory holds the three recorded cases", () => {
        assert.deepStrictEqual(
            dirs.map((dir) => path.basename(dir)),
            ["c01_all_hits_rank1", "c03_rank_boundaries", "c08_n1"],
        );
    });

    for (const dir of dirs) {
        describe(path.basename(dir), () => {
            const load = (): ReferenceCase => loadReferenceCase(dir);
            const evaluate = (c: ReferenceCase): ReturnType<typeof evaluateCalcFiles> =>
                evaluateCalcFiles(
                    c.predictionsPaths.map((p) => JSON.parse(fs.readFileSync(p, "utf8")) as unknown),
                    fs.readFileSync(resolveItemPath(c.itemPathArg), "utf8"),
                );

            it("matches expected.json (exact n/invalid/k/n_beam, floats within 1e-12)", () => {
                const c = load();
                for (const [expected, { metrics }] of expectedBlocks(c, evaluate(c))) {
                    assert.strictEqual(metrics.n, expected.n);
                    assert.strictEqual(metrics.invalid, expected.invalid);
                    assert.deepStrictEqual(metrics.k, expected.k);
                    assert.strictEqual(metrics.n_beam, expected.n_beam);
                    assertClose(metrics.hr, expected.hr, FLOAT_TOLERANCE, "hr");
                    assertClose(metrics.ndcg, expected.ndcg, FLOAT_TOLERANCE, "ndcg");
                }
            });

            it("is bit-identical to expected.json floats (CPython log table, calc.py operation order)", () => {
                const c = load();
                for (const [expected, { metrics }] of expectedBlocks(c, evaluate(c))) {
                    assert.deepStrictEqual(metrics.hr, expected.hr);
                    assert.deepStrictEqual(metrics.ndcg, expected.ndcg);
                }
            });

            it("reproduces expected.txt byte for byte", () => {
                const c = load();
                const stdout = evaluate(c)
                    .map(({ metrics, invalidPredictions }) => formatCalcPyStdout(metrics, invalidPredictions))
                    .join("");
                assert.strictEqual(stdout, c.expectedStdout);
            });

            it("parses expected.txt back to the expected metrics (last block)", () => {
                const c = load();
                const expected = Array.isArray(c.expected)
                    ? (c.expected[c.expected.length - 1] as ReferenceExpected)
                    : c.expected;
                const parsed = parseCalcPyStdout(c.expectedStdout);
                assert.strictEqual(parsed.n_beam, expected.n_beam);
                assert.deepStrictEqual(parsed.k, expected.k);
                assert.strictEqual(parsed.invalid, expected.invalid);
                // Relative to magnitude: a multi-path block can print values above 1.
                const tolerance = PRINT_TOLERANCE * Math.max(1, ...expected.hr, ...expected.ndcg);
                assertClose(parsed.hr, expected.hr, tolerance, "hr");
                assertClose(parsed.ndcg, expected.ndcg, tolerance, "ndcg");
            });

            it("the Python stand-in prints expected.txt byte for byte", () => {
                const c = load();
                const result = runStandIn(pathArgument(c), c.itemPathArg);
                assert.strictEqual(result.status, 0, result.stderr);
                assert.strictEqual(result.stdout, c.expectedStdout);
            });
        });
    }
});

// ---------------------------------------------------------------------------------------------------------------
// hand-computed cases
// ---------------------------------------------------------------------------------------------------------------

interface HandCase {
    name: string;
    items: string;
    records: unknown[];
    /** 1-based rank of the first hit per record (null: miss); metrics follow from these independently of calc.ts. */
    ranks: (number | null)[];
    k: number[];
    nBeam: number;
    /** Expected invalid prints, as [prediction, target]. */
    invalid: [string, string][];
}

const ITEMS = "I1\tOne\t0\nI2\tTwo\t1\nI3\tThree\t2\nI4\tFour\t3\nI5\tFive\t4\nX\tEx\t5\nY\tWhy\t6\n";

const HAND_CASES: HandCase[] = [
    {
        name: "invalid predictions before the hit count, after it do not; a miss inspects every beam",
        items: ITEMS,
        records: [
            { output: "I3\n", predict: ["BAD1", "I1", "I3", "BAD2", "I2"] },
            { output: "I4\n", predict: ["I1", "BAD3", "I2", "BAD3", "I5"] },
        ],
        ranks: [3, null],
        k: [1, 3, 5],
        nBeam: 5,
        invalid: [
            ["BAD1", "I3"],
            ["BAD3", "I4"],
            ["BAD3", "I4"],
        ],
    },
    {
        name: "a target missing from the catalog is both a hit and an invalid prediction",
        items: ITEMS,
        records: [{ output: "NEW\n", predict: ["I1", "NEW", "I2"] }],
        ranks: [2],
        k: [1, 3],
        nBeam: 3,
        invalid: [["NEW", "NEW"]],
    },
    {
        name: "duplicates in the beam push the first occurrence of the target down",
        items: ITEMS,
        records: [
            { output: "I2\n", predict: ["I1", "I1", "I1", "I2", "I2"] },
            { output: "I1\n", predict: ["I1", "I1", "I3", "I4", "I5"] },
        ],
        ranks: [4, 1],
        k: [1, 3, 5],
        nBeam: 5,
        invalid: [],
    },
    {
        name: "whitespace and quote quirks of the beam and target strips",
        items: ITEMS,
        records: [
            // target '"X"\n' -> X; ' "X" ' -> '"X"' (quotes shielded), '"X"\r\n' -> 'X"', '\n"X"\n' -> 'X' (hit).
            { output: '"X"\n', predict: [' "X" ', '"X"\r\n', '\n"X"\n', "Y", "I1"] },
            // list output: only [0], stripped of '"' then ' ' -> 'Y'.
            { output: ['"Y"', "ignored"], predict: ["X", "Y"] },
            // string output keeps '\r': 'Y\r' never matches.
            { output: "Y\r\n", predict: ["Y", "X"] },
            // list output keeps '\n': 'Y\n' never matches.
            { output: ["Y\n"], predict: ["Y"] },
            // '"Y" ' as a list element: strip('"') stops at the space, so 'Y"' remains.
            { output: ['"Y" '], predict: ["Y"] },
            // tabs: kept by the target strip (miss below), removed from beams by the second strip.
            { output: "  Y  ", predict: ["\tY\t"] },
            { output: "\tY", predict: ["Y"] },
        ],
        ranks: [3, 2, null, null, null, 1, null],
        k: [1, 3, 5],
        nBeam: 5,
        invalid: [
            ['"X"', "X"],
            ['X"', "X"],
        ],
    },
    {
        name: "short beam lists: 7 beams give K [1,3,5]; later records may be longer or shorter",
        items: ITEMS,
        records: [
            { output: "I1\n", predict: ["I1", "I2", "I3", "I4", "I5", "X", "Y"] },
            // rank 8 is past max K: counts for nothing.
            { output: "Y\n", predict: ["I1", "I2", "I3", "I4", "I5", "X", "I1", "Y", "I2", "I3"] },
            { output: "I2\n", predict: ["I1", "I2"] },
        ],
        ranks: [1, null, 2],
        k: [1, 3, 5],
        nBeam: 7,
        invalid: [],
    },
    {
        name: "an empty first predict list gives K [] but invalid predictions are still counted",
        items: ITEMS,
        records: [
            { output: "I1\n", predict: [] },
            { output: "I1\n", predict: ["BAD", "I1"] },
        ],
        ranks: [null, null],
        k: [],
        nBeam: 0,
        invalid: [["BAD", "I1"]],
    },
    {
        name: "empty and multi-line predictions print verbatim; all-invalid records still count in n",
        items: ITEMS,
        records: [
            { output: "I1\n", predict: ['""', '"a\nb"', "I2"] },
            { output: "I1\n", predict: ["BAD", "BAD", "BAD"] },
            { output: "I2\n", predict: ["I2", "BAD", "BAD"] },
        ],
        ranks: [null, null, 1],
        k: [1, 3],
        nBeam: 3,
        invalid: [
            ["", "I1"],
            ["a\nb", "I1"],
            ["BAD", "I1"],
            ["BAD", "I1"],
            ["BAD", "I1"],
        ],
    },
    {
        name: "item file with CRLF, a blank line, a line without tab and no trailing newline",
        // The blank line puts "" into the catalog, so the empty prediction '""' is valid.
        items: "I1\tOne\t0\r\n\r\nI2\r\n  I3  \tThree\t2\rI4\tFour\t3",
        records: [
            { output: "I4\n", predict: ['""', "I2", "I3", "I4", "I5"] },
            { output: "I5\n", predict: ["I1", "I5"] },
        ],
        ranks: [4, 2],
        k: [1, 3, 5],
        nBeam: 5,
        invalid: [["I5", "I5"]],
    },
    {
        name: "50 beams, hits at every K boundary",
        items: ITEMS,
        records: [1, 2, 3, 4, 5, 6, 10, 11, 20, 21, 48, 50].map((rank) => ({
            output: "Y\n",
            predict: Array.from({ length: 50 }, (_, i) => (i === rank - 1 ? "Y" : "X")),
        })),
        ranks: [1, 2, 3, 4, 5, 6, 10, 11, 20, 21, 48, 50],
        k: [1, 3, 5, 10, 20, 50],
        nBeam: 50,
        invalid: [],
    },
];

function handCase(namePrefix: string): HandCase {
    const found = HAND_CASES.find((c) => c.name.startsWith(namePrefix));
    assert.ok(found !== undefined, `no hand case named ${namePrefix}...`);
    return found;
}

/** Independent expectation: HR@K = share of ranks <= K; NDCG@K = mean of 1/log2(rank + 1) over ranks <= K. */
function expectedFromRanks(c: HandCase): { hr: number[]; ndcg: number[] } {
    const n = c.ranks.length;
    const hits = (k: number): number[] => c.ranks.filter((r): r is number => r !== null && r <= k);
    return {
        hr: c.k.map((k) => hits(k).length / n),
        ndcg: c.k.map((k) => hits(k).reduce((sum, r) => sum + 1 / Math.log2(r + 1), 0) / n),
    };
}

describe("calc metrics: hand-computed cases", () => {
    for (const c of HAND_CASES) {
        describe(c.name, () => {
            it("computes n, invalid, K, n_beam, HR and NDCG", () => {
                const metrics = computeCalcMetrics(c.records, c.items);
                const expected = expectedFromRanks(c);
                assert.strictEqual(metrics.n, c.records.length);
                assert.strictEqual(metrics.invalid, c.invalid.length);
                assert.deepStrictEqual(metrics.k, c.k);
                assert.strictEqual(metrics.n_beam, c.nBeam);
                assertClose(metrics.hr, expected.hr, FLOAT_TOLERANCE, "hr");
                assertClose(metrics.ndcg, expected.ndcg, FLOAT_TOLERANCE, "ndcg");
            });

            it("reports the invalid predictions in scan order", () => {
                const { invalidPredictions } = evaluateCalc(c.records, c.items);
                assert.deepStrictEqual(
                    invalidPredictions.map((p) => [p.prediction, p.target]),
                    c.invalid,
                );
            });

            it("prints the same stdout as the Python stand-in", () => {
                const { metrics, invalidPredictions } = evaluateCalc(c.records, c.items);
                const files = writeCase(c.name, c.records, c.items);
                const result = runStandIn(files.predictionsPath, files.itemPath);
                assert.strictEqual(result.status, 0, result.stderr);
                assert.strictEqual(formatCalcPyStdout(metrics, invalidPredictions), result.stdout);
            });
        });
    }

    it("HR@1 and NDCG@1 differ in the last bit exactly as calc.py does (§6)", () => {
        const hit = { output: "I1\n", predict: ["I1"] };
        const miss = { output: "I2\n", predict: ["I1"] };
        const seven = computeCalcMetrics([hit, hit, hit, miss, miss, miss, miss], ITEMS);
        assert.strictEqual(seven.hr[0], 0.42857142857142855);
        assert.strictEqual(seven.ndcg[0], 0.4285714285714285);
        assert.strictEqual(computeCalcMetrics([hit, hit, hit], ITEMS).ndcg[0], 0.9999999999999999);
        const rank7 = { output: "Y\n", predict: ["X", "X", "X", "X", "X", "X", "Y"] };
        assert.strictEqual(computeCalcMetrics([rank7], ITEMS).ndcg[2], 0);
        const rank7of10 = { output: "Y\n", predict: [...rank7.predict, "X", "X", "X"] };
        assert.strictEqual(computeCalcMetrics([rank7of10], ITEMS).ndcg[3], 0.33333333333333337);
    });

    it("uses CPython ln 3 (rank 2), where V8 Math.log is one ulp off", () => {
        const rank2 = { output: "Y\n", predict: ["X", "Y", "X"] };
        // 1/ln(3) / 1 / (1/ln 2) with CPython's ln 3 = 1.0986122886681098.
        assert.strictEqual(
            computeCalcMetrics([rank2], ITEMS).ndcg[1],
            1 / 1.0986122886681098 / (1 / 0.6931471805599453),
        );
    });
});

// ---------------------------------------------------------------------------------------------------------------
// several predictions files in one run (Fire's list-valued --path, spec §6)
// ---------------------------------------------------------------------------------------------------------------

const FILE_A = [
    { output: "I1\n", predict: ["BAD", "I1", "I2"] },
    { output: "I2\n", predict: ["I2", "I1", "I3"] },
    { output: "I3\n", predict: ["I3"] },
];
const FILE_B = [
    { output: "I1\n", predict: ["I2", "I1"] },
    { output: "I5\n", predict: ["I1", "NOPE", "I2", "I3"] },
];

describe("calc metrics: several predictions files in one run", () => {
    it("carries n_beam, K, accumulators and the invalid count over, dividing by each file's own n", () => {
        const [a, b] = evaluateCalcFiles([FILE_A, FILE_B], ITEMS) as [CalcEvaluation, CalcEvaluation];
        assert.deepStrictEqual(
            { n: a.metrics.n, invalid: a.metrics.invalid, k: a.metrics.k },
            { n: 3, invalid: 1, k: [1, 3] },
        );
        // File A: ranks 2, 1, 1.
        assertClose(a.metrics.hr, [2 / 3, 1], FLOAT_TOLERANCE, "A hr");
        assertClose(a.metrics.ndcg, [2 / 3, (2 + 1 / Math.log2(3)) / 3], FLOAT_TOLERANCE, "A ndcg");
        // File B adds ranks 2 and a miss to the running sums, then divides by its own n = 2: HR@3 = 4/2 = 2.
        assert.deepStrictEqual(
            { n: b.metrics.n, invalid: b.metrics.invalid, n_beam: b.metrics.n_beam },
            { n: 2, invalid: 2, n_beam: 3 },
        );
        assertClose(b.metrics.hr, [2 / 2, 4 / 2], FLOAT_TOLERANCE, "B hr");
        assertClose(b.metrics.ndcg, [2 / 2, (2 + 2 / Math.log2(3)) / 2], FLOAT_TOLERANCE, "B ndcg");
        assert.deepStrictEqual(
            b.invalidPredictions.map((p) => [p.record, p.position, p.prediction]),
            [[1, 1, "NOPE"]],
        );
    });

    it("prints the same stdout as the Python stand-in given a list-valued --path", () => {
        const fileA = writeCase("multi-a", FILE_A, ITEMS);
        const fileB = writeCase("multi-b", FILE_B, ITEMS);
        const result = runStandIn(JSON.stringify([fileA.predictionsPath, fileB.predictionsPath]), fileA.itemPath);
        assert.strictEqual(result.status, 0, result.stderr);
        const stdout = evaluateCalcFiles([FILE_A, FILE_B], ITEMS)
            .map(({ metrics, invalidPredictions }) => formatCalcPyStdout(metrics, invalidPredictions))
            .join("");
        assert.strictEqual(stdout, result.stdout);
        assert.ok(stdout.includes("\nHR\t[1. 2.]\n2\n"), "cumulative HR above 1");
    });

    it("names the file of a bad record by index", () => {
        assert.throws(
            () => evaluateCalcFiles([FILE_A, [{ output: "x" }]], ITEMS),
            (err: unknown) => err instanceof CalcInputError && err.fileIndex === 1 && err.recordIndex === 0,
        );
        assert.throws(() => evaluateCalcFiles([], ITEMS), /no predictions files given/);
    });
});

// ---------------------------------------------------------------------------------------------------------------
// parsing and normalisation
// ---------------------------------------------------------------------------------------------------------------

describe("calc string semantics", () => {
    it("pythonStrip removes exactly the str.isspace() set", () => {
        assert.strictEqual(pythonStrip("\x1c\x1d\x1e\x1f\x85\xa0\u2028\u3000 X \t\n\x0b\x0c\r"), "X");
        assert.strictEqual(pythonStrip("\ufeffX\ufeff"), "\ufeffX\ufeff"); // JS trim() would remove U+FEFF
        assert.strictEqual(pythonStrip("\u200bX"), "\u200bX"); // zero-width space is not whitespace
        assert.strictEqual(pythonStrip(" a b "), "a b");
    });

    it('normaliseBeam strips `"`/LF first, then whitespace', () => {
        assert.strictEqual(normaliseBeam(' "X" '), '"X"');
        assert.strictEqual(normaliseBeam('"X"\r\n'), 'X"');
        assert.strictEqual(normaliseBeam('\n"X"\n'), "X");
        assert.strictEqual(normaliseBeam('""'), "");
        assert.strictEqual(normaliseBeam('"\n\t X Y \t\n"'), "X Y");
    });

    it('normaliseTarget: string strips space/LF/`"`, list strips `"` then spaces of element 0', () => {
        assert.strictEqual(normaliseTarget("X\r\n"), "X\r");
        assert.strictEqual(normaliseTarget(' "X"\n'), "X");
        assert.strictEqual(normaliseTarget("\tX"), "\tX");
        assert.strictEqual(normaliseTarget(['"X"', "other"]), "X");
        assert.strictEqual(normaliseTarget(["X\n"]), "X\n");
        assert.strictEqual(normaliseTarget([' "X" ']), '"X"');
        assert.strictEqual(normaliseTarget(['"X" ']), 'X"');
    });

    it("splitUniversalNewlines follows readlines() with universal newlines", () => {
        assert.deepStrictEqual(splitUniversalNewlines(""), []);
        assert.deepStrictEqual(splitUniversalNewlines("a\n"), ["a"]);
        assert.deepStrictEqual(splitUniversalNewlines("a\nb"), ["a", "b"]);
        assert.deepStrictEqual(splitUniversalNewlines("a\r\nb\rc\n\n"), ["a", "b", "c", ""]);
        assert.deepStrictEqual(splitUniversalNewlines("a\u2028b\x85c\x0bd\x0ce\x1cf"), [
            "a\u2028b\x85c\x0bd\x0ce\x1cf",
        ]);
    });

    it("parseItemCatalog keeps the first tab column, stripped", () => {
        assert.deepStrictEqual(
            parseItemCatalog("I1\tt\t0\r\n\r\nI2\n  I3 \tt\t2\rI4\tt\tx\tmore\n\x1cI5\x1c\tt\n\ufeffI6\tt\nI1\tdup\t7"),
            new Set(["I1", "", "I2", "I3", "I4", "I5", "\ufeffI6"]),
        );
    });

    it("a final newline adds no empty item, an extra one does", () => {
        assert.deepStrictEqual(parseItemCatalog("I1\tt\t0\n"), new Set(["I1"]));
        assert.deepStrictEqual(parseItemCatalog("I1\tt\t0\n\n"), new Set(["I1", ""]));
        assert.deepStrictEqual(parseItemCatalog(""), new Set());
    });

    it("resolveItemPath cuts one trailing .txt and appends .txt", () => {
        assert.strictEqual(resolveItemPath("info/Office"), "info/Office.txt");
        assert.strictEqual(resolveItemPath("info/Office.txt"), "info/Office.txt");
        assert.strictEqual(resolveItemPath("a.txt.txt"), "a.txt.txt");
        assert.strictEqual(resolveItemPath("a.TXT"), "a.TXT.txt");
    });

    it("cpythonLn matches CPython math.log for 2..51 and differs from V8 only at 3 and 48", () => {
        const result = runPython([
            "-c",
            "import math, json; print(json.dumps([repr(math.log(i)) for i in range(2, 52)]))",
        ]);
        assert.strictEqual(result.status, 0, result.stderr);
        const cpython = (JSON.parse(result.stdout) as string[]).map(Number);
        cpython.forEach((value, i) => assert.strictEqual(cpythonLn(i + 2), value, `ln ${i + 2}`));
        const differs = cpython.map((_, i) => i + 2).filter((n) => cpythonLn(n) !== Math.log(n));
        assert.deepStrictEqual(differs, [3, 48]);
        assert.throws(() => cpythonLn(52), RangeError);
        assert.throws(() => cpythonLn(2.5), RangeError);
    });
});

describe("calc input validation", () => {
    const ok = { output: "I1\n", predict: ["I1"] };
    const cases: { name: string; records: unknown; message: RegExp; recordIndex?: number }[] = [
        {
            name: "not a list",
            records: { predict: [] },
            message: /^predictions JSON must be an array of records, got object$/,
        },
        { name: "empty list", records: [], message: /empty array/ },
        { name: "record is null", records: [ok, null], message: /^record 1: must be an object/, recordIndex: 1 },
        {
            name: "record is a list",
            records: [[]],
            message: /^record 0: must be an object .* got array$/,
            recordIndex: 0,
        },
        {
            name: "missing predict",
            records: [ok, ok, { output: "x" }],
            message: /^record 2: missing "predict"$/,
            recordIndex: 2,
        },
        {
            name: "predict is a string",
            records: [{ output: "x", predict: "abc" }],
            message: /^record 0: "predict" must be an array of strings, got string$/,
            recordIndex: 0,
        },
        {
            name: "non-string beam",
            records: [ok, { output: "x", predict: ["a", "b", 7] }],
            message: /^record 1: "predict"\[2\] must be a string, got number$/,
            recordIndex: 1,
        },
        { name: "missing output", records: [{ predict: [] }], message: /^record 0: missing "output"$/, recordIndex: 0 },
        {
            name: "output []",
            records: [{ predict: [], output: [] }],
            message: /^record 0: "output" is an empty array$/,
        },
        {
            name: "output number",
            records: [{ predict: [], output: 5 }],
            message: /^record 0: "output" must be a string or a non-empty array, got number$/,
        },
        {
            name: "output [5]",
            records: [{ predict: [], output: [5] }],
            message: /^record 0: "output"\[0\] must be a string, got number$/,
        },
    ];
    for (const c of cases) {
        it(`rejects ${c.name}`, () => {
            assert.throws(
                () => computeCalcMetrics(assertRecordList(c.records), ITEMS),
                (err: unknown) => {
                    assert.ok(err instanceof CalcInputError, `expected CalcInputError, got ${String(err)}`);
                    assert.match(err.message, c.message);
                    if (c.recordIndex !== undefined) assert.strictEqual(err.recordIndex, c.recordIndex);
                    return true;
                },
            );
        });
    }

    it("computeCalcMetrics validates on its own too", () => {
        assert.throws(() => computeCalcMetrics([], ITEMS), CalcInputError);
    });
});

// ---------------------------------------------------------------------------------------------------------------
// numpy formatting
// ---------------------------------------------------------------------------------------------------------------

describe("numpy array str formatting", () => {
    const fixed: [number[], string][] = [
        [[], "[]"],
        [[1, 1, 1], "[1. 1. 1.]"],
        [[0, 1 / 3], "[0.         0.33333333]"],
        [[0, 0, 0, 1, 1, 1], "[0. 0. 0. 1. 1. 1.]"],
        [[0.1 + 0.2], "[0.3]"],
        [[0.5, 0.25, 0.125], "[0.5   0.25  0.125]"],
        // Ties at the 8th decimal round half to even on the exact binary value (toFixed would round up).
        [[1 / 512], "[0.00195312]"],
        [[3 / 512], "[0.00585938]"],
        // Exponent mode: smallest non-zero < 1e-4, with wrap at 75 columns and continuation indent.
        [
            [1 / 1200, 1, 1, 1, 1, 1],
            "[8.33333333e-04 1.00000000e+00 1.00000000e+00 1.00000000e+00\n 1.00000000e+00 1.00000000e+00]",
        ],
        [[1e-5, 1], "[1.e-05 1.e+00]"],
        [[0, 2 ** -14], "[0.00000000e+00 6.10351562e-05]"],
        // Exponent mode because max/min > 1e3, though min >= 1e-4; exactly 1e3 stays positional.
        [[0.0005, 0.9], "[5.e-04 9.e-01]"],
        [[0.001, 1], "[0.001 1.   ]"],
        [[0.0001, 0.1], "[0.0001 0.1   ]"],
        [[1e8], "[1.e+08]"],
        [[9.9999999999e-5, 1], "[1.e-04 1.e+00]"],
        [[-0, 1], "[-0.  1.]"],
        [[-0.5, 12.25], "[-0.5  12.25]"],
        // Positional wrap: 6 words of 10 characters fit, the 7th would pass column 74.
        [
            Array(8).fill(0.12345678),
            `[${Array(6).fill("0.12345678").join(" ")}\n ${Array(2).fill("0.12345678").join(" ")}]`,
        ],
    ];
    for (const [values, expected] of fixed) {
        it(`${JSON.stringify(values)} -> ${JSON.stringify(expected)}`, () => {
            assert.strictEqual(formatNumpyArray(values), expected);
        });
    }

    it("rejects non-finite values", () => {
        assert.throws(() => formatNumpyArray([Number.NaN]), RangeError);
        assert.throws(() => formatNumpyArray([1, Infinity]), RangeError);
    });

    it("formats the K list like Python", () => {
        assert.strictEqual(formatPythonIntList([1, 3, 5, 10, 20, 50]), "[1, 3, 5, 10, 20, 50]");
        assert.strictEqual(formatPythonIntList([]), "[]");
    });

    it("agrees with the stand-in formatter (independent implementation) on 1,360 arrays", () => {
        const random = mulberry32(20250101);
        const arrays: number[][] = [];
        // Every HR/NDCG-shaped value h/n for small n, grouped as calc.py would print them.
        for (let n = 1; n <= 60; n++) arrays.push(Array.from({ length: 6 }, (_, i) => Math.min(i * 2 + 1, n) / n));
        // NDCG-like sums: accumulated 1/ln(r+2) over records, then / n / (1/ln 2).
        for (let trial = 0; trial < 300; trial++) {
            const n = 1 + Math.floor(random() * 5000);
            const acc = [0, 0, 0, 0, 0, 0];
            for (let r = 0; r < Math.floor(random() * 200); r++) {
                const rank0 = Math.floor(random() * 60);
                [1, 3, 5, 10, 20, 50].forEach((k, i) => {
                    if (rank0 < k) acc[i] = (acc[i] as number) + 1 / cpythonLn(rank0 + 2);
                });
            }
            arrays.push(acc.map((a) => a / n / (1 / cpythonLn(2))));
        }
        // Mixed magnitudes, dyadic ties, values right at 8-digit rounding boundaries, zeros.
        for (let trial = 0; trial < 1000; trial++) {
            const length = 1 + Math.floor(random() * 8);
            arrays.push(
                Array.from({ length }, () => {
                    const kind = Math.floor(random() * 5);
                    if (kind === 0) return 0;
                    if (kind === 1) return Math.floor(random() * 4096) / 2 ** (1 + Math.floor(random() * 30));
                    if (kind === 2) return (Math.floor(random() * 1e8) + 0.5) / 1e8;
                    if (kind === 3) return 10 ** (random() * 16 - 7);
                    return random();
                }),
            );
        }
        const ours = arrays.map(formatNumpyArray);
        const theirs = callStandIn(
            "[calc.format_float_array([float(v) for v in a]) for a in data]",
            arrays,
        ) as string[];
        const mismatches = arrays
            .map((values, i) => ({ values, ours: ours[i], theirs: theirs[i] }))
            .filter((m) => m.ours !== m.theirs);
        assert.deepStrictEqual(mismatches.slice(0, 5), [], `${mismatches.length} of ${arrays.length} arrays differ`);
    });
});

// ---------------------------------------------------------------------------------------------------------------
// stdout round trip and parser errors
// ---------------------------------------------------------------------------------------------------------------

describe("calc.py stdout parser", () => {
    it("round-trips formatCalcPyStdout, skipping invalid prints that look like result lines", () => {
        const metrics: CalcMetrics = {
            n: 1200,
            invalid: 3,
            k: [1, 3, 5, 10, 20, 50],
            hr: [1 / 1200, 0.5, 0.5, 0.75, 1, 1],
            // max/min = 1080 > 1e3: exponent mode, which wraps.
            ndcg: [1 / 1200, 0.25, 0.3, 0.4, 0.5, 0.9],
            n_beam: 50,
        };
        const prints = [
            { record: 0, position: 0, prediction: "HR\t[1.]", target: "7" },
            { record: 0, position: 1, prediction: " 1.]", target: "NDCG:\t[0.5" },
            { record: 1, position: 0, prediction: "", target: "[1, 3]" },
        ];
        const stdout = formatCalcPyStdout(metrics, prints);
        assert.ok(
            stdout.startsWith(
                "HR\t[1.]\n7\n 1.]\nNDCG:\t[0.5\n\n[1, 3]\n50\n[1, 3, 5, 10, 20, 50]\nNDCG:\t[8.33333333e-04",
            ),
        );
        assert.ok(stdout.includes("\n 5.00000000e-01 9.00000000e-01]\nHR\t[8.33333333e-04"), "arrays wrap");
        const parsed = parseCalcPyStdout(stdout);
        assert.strictEqual(parsed.n_beam, 50);
        assert.deepStrictEqual(parsed.k, metrics.k);
        assert.strictEqual(parsed.invalid, 3);
        assertClose(parsed.hr, metrics.hr, PRINT_TOLERANCE, "hr");
        assertClose(parsed.ndcg, metrics.ndcg, PRINT_TOLERANCE, "ndcg");
    });

    it("parses an empty K list and output without a trailing newline", () => {
        assert.deepStrictEqual(parseCalcPyStdout("BAD\nI1\n0\n[]\nNDCG:\t[]\nHR\t[]\n1"), {
            n_beam: 0,
            k: [],
            hr: [],
            ndcg: [],
            invalid: 1,
        });
    });

    it("accepts CRLF line endings", () => {
        const parsed = parseCalcPyStdout("X\r\nY\r\n3\r\n[1, 3]\r\nNDCG:\t[1. 1.]\r\nHR\t[0.5 1. ]\r\n2\r\n");
        assert.deepStrictEqual(parsed, { n_beam: 3, k: [1, 3], hr: [0.5, 1], ndcg: [1, 1], invalid: 2 });
    });

    it("reads only the last block of a multi-path run", () => {
        const block = "10\n[1, 3, 5, 10]\nNDCG:\t[0.5 0.5 0.5 0.5]\nHR\t[0.5 0.5 0.5 0.5]\n0\n";
        const last = "10\n[1, 3, 5, 10]\nNDCG:\t[1. 1. 1. 1.]\nHR\t[1.33333333 1. 1. 1.]\n2\n";
        const parsed = parseCalcPyStdout(block + last);
        assert.deepStrictEqual(parsed.hr, [1.33333333, 1, 1, 1]);
        assert.strictEqual(parsed.invalid, 2);
    });

    const good = "50\n[1, 3, 5, 10, 20, 50]\nNDCG:\t[0.1 0.2 0.3 0.4 0.5 0.6]\nHR\t[0.1 0.2 0.3 0.4 0.5 0.6]\n0\n";
    const malformed: [string, string, RegExp][] = [
        ["empty text", "", /at least 5 lines/],
        ["missing invalid count", `X\n${good.replace(/0\n$/, "")}`, /invalid-count \(last\) line must be an integer/],
        [
            "non-integer invalid count",
            good.replace(/0\n$/, "x\n"),
            /invalid-count \(last\) line must be an integer, got "x"/,
        ],
        ["HR without tab", good.replace("HR\t", "HR "), /expected a line starting with "HR\\t"/],
        ["NDCG without colon", good.replace("NDCG:\t", "NDCG\t"), /expected a line starting with "NDCG:\\t"/],
        ["an extra line after HR (fork with AUC)", good.replace(/0\n$/, "AUC_pos_vs_neg\t0.5\n0\n"), /"HR\\t"/],
        ["unterminated array", good.replace("0.6]\nHR", "0.6\nHR"), /NDCG array must be enclosed in \[ \]/],
        ["nan element", good.replace("HR\t[0.1", "HR\t[nan"), /HR array has a non-numeric element "nan"/],
        [
            "K list not Python repr",
            good.replace("[1, 3, 5, 10, 20, 50]", "[1,3,5,10,20,50]"),
            /K list line must look like/,
        ],
        ["K list inconsistent with n_beam", good.replace(/^50/, "10"), /does not follow from n_beam 10/],
        ["array length mismatch", good.replace("HR\t[0.1 ", "HR\t["), /5 HR values/],
        ["missing n_beam", `X\n${good.replace(/^50\n/, "")}`, /n_beam line must be an integer, got "X"/],
    ];
    for (const [name, text, message] of malformed) {
        it(`rejects ${name}`, () => {
            assert.throws(
                () => parseCalcPyStdout(text),
                (err: unknown) => err instanceof CalcStdoutParseError && message.test(err.message),
            );
        });
    }
});

// ---------------------------------------------------------------------------------------------------------------
// the Python stand-in's own upstream behaviours
// ---------------------------------------------------------------------------------------------------------------

describe("Python stand-in for upstream calc.py", () => {
    it("crashes on an empty list after printing -1 and [] (the case the port rejects)", () => {
        const files = writeCase("standin-empty", [], ITEMS);
        const result = runStandIn(files.predictionsPath, files.itemPath);
        assert.notStrictEqual(result.status, 0);
        assert.strictEqual(result.stdout, "-1\n[]\n");
        // UnboundLocalError (a NameError subclass) on Python 3.11, as ALLNDCG is a local of gao().
        assert.match(result.stderr, /UnboundLocalError|NameError/);
    });

    it("accepts --item_path without .txt and the --flag=value form", () => {
        const files = writeCase("standin-args", handCase("invalid predictions before").records, ITEMS);
        const result = runPython([
            STAND_IN,
            `--path=${files.predictionsPath}`,
            "--item-path",
            files.itemPath.slice(0, -4),
        ]);
        assert.strictEqual(result.status, 0, result.stderr);
        assert.ok(result.stdout.startsWith("BAD1\nI3\n"));
    });
});

// ---------------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------------

describe("scripts/calc.ts CLI", () => {
    it("has reference cases to run", () => {
        assert.ok(listReferenceDirs().length > 0, `no reference cases in ${EXAMPLES_DIR}`);
    });

    for (const dir of listReferenceDirs()) {
        it(`${path.basename(dir)}: --json prints {n, invalid, k, hr, ndcg, n_beam} lines equal to expected.json`, () => {
            const c = loadReferenceCase(dir);
            const result = runCli(["--path", pathArgument(c), "--item_path", c.itemPathArg, "--json"]);
            assert.strictEqual(result.status, 0, result.stderr);
            assert.strictEqual(result.stderr, "");
            assert.ok(result.stdout.endsWith("\n"), "newline-terminated");
            const lines = result.stdout.slice(0, -1).split("\n");
            assert.strictEqual(lines.length, c.predictionsPaths.length, "one line per predictions file");
            const blocks = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
            for (const [expected, parsed] of expectedBlocks(c, blocks)) {
                assert.deepStrictEqual(Object.keys(parsed), ["n", "invalid", "k", "hr", "ndcg", "n_beam"]);
                const { command: _command, ...metrics } = expected;
                assert.deepStrictEqual(parsed, metrics);
            }
        });

        it(`${path.basename(dir)}: plain mode prints expected.txt (item path without .txt, --flag=value form)`, () => {
            const c = loadReferenceCase(dir);
            const itemPath = c.itemPathArg.endsWith(".txt") ? c.itemPathArg.slice(0, -4) : c.itemPathArg;
            const result = runCli([`--path=${pathArgument(c)}`, `--item_path=${itemPath}`]);
            assert.strictEqual(result.status, 0, result.stderr);
            assert.strictEqual(result.stdout, c.expectedStdout);
        });
    }

    it("plain mode includes the invalid-prediction prints", () => {
        const hand = handCase("empty and multi-line predictions");
        const files = writeCase("cli-invalid", hand.records, hand.items);
        const result = runCli(["--path", files.predictionsPath, "--item-path", files.itemPath]);
        assert.strictEqual(result.status, 0, result.stderr);
        const { metrics, invalidPredictions } = evaluateCalc(hand.records, hand.items);
        assert.strictEqual(result.stdout, formatCalcPyStdout(metrics, invalidPredictions));
    });

    /** Bad input: exit 2, nothing on stdout, exactly one stderr line matching every pattern. */
    function assertBadInput(args: readonly string[], patterns: readonly (string | RegExp)[]): void {
        const result = runCli(args);
        assert.strictEqual(result.status, 2, `exit code (stderr: ${result.stderr})`);
        assert.strictEqual(result.stdout, "");
        assert.ok(
            /^calc: error: [^\n]+\n$/.test(result.stderr),
            `one stderr line, got ${JSON.stringify(result.stderr)}`,
        );
        for (const pattern of patterns) {
            if (typeof pattern === "string")
                assert.ok(result.stderr.includes(pattern), `${JSON.stringify(pattern)} in ${result.stderr}`);
            else assert.match(result.stderr, pattern);
        }
    }

    it("exit 2: missing predictions file", () => {
        const missing = path.join(tmpRoot(), "nope.json");
        assertBadInput(["--path", missing, "--item_path", "x"], [missing, "cannot read predictions file", "ENOENT"]);
    });

    it("exit 2: missing item file (names the resolved .txt path)", () => {
        const files = writeCase("cli-no-items", [{ output: "a", predict: ["a"] }], ITEMS);
        const missing = path.join(path.dirname(files.itemPath), "absent");
        assertBadInput(
            ["--path", files.predictionsPath, "--item_path", missing],
            [`${missing}.txt`, "cannot read item file"],
        );
    });

    it("exit 2: predictions file is not JSON", () => {
        const files = writeCase("cli-not-json", '[{"predict": [', ITEMS);
        assertBadInput(
            ["--path", files.predictionsPath, "--item_path", files.itemPath],
            [files.predictionsPath, "not valid JSON"],
        );
    });

    it("exit 2: an item file that is not UTF-8 (Python would raise UnicodeDecodeError)", () => {
        const files = writeCase("cli-latin1", [{ output: "a", predict: ["a"] }], ITEMS);
        fs.writeFileSync(files.itemPath, Buffer.from([0x49, 0x31, 0xe9, 0x09, 0x74, 0x0a]));
        assertBadInput(
            ["--path", files.predictionsPath, "--item_path", files.itemPath],
            [files.itemPath, "not valid UTF-8"],
        );
    });

    it("exit 2: predictions JSON is not a list", () => {
        const files = writeCase("cli-not-list", { predict: [] }, ITEMS);
        assertBadInput(
            ["--path", files.predictionsPath, "--item_path", files.itemPath],
            [files.predictionsPath, "must be an array"],
        );
    });

    it("exit 2: empty list", () => {
        const files = writeCase("cli-empty", [], ITEMS);
        assertBadInput(
            ["--path", files.predictionsPath, "--item_path", files.itemPath],
            [files.predictionsPath, "empty array"],
        );
    });

    it("exit 2: a record without predict (names the record)", () => {
        const files = writeCase("cli-no-predict", [{ output: "a", predict: ["a"] }, { output: "a" }], ITEMS);
        assertBadInput(
            ["--path", files.predictionsPath, "--item_path", files.itemPath],
            [files.predictionsPath, 'record 1: missing "predict"'],
        );
    });

    it("exit 2: a non-string beam (names the record and beam)", () => {
        const files = writeCase("cli-bad-beam", [{ output: "a", predict: ["a", "b", null] }], ITEMS);
        assertBadInput(
            ["--path", files.predictionsPath, "--item_path", files.itemPath],
            [files.predictionsPath, 'record 0: "predict"[2] must be a string, got null'],
        );
    });

    it("a JSON-list --path prints one block (plain) or one line (--json) per file", () => {
        const fileA = writeCase("cli-multi-a", FILE_A, ITEMS);
        const fileB = writeCase("cli-multi-b", FILE_B, ITEMS);
        const pathArg = JSON.stringify([fileA.predictionsPath, fileB.predictionsPath]);
        const blocks = evaluateCalcFiles([FILE_A, FILE_B], ITEMS);
        const plain = runCli(["--path", pathArg, "--item_path", fileA.itemPath]);
        assert.strictEqual(plain.status, 0, plain.stderr);
        assert.strictEqual(
            plain.stdout,
            blocks.map((b) => formatCalcPyStdout(b.metrics, b.invalidPredictions)).join(""),
        );
        const json = runCli(["--path", pathArg, "--item_path", fileA.itemPath, "--json"]);
        assert.strictEqual(json.status, 0, json.stderr);
        assert.deepStrictEqual(
            json.stdout
                .trimEnd()
                .split("\n")
                .map((line) => JSON.parse(line) as unknown),
            blocks.map((b) => b.metrics),
        );
    });

    it("exit 2: a bad record in the second of several files names that file", () => {
        const fileA = writeCase("cli-multi-ok", FILE_A, ITEMS);
        const fileB = writeCase("cli-multi-bad", [{ output: "x", predict: [1] }], ITEMS);
        assertBadInput(
            ["--path", JSON.stringify([fileA.predictionsPath, fileB.predictionsPath]), "--item_path", fileA.itemPath],
            [`${fileB.predictionsPath}: record 0: "predict"[0] must be a string, got number`],
        );
        assertBadInput(["--path", "[]", "--item_path", fileA.itemPath], ["non-empty JSON array of strings"]);
    });

    it("exit 2: missing arguments and unknown flags", () => {
        assertBadInput([], ["missing --path"]);
        assertBadInput(["--path", "p.json"], ["missing --item_path"]);
        assertBadInput(["--path"], ["--path needs a value"]);
        assertBadInput(["--path", "p", "--item_path", "i", "--verbose"], ['unexpected argument "--verbose"']);
    });
});
