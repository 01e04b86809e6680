/**
 * A bit-exact TypeScript port of upstream MiniOneRec `calc.py` (AkaliKong/MiniOneRec @ 81b4ba9, last changed in
 * cc9b448): HR@K / NDCG@K over beam-search predictions, the invalid-prediction count, and calc.py's stdout.
 *
 * Every rule here mirrors a Python or numpy behaviour that calc.py inherits without saying so. The § numbers refer
 * to the project's calc.py spec note (calc-spec.md in the shared notes). Pure functions only: no I/O, no process
 * access. The CLI wrapper is scripts/calc.ts.
 */

// ---------------------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------------------

/** calc.py's `topk_list`; the K list of a run is the prefix of it that is <= n_beam of the first record (§4.1). */
export const CALC_TOPK_LIST: readonly number[] = [1, 3, 5, 10, 20, 50];

/** calc.py's `minID` sentinel for "target not among the beams": larger than every K, so a miss adds nothing. */
const MISS_RANK = 1_000_000;

/**
 * CPython `math.log(n)` for n = 2..51, i.e. glibc's correctly rounded log. V8's Math.log is 1 ulp off at ln 3 and
 * ln 48 (§7), which would make NDCG differ from calc.py in the last bit. rank0 < K <= 50, so rank0 + 2 <= 51 and
 * this table covers every argument calc.py can pass.
 */
const CPYTHON_LN_2_TO_51: readonly number[] = [
    0.6931471805599453, 1.0986122886681098, 1.3862943611198906, 1.6094379124341003, 1.791759469228055,
    1.9459101490553132, 2.0794415416798357, 2.1972245773362196, 2.302585092994046, 2.3978952727983707,
    2.4849066497880004, 2.5649493574615367, 2.6390573296152584, 2.70805020110221, 2.772588722239781, 2.833213344056216,
    2.8903717578961645, 2.9444389791664403, 2.995732273553991, 3.044522437723423, 3.091042453358316, 3.1354942159291497,
    3.1780538303479458, 3.2188758248682006, 3.258096538021482, 3.295836866004329, 3.332204510175204, 3.367295829986474,
    3.4011973816621555, 3.4339872044851463, 3.4657359027997265, 3.4965075614664802, 3.5263605246161616,
    3.5553480614894135, 3.58351893845611, 3.6109179126442243, 3.6375861597263857, 3.6635616461296463,
    3.6888794541139363, 3.713572066704308, 3.7376696182833684, 3.7612001156935624, 3.784189633918261,
    3.8066624897703196, 3.828641396489095, 3.8501476017100584, 3.871201010907891, 3.8918202981106265, 3.912023005428146,
    3.9318256327243257,
];

/** CPython's `math.log(n)` for an integer 2 <= n <= 51 (the only arguments calc.py uses). */
export function cpythonLn(n: number): number {
    const value = Number.isInteger(n) ? CPYTHON_LN_2_TO_51[n - 2] : undefined;
    if (value === undefined) {
        throw new RangeError(`cpythonLn: only integers 2..51 are tabulated, got ${n}`);
    }
    return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Types and errors
// ---------------------------------------------------------------------------------------------------------------

/** The metrics calc.py computes for one predictions file. Field names match the CLI's `--json` output. */
export interface CalcMetrics {
    /** Number of records, misses and all-invalid records included (the NDCG/HR denominator). */
    n: number;
    /** Predictions not in the item catalog, counted up to and including the hit (calc.py's `CC`). */
    invalid: number;
    /** The K list: the prefix of CALC_TOPK_LIST that is <= n_beam. */
    k: number[];
    /** HR@K, one per entry of `k`. */
    hr: number[];
    /** NDCG@K, one per entry of `k`. */
    ndcg: number[];
    /** Length of the first record's `predict` list. */
    n_beam: number;
}

/** One invalid prediction, in the order calc.py prints it (prediction line, then target line). */
export interface InvalidPrediction {
    /** 0-based record index. */
    record: number;
    /** 0-based position of the beam in the record's `predict` list. */
    position: number;
    /** The normalised prediction, as printed. */
    prediction: string;
    /** The normalised target of that record, as printed. */
    target: string;
}

/** Metrics plus the per-invalid-prediction prints, i.e. everything needed to reproduce calc.py's stdout. */
export interface CalcEvaluation {
    metrics: CalcMetrics;
    invalidPredictions: InvalidPrediction[];
}

/** What parseCalcPyStdout recovers from calc.py's stdout (values are numpy's 8-significant-decimal renderings). */
export interface ParsedCalcPyStdout {
    n_beam: number;
    k: number[];
    hr: number[];
    ndcg: number[];
    invalid: number;
}

/** A record that passed validation: the only two keys calc.py reads. */
interface CalcRecord {
    predict: readonly string[];
    output: string | readonly [string, ...unknown[]];
}

/** Bad predictions input (not a list, empty list, malformed record). Upstream would crash on all of these. */
export class CalcInputError extends Error {
    /** What is wrong, without the record prefix. */
    readonly reason: string;
    /** 0-based index of the offending record, when the problem is in one record. */
    readonly recordIndex: number | undefined;
    /** 0-based index of the predictions file (in --path order) the problem is in; 0 for a single file. */
    readonly fileIndex: number;

    constructor(reason: string, recordIndex?: number, fileIndex = 0) {
        super(recordIndex === undefined ? reason : `record ${recordIndex}: ${reason}`);
        this.name = "CalcInputError";
        this.reason = reason;
        this.recordIndex = recordIndex;
        this.fileIndex = fileIndex;
    }
}

/** Text that does not have the shape of calc.py's stdout. */
export class CalcStdoutParseError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CalcStdoutParseError";
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Python string semantics (§3)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Characters removed by Python's argument-less `str.strip()` (`str.isspace()`), which differs from JS `trim()`:
 * Python strips U+001C..U+001F and U+0085 and keeps U+FEFF. Generated with CPython 3.11.
 */
const PYTHON_WHITESPACE: ReadonlySet<string> = new Set([
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x1f",
    " ",
    "\x85",
    "\xa0",
    "\u1680",
    "\u2000",
    "\u2001",
    "\u2002",
    "\u2003",
    "\u2004",
    "\u2005",
    "\u2006",
    "\u2007",
    "\u2008",
    "\u2009",
    "\u200a",
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
]);

/**
 * Python `s.strip(chars)`: remove any run of the given characters from both ends. All characters involved are in
 * the BMP, so working on UTF-16 code units is exact.
 */
function stripChars(s: string, chars: ReadonlySet<string>): string {
    let start = 0;
    let end = s.length;
    while (start < end && chars.has(s[start] as string)) start++;
    while (end > start && chars.has(s[end - 1] as string)) end--;
    return s.slice(start, end);
}

/** Python's argument-less `s.strip()`. */
export function pythonStrip(s: string): string {
    return stripChars(s, PYTHON_WHITESPACE);
}

const QUOTE_AND_LF: ReadonlySet<string> = new Set(['"', "\n"]);
const QUOTE: ReadonlySet<string> = new Set(['"']);
const SPACE: ReadonlySet<string> = new Set([" "]);
const SPACE_LF_QUOTE: ReadonlySet<string> = new Set([" ", "\n", '"']);

/**
 * calc.py's beam normalisation `_.strip("\"\n").strip()`. The order matters: `' "X" '` keeps its quotes (the
 * spaces shield them from the first strip) while `'\n"X"\n'` becomes `X`.
 */
export function normaliseBeam(beam: string): string {
    return pythonStrip(stripChars(beam, QUOTE_AND_LF));
}

/**
 * calc.py's target normalisation. A list target uses only its first element, stripped of `"` then of spaces (so a
 * trailing `\n` survives); a string target is stripped of space, LF and `"` only (so `\r`, `\t`, NBSP survive).
 */
export function normaliseTarget(output: string | readonly [string, ...unknown[]]): string {
    if (typeof output === "string") return stripChars(output, SPACE_LF_QUOTE);
    return stripChars(stripChars(output[0], QUOTE), SPACE);
}

/**
 * Python's text-mode `readlines()` with universal newlines: `\r\n`, `\r` and `\n` end a line and nothing else
 * does (U+2028, U+0085, VT, FF are ordinary characters there, unlike `str.splitlines()`). Terminators are dropped;
 * a final terminator does not produce an extra empty line.
 */
export function splitUniversalNewlines(text: string): string[] {
    if (text === "") return [];
    const lines = text.split(/\r\n|\r|\n/);
    if (lines[lines.length - 1] === "") lines.pop();
    return lines;
}

/**
 * The item catalog calc.py builds from the info file: `{line.split('\t')[0].strip() for line in readlines()}`.
 * A blank line contributes "" (so an empty prediction counts as valid); a line with no tab contributes itself.
 */
export function parseItemCatalog(itemText: string): Set<string> {
    const catalog = new Set<string>();
    for (const line of splitUniversalNewlines(itemText)) {
        const tab = line.indexOf("\t");
        catalog.add(pythonStrip(tab === -1 ? line : line.slice(0, tab)));
    }
    return catalog;
}

/** calc.py's item path rule: a trailing `.txt` is cut off and `.txt` is always appended. */
export function resolveItemPath(itemPath: string): string {
    return `${itemPath.endsWith(".txt") ? itemPath.slice(0, -4) : itemPath}.txt`;
}

// ---------------------------------------------------------------------------------------------------------------
// Input validation
// ---------------------------------------------------------------------------------------------------------------

/** A short description of a JSON value's type for error messages (Python-ish names users recognise). */
function describeJsonType(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    return typeof value;
}

/** Check that parsed predictions JSON is what calc.py can process at all: a non-empty list. */
export function assertRecordList(parsed: unknown): readonly unknown[] {
    if (!Array.isArray(parsed)) {
        throw new CalcInputError(`predictions JSON must be an array of records, got ${describeJsonType(parsed)}`);
    }
    if (parsed.length === 0) {
        // Upstream prints "-1" and "[]" and then dies with NameError (ALLNDCG never created): no metrics exist.
        throw new CalcInputError("predictions JSON is an empty array (upstream calc.py crashes on it)");
    }
    return parsed;
}

/**
 * Validate one record. Upstream raises KeyError/AttributeError/IndexError on each of these; we reject them up front
 * with the record index. A `predict` that is a string would be iterated character by character upstream; we treat
 * it as malformed rather than reproduce that accident.
 */
function validateRecord(value: unknown, index: number): CalcRecord {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new CalcInputError(
            `must be an object with "predict" and "output", got ${describeJsonType(value)}`,
            index,
        );
    }
    const record = value as Record<string, unknown>;
    if (!("predict" in record)) throw new CalcInputError('missing "predict"', index);
    const predict = record["predict"];
    if (!Array.isArray(predict)) {
        throw new CalcInputError(`"predict" must be an array of strings, got ${describeJsonType(predict)}`, index);
    }
    const badBeam = predict.findIndex((beam) => typeof beam !== "string");
    if (badBeam !== -1) {
        throw new CalcInputError(
            `"predict"[${badBeam}] must be a string, got ${describeJsonType(predict[badBeam])}`,
            index,
        );
    }
    if (!("output" in record)) throw new CalcInputError('missing "output"', index);
    const output = record["output"];
    const beams = predict as readonly string[];
    if (typeof output === "string") return { predict: beams, output };
    if (!Array.isArray(output)) {
        throw new CalcInputError(
            `"output" must be a string or a non-empty array, got ${describeJsonType(output)}`,
            index,
        );
    }
    if (output.length === 0) throw new CalcInputError('"output" is an empty array', index);
    if (typeof output[0] !== "string") {
        throw new CalcInputError(`"output"[0] must be a string, got ${describeJsonType(output[0])}`, index);
    }
    return { predict: beams, output: output as [string, ...unknown[]] };
}

// ---------------------------------------------------------------------------------------------------------------
// Metric computation (§4)
// ---------------------------------------------------------------------------------------------------------------

/** Scan one record's beams in order: count invalid ones up to and including the first hit, which stops the scan. */
function scanRecord(
    beams: readonly string[],
    target: string,
    catalog: ReadonlySet<string>,
    recordIndex: number,
    invalidPredictions: InvalidPrediction[],
): number {
    for (let position = 0; position < beams.length; position++) {
        const prediction = beams[position] as string;
        if (!catalog.has(prediction)) {
            invalidPredictions.push({ record: recordIndex, position, prediction, target });
        }
        if (prediction === target) return position;
    }
    return MISS_RANK;
}

/** Validate one predictions file's parsed JSON, tagging any error with the file's index. */
function validateFile(parsed: unknown, fileIndex: number): CalcRecord[] {
    try {
        return assertRecordList(parsed).map(validateRecord);
    } catch (err) {
        if (err instanceof CalcInputError) throw new CalcInputError(err.reason, err.recordIndex, fileIndex);
        throw err;
    }
}

/**
 * Run calc.py over several predictions files in one invocation (Fire's list-valued `--path`), one result block per
 * file, with upstream's carried-over state (§6): n_beam and K come from the first file's first record, and the HR/
 * NDCG accumulators and the invalid count are never reset, while each block divides by its own file's n. So a
 * later block is cumulative, and its HR can exceed 1. `parsedFiles` holds each file's parsed JSON; each must be a
 * non-empty list of records. Throws CalcInputError (with fileIndex) on malformed input.
 */
export function evaluateCalcFiles(parsedFiles: readonly unknown[], itemText: string): CalcEvaluation[] {
    if (parsedFiles.length === 0) throw new CalcInputError("no predictions files given");
    const validatedFiles = parsedFiles.map(validateFile);
    const catalog = parseItemCatalog(itemText);

    const nBeam = ((validatedFiles[0] as CalcRecord[])[0] as CalcRecord).predict.length;
    const kList = CALC_TOPK_LIST.filter((k) => k <= nBeam);
    const hrAcc = kList.map(() => 0);
    const ndcgAcc = kList.map(() => 0);
    const invLn2 = 1.0 / cpythonLn(2);
    let invalid = 0;

    return validatedFiles.map((records) => {
        const invalidPredictions: InvalidPrediction[] = [];
        records.forEach((record, recordIndex) => {
            const beams = record.predict.map(normaliseBeam);
            const target = normaliseTarget(record.output);
            const rank0 = scanRecord(beams, target, catalog, recordIndex, invalidPredictions);
            kList.forEach((k, i) => {
                if (rank0 < k) {
                    // Same float64 operations, in the same order, as `ALLNDCG[i] = ALLNDCG[i] + (1 / math.log(minID + 2))`.
                    ndcgAcc[i] = (ndcgAcc[i] as number) + 1 / cpythonLn(rank0 + 2);
                    hrAcc[i] = (hrAcc[i] as number) + 1;
                }
            });
        });
        invalid += invalidPredictions.length;
        const n = records.length;
        return {
            metrics: {
                n,
                invalid,
                k: [...kList],
                hr: hrAcc.map((acc) => acc / n),
                // `ALLNDCG / len(text) / (1.0 / math.log(2))`: divide by n first, then by 1/ln 2 (not a multiply by ln 2).
                ndcg: ndcgAcc.map((acc) => acc / n / invLn2),
                n_beam: nBeam,
            },
            invalidPredictions,
        };
    });
}

/**
 * Run calc.py over one predictions file's parsed records and the info file's text. Returns the metrics and the
 * invalid-prediction prints. Throws CalcInputError on input calc.py cannot process.
 */
export function evaluateCalc(records: readonly unknown[], itemText: string): CalcEvaluation {
    return evaluateCalcFiles([records], itemText)[0] as CalcEvaluation;
}

/** HR@K / NDCG@K exactly as calc.py computes them. Throws CalcInputError on malformed records. */
export function computeCalcMetrics(records: readonly unknown[], itemText: string): CalcMetrics {
    return evaluateCalc(records, itemText).metrics;
}

// ---------------------------------------------------------------------------------------------------------------
// numpy float formatting: a port of numpy's Dragon4 (numpy/_core/src/multiarray/dragon4.c) and of
// FloatingFormat / _formatArray (numpy/_core/arrayprint.py) for the default print options.
// ---------------------------------------------------------------------------------------------------------------

/** np.get_printoptions() defaults that calc.py's `str(array)` uses. */
const NUMPY_PRECISION = 8;
const NUMPY_LINE_WIDTH = 75;

/** A float64 split the way Dragon4 wants it: value = mantissa * 2^exponent. */
interface Float64Parts {
    mantissa: bigint;
    exponent: number;
    /** Index of the highest set bit of the mantissa. */
    mantissaBit: number;
    /** True when the gap to the next lower float is half the gap to the next higher one (a power of two). */
    unequalMargins: boolean;
}

function decomposeFloat64(x: number): Float64Parts {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, Math.abs(x));
    const bits = view.getBigUint64(0);
    const biasedExponent = Number((bits >> 52n) & 0x7ffn);
    const fraction = bits & ((1n << 52n) - 1n);
    if (biasedExponent !== 0) {
        return {
            mantissa: (1n << 52n) | fraction,
            exponent: biasedExponent - 1023 - 52,
            mantissaBit: 52,
            unequalMargins: biasedExponent !== 1 && fraction === 0n,
        };
    }
    return {
        mantissa: fraction,
        exponent: 1 - 1023 - 52,
        mantissaBit: fraction === 0n ? 0 : fraction.toString(2).length - 1,
        unequalMargins: false,
    };
}

type CutoffMode = "total" | "fraction";

/** Decimal digits of |x| (no trailing-zero trimming) and the base-10 exponent of the first digit. */
interface Dragon4Digits {
    digits: string;
    exponent: number;
}

/**
 * numpy's Dragon4 in DigitMode_Unique: the shortest digits that identify |x|, but stop at `cutoffMax` digits
 * (total, or past the decimal point) and go on to at least `cutoffMin` (-1: no minimum). When stopped by the
 * cutoff, the last digit is rounded from the exact binary value, ties to the even digit. BigInt replaces numpy's
 * fixed-size BigInt; the block-alignment shifts there only speed up division and do not change any result.
 */
function dragon4(x: number, cutoffMode: CutoffMode, cutoffMax: number, cutoffMin: number): Dragon4Digits {
    const { mantissa, exponent, mantissaBit, unequalMargins } = decomposeFloat64(x);
    if (mantissa === 0n) return { digits: "0", exponent: 0 };

    const isEven = (mantissa & 1n) === 0n;
    // value = scaledValue / scale; the margins are half the distance to the neighbouring floats, on the same scale.
    const highFactor = unequalMargins ? 2n : 1n;
    const extraShift = unequalMargins ? 2 : 1;
    let scaledValue: bigint;
    let scale: bigint;
    let marginLow: bigint;
    if (exponent > 0) {
        scaledValue = mantissa << BigInt(exponent + extraShift);
        scale = 1n << BigInt(extraShift);
        marginLow = 1n << BigInt(exponent);
    } else {
        scaledValue = mantissa << BigInt(extraShift);
        scale = 1n << BigInt(-exponent + extraShift);
        marginLow = 1n;
    }

    // numpy's estimate of floor(log10(v)) + 1 (exact or one too low), including its clamp for fraction cutoffs.
    let digitExponent = Math.ceil((mantissaBit + exponent) * 0.30102999566398119521373889472449 - 0.69);
    if (cutoffMax >= 0 && cutoffMode === "fraction" && digitExponent <= -cutoffMax) {
        digitExponent = -cutoffMax + 1;
    }
    if (digitExponent > 0) {
        scale *= 10n ** BigInt(digitExponent);
    } else if (digitExponent < 0) {
        const pow10 = 10n ** BigInt(-digitExponent);
        scaledValue *= pow10;
        marginLow *= pow10;
    }
    if (scaledValue >= scale) {
        digitExponent += 1;
    } else {
        scaledValue *= 10n;
        marginLow *= 10n;
    }

    const cutoffMaxExponent = cutoffMode === "total" ? digitExponent - cutoffMax : -cutoffMax;
    let cutoffMinExponent = digitExponent;
    if (cutoffMin >= 0) {
        cutoffMinExponent = Math.min(digitExponent, cutoffMode === "total" ? digitExponent - cutoffMin : -cutoffMin);
    }
    let firstDigitExponent = digitExponent - 1;

    let digits = "";
    let outputDigit = 0;
    let low = false;
    let high = false;
    for (;;) {
        digitExponent -= 1;
        outputDigit = Number(scaledValue / scale);
        scaledValue %= scale;
        const marginHigh = marginLow * highFactor;
        // isEven: the rounding interval is closed, because round-half-even maps its ends back to x.
        low = isEven ? scaledValue <= marginLow : scaledValue < marginLow;
        high = isEven ? scaledValue + marginHigh >= scale : scaledValue + marginHigh > scale;
        if (((low || high) && digitExponent <= cutoffMinExponent) || digitExponent <= cutoffMaxExponent) break;
        digits += String(outputDigit);
        scaledValue *= 10n;
        marginLow *= 10n;
    }

    let roundDown = low;
    if (low === high) {
        const twice = scaledValue * 2n;
        roundDown = twice < scale || (twice === scale && outputDigit % 2 === 0);
    }
    if (roundDown) {
        digits += String(outputDigit);
    } else if (outputDigit < 9) {
        digits += String(outputDigit + 1);
    } else {
        // Carry through trailing 9s; numpy drops them, and an all-9 prefix becomes "1" one decade up.
        let i = digits.length - 1;
        while (i >= 0 && digits[i] === "9") i--;
        if (i < 0) {
            digits = "1";
            firstDigitExponent += 1;
        } else {
            digits = digits.slice(0, i) + String(Number(digits[i]) + 1);
        }
    }
    return { digits, exponent: firstDigitExponent };
}

function signOf(x: number): string {
    return x < 0 || Object.is(x, -0) ? "-" : "";
}

/**
 * `np.format_float_positional(x, precision, unique=True, fractional=True, trim='.')`: at most `precision`
 * fractional digits, trailing zeros trimmed, the decimal point always kept ("1.", "0.5").
 */
function formatPositionalUnique(x: number, precision: number): string {
    const { digits, exponent } = dragon4(x, "fraction", precision, -1);
    let whole: string;
    let fraction: string;
    if (exponent >= 0) {
        const wholeLength = exponent + 1;
        whole = digits.length <= wholeLength ? digits.padEnd(wholeLength, "0") : digits.slice(0, wholeLength);
        fraction = digits.slice(wholeLength);
    } else {
        whole = "0";
        fraction = "0".repeat(-(exponent + 1)) + digits;
    }
    return `${signOf(x)}${whole}.${fraction.replace(/0+$/, "")}`;
}

interface ScientificOptions {
    precision: number;
    /** Pad the mantissa with zeros to this many fractional digits (-1: none). */
    minDigits: number;
    /** Trim trailing zeros of the mantissa (numpy trim='.') or keep them (trim='k'). */
    trimZeros: boolean;
    /** Minimum exponent digits (-1: numpy's default of 2). */
    expDigits: number;
}

/** `np.format_float_scientific(x, precision, unique=True, ...)`: "d.ddde+XX". */
function formatScientificUnique(x: number, options: ScientificOptions): string {
    const { digits, exponent } = dragon4(
        x,
        "total",
        options.precision + 1,
        options.minDigits < 0 ? -1 : options.minDigits + 1,
    );
    let fraction = digits.slice(1);
    if (options.trimZeros) fraction = fraction.replace(/0+$/, "");
    else fraction = fraction.padEnd(Math.max(options.minDigits, 0), "0");
    const expDigits = Math.min(options.expDigits < 0 ? 2 : options.expDigits, 5);
    const expSign = exponent >= 0 ? "+" : "-";
    return `${signOf(x)}${digits[0]}.${fraction}e${expSign}${String(Math.abs(exponent)).padStart(expDigits, "0")}`;
}

/**
 * numpy's FloatingFormat for floatmode='maxprec', precision=8, suppress=False, sign='-': every element as its own
 * shortest form (rounded to 8 digits), then padded to a common width; scientific for the whole array when the
 * smallest non-zero |value| is < 1e-4, the largest is >= 1e8, or their ratio is > 1e3.
 */
function formatNumpyElements(values: readonly number[]): string[] {
    const absNonZero = values.filter((v) => v !== 0).map(Math.abs);
    let scientific = false;
    if (absNonZero.length > 0) {
        const max = Math.max(...absNonZero);
        const min = Math.min(...absNonZero);
        scientific = max >= 1e8 || min < 0.0001 || max / min > 1000;
    }
    if (!scientific) {
        const parts = values.map((v) => formatPositionalUnique(v, NUMPY_PRECISION).split(".") as [string, string]);
        const padLeft = Math.max(...parts.map(([whole]) => whole.length));
        const padRight = Math.max(...parts.map(([, fraction]) => fraction.length));
        return parts.map(([whole, fraction]) => `${whole.padStart(padLeft)}.${fraction.padEnd(padRight)}`);
    }
    // First pass: unique digits, to learn how many fractional and exponent digits the widest element needs.
    const firstPass = values.map((v) =>
        formatScientificUnique(v, { precision: NUMPY_PRECISION, minDigits: -1, trimZeros: true, expDigits: -1 }),
    );
    const precision = Math.max(...firstPass.map((s) => s.slice(s.indexOf(".") + 1, s.indexOf("e")).length));
    const expDigits = Math.max(...firstPass.map((s) => s.length - s.indexOf("e") - 2));
    const padLeft = Math.max(...firstPass.map((s) => s.indexOf(".")));
    // Second pass: every element with exactly that many digits (numpy's trim='k', min_digits=precision).
    return values.map((v) => {
        const s = formatScientificUnique(v, { precision, minDigits: precision, trimZeros: false, expDigits });
        // Left padding makes the sign-and-digit part (everything before '.') padLeft wide.
        return " ".repeat(padLeft - s.indexOf(".")) + s;
    });
}

/**
 * numpy's `_formatArray` for a 1-D array with separator ' ': words are appended to a line that starts with the
 * one-space hanging indent; a word that would pass column 74 (75 minus the closing bracket) starts a new line,
 * unless the line holds nothing but the indent. The first indent is then replaced by '['.
 */
function wrapNumpyWords(words: readonly string[]): string {
    const hangingIndent = " ";
    const elementWidth = NUMPY_LINE_WIDTH - 1;
    let text = "";
    let line = hangingIndent;
    words.forEach((word, i) => {
        if (line.length + word.length > elementWidth && line.length > hangingIndent.length) {
            text += `${line.trimEnd()}\n`;
            line = hangingIndent;
        }
        line += word;
        if (i < words.length - 1) line += " ";
    });
    text += line;
    return `[${text.slice(hangingIndent.length)}]`;
}

/** `str(np.array(values, dtype=float64))` with numpy's default print options. */
export function formatNumpyArray(values: readonly number[]): string {
    if (values.length === 0) return "[]";
    const nonFinite = values.find((v) => !Number.isFinite(v));
    if (nonFinite !== undefined) {
        throw new RangeError(`formatNumpyArray: non-finite values are not supported, got ${nonFinite}`);
    }
    return wrapNumpyWords(formatNumpyElements(values));
}

/** Python's `str(list_of_ints)`, e.g. "[1, 3, 5]". */
export function formatPythonIntList(values: readonly number[]): string {
    return `[${values.join(", ")}]`;
}

// ---------------------------------------------------------------------------------------------------------------
// calc.py stdout (§5)
// ---------------------------------------------------------------------------------------------------------------

/**
 * calc.py's stdout, byte for byte: two lines per invalid prediction (prediction, then target; printed as-is, so
 * embedded newlines and an empty prediction show up verbatim), then n_beam, the K list, `NDCG:\t[...]`,
 * `HR\t[...]` and the invalid count. tqdm's progress bar goes to stderr upstream and is not part of this.
 */
export function formatCalcPyStdout(result: CalcMetrics, invalidLines: readonly InvalidPrediction[]): string {
    const prints = invalidLines.map(({ prediction, target }) => `${prediction}\n${target}\n`).join("");
    return (
        prints +
        `${result.n_beam}\n` +
        `${formatPythonIntList(result.k)}\n` +
        `NDCG:\t${formatNumpyArray(result.ndcg)}\n` +
        `HR\t${formatNumpyArray(result.hr)}\n` +
        `${result.invalid}\n`
    );
}

const NUMPY_FLOAT_TOKEN = /^-?\d+\.\d*(?:e[+-]\d+)?$/;
const PYTHON_INT_LIST = /^\[(?:\d+(?:, \d+)*)?\]$/;

/** Parse a numpy array str (possibly spanning lines) like "[0.1 0.2\n 0.3]". */
function parseNumpyArray(text: string, label: string): number[] {
    if (!text.startsWith("[") || !text.endsWith("]")) {
        throw new CalcStdoutParseError(`${label} array must be enclosed in [ ], got ${JSON.stringify(text)}`);
    }
    const body = text.slice(1, -1).trim();
    if (body === "") return [];
    return body.split(/\s+/).map((token) => {
        if (!NUMPY_FLOAT_TOKEN.test(token)) {
            throw new CalcStdoutParseError(`${label} array has a non-numeric element ${JSON.stringify(token)}`);
        }
        return Number(token);
    });
}

/**
 * Take the logical line that ends at `lines[end]` and starts with `prefix`: numpy continuation lines begin with a
 * space, so walk back over those to the header line. Returns the text after the prefix and the header's index.
 */
function takeWrappedLine(lines: readonly string[], end: number, prefix: string): { text: string; start: number } {
    let start = end;
    while (start >= 0 && !(lines[start] as string).startsWith(prefix) && (lines[start] as string).startsWith(" ")) {
        start--;
    }
    if (start < 0 || !(lines[start] as string).startsWith(prefix)) {
        throw new CalcStdoutParseError(
            `expected a line starting with ${JSON.stringify(prefix)} before the invalid count`,
        );
    }
    return {
        text: lines
            .slice(start, end + 1)
            .join("\n")
            .slice(prefix.length),
        start,
    };
}

function parseIntegerLine(line: string | undefined, label: string, pattern: RegExp): number {
    if (line === undefined || !pattern.test(line)) {
        throw new CalcStdoutParseError(`${label} line must be an integer, got ${JSON.stringify(line ?? "<missing>")}`);
    }
    return Number(line);
}

/**
 * Parse calc.py's stdout back into numbers. Only the final block is read (n_beam, K list, NDCG, HR, invalid count),
 * from the end, so any invalid-prediction prints before it, whatever they contain, are skipped. The NDCG/HR values
 * carry numpy's 8 significant decimals, not full precision. Throws CalcStdoutParseError on anything else.
 */
export function parseCalcPyStdout(text: string): ParsedCalcPyStdout {
    // A captured stream may have CRLF endings (e.g. through a pty). No result line can end in '\r', and the invalid
    // prints that could are never interpreted, so dropping one trailing '\r' per line is safe.
    const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n").map((line) => line.replace(/\r$/, ""));
    if (lines.length < 5) {
        throw new CalcStdoutParseError(`calc.py stdout needs at least 5 lines, got ${lines.length}`);
    }
    let end = lines.length - 1;
    const invalid = parseIntegerLine(lines[end], "invalid-count (last)", /^\d+$/);

    const hrLine = takeWrappedLine(lines, end - 1, "HR\t");
    const hr = parseNumpyArray(hrLine.text, "HR");
    const ndcgLine = takeWrappedLine(lines, hrLine.start - 1, "NDCG:\t");
    const ndcg = parseNumpyArray(ndcgLine.text, "NDCG");
    end = ndcgLine.start - 1;

    const kText = lines[end];
    if (kText === undefined || !PYTHON_INT_LIST.test(kText)) {
        throw new CalcStdoutParseError(
            `K list line must look like [1, 3, 5], got ${JSON.stringify(kText ?? "<missing>")}`,
        );
    }
    const k = kText === "[]" ? [] : kText.slice(1, -1).split(", ").map(Number);
    const nBeam = parseIntegerLine(lines[end - 1], "n_beam", /^-?\d+$/);

    const expectedK = CALC_TOPK_LIST.filter((candidate) => candidate <= nBeam);
    if (k.join(",") !== expectedK.join(",")) {
        throw new CalcStdoutParseError(`K list [${k.join(", ")}] does not follow from n_beam ${nBeam}`);
    }
    if (hr.length !== k.length || ndcg.length !== k.length) {
        throw new CalcStdoutParseError(
            `array lengths do not match the K list: ${k.length} K, ${ndcg.length} NDCG, ${hr.length} HR values`,
        );
    }
    return { n_beam: nBeam, k, hr, ndcg, invalid };
}
