/**
 * HR@K / NDCG@K exactly as upstream MiniOneRec `calc.py` computes them (AkaliKong/MiniOneRec @ 81b4ba9, last
 * changed in cc9b448), bit for bit: the metrics the eval run cross-checks, and the invalid-prediction count.
 *
 * The § numbers refer to the project's calc.py spec note (calc-spec.md). Pure functions only: no I/O. Python's
 * string rules live in pythonText.ts, the reading of calc.py's stdout in calcPyStdout.ts; rendering that stdout
 * (numpy's number formatting included) is the CLI's business, in scripts/calc/.
 */
import { normaliseBeam, normaliseTarget, parseItemCatalog } from "./pythonText";

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

/** What is wrong with one record; CalcRun adds the file and record indexes. */
class RecordProblem extends Error {}

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

// ---------------------------------------------------------------------------------------------------------------
// Input validation
// ---------------------------------------------------------------------------------------------------------------

/**
 * A short description of a JSON value's type for error messages (names users recognise). Python's json reads
 * NaN, Infinity and -Infinity, so those are named as themselves rather than as "number".
 */
export function describeJsonType(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    return typeof value;
}

/** The empty-array rule: upstream prints "-1" and "[]" and then dies with NameError (ALLNDCG never created). */
const EMPTY_ARRAY_REASON = "predictions JSON is an empty array (upstream calc.py crashes on it)";

/** Check that parsed predictions JSON is what calc.py can process at all: a non-empty list. */
export function assertRecordList(parsed: unknown): readonly unknown[] {
    if (!Array.isArray(parsed)) {
        throw new CalcInputError(`predictions JSON must be an array of records, got ${describeJsonType(parsed)}`);
    }
    if (parsed.length === 0) throw new CalcInputError(EMPTY_ARRAY_REASON);
    return parsed;
}

/**
 * Validate one record. Upstream raises KeyError/AttributeError/IndexError on each of these; we reject them up front
 * with the record index. A `predict` that is a string would be iterated character by character upstream; we treat
 * it as malformed rather than reproduce that accident.
 */
function validateRecord(value: unknown): CalcRecord {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new RecordProblem(`must be an object with "predict" and "output", got ${describeJsonType(value)}`);
    }
    const record = value as Record<string, unknown>;
    if (!("predict" in record)) throw new RecordProblem('missing "predict"');
    const predict = record["predict"];
    if (!Array.isArray(predict)) {
        throw new RecordProblem(`"predict" must be an array of strings, got ${describeJsonType(predict)}`);
    }
    const badBeam = predict.findIndex((beam) => typeof beam !== "string");
    if (badBeam !== -1) {
        throw new RecordProblem(`"predict"[${badBeam}] must be a string, got ${describeJsonType(predict[badBeam])}`);
    }
    if (!("output" in record)) throw new RecordProblem('missing "output"');
    const output = record["output"];
    const beams = predict as readonly string[];
    if (typeof output === "string") return { predict: beams, output };
    if (!Array.isArray(output)) {
        throw new RecordProblem(`"output" must be a string or a non-empty array, got ${describeJsonType(output)}`);
    }
    if (output.length === 0) throw new RecordProblem('"output" is an empty array');
    if (typeof output[0] !== "string") {
        throw new RecordProblem(`"output"[0] must be a string, got ${describeJsonType(output[0])}`);
    }
    return { predict: beams, output: output as [string, ...unknown[]] };
}

// ---------------------------------------------------------------------------------------------------------------
// Metric computation (§4)
// ---------------------------------------------------------------------------------------------------------------

/** Scan one record's beams in order: report invalid ones up to and including the first hit, which stops the scan. */
function scanRecord(
    beams: readonly string[],
    target: string,
    catalog: ReadonlySet<string>,
    recordIndex: number,
    onInvalid: (invalid: InvalidPrediction) => void,
): number {
    for (let position = 0; position < beams.length; position++) {
        const prediction = beams[position] as string;
        if (!catalog.has(prediction)) onInvalid({ record: recordIndex, position, prediction, target });
        if (prediction === target) return position;
    }
    return MISS_RANK;
}

/**
 * One calc.py invocation, fed one record at a time so that a predictions file never has to be in memory whole.
 * Call beginFile, addRecord for each record in order, then endFile, once per predictions file (Fire's list-valued
 * `--path`). Upstream's carried-over state is kept (§6): n_beam and K come from the first file's first record, and
 * the HR/NDCG accumulators and the invalid count are never reset, while each file divides by its own n. So a later
 * file's block is cumulative, and its HR can exceed 1. Same float64 operations in the same order as calc.py, so
 * the results are bit-identical however the records arrive.
 */
export class CalcRun {
    private readonly catalog: ReadonlySet<string>;
    private kList: number[] | undefined;
    private nBeam = -1;
    private hrAcc: number[] = [];
    private ndcgAcc: number[] = [];
    private invalid = 0;
    private fileIndex = -1;
    private recordsInFile = 0;
    private inFile = false;

    /** `itemText` is the info file's text, as Python's text mode reads it. */
    constructor(itemText: string) {
        this.catalog = parseItemCatalog(itemText);
    }

    /** Start the next predictions file. */
    beginFile(): void {
        if (this.inFile) throw new Error("CalcRun.beginFile: the previous file was not ended");
        this.fileIndex += 1;
        this.recordsInFile = 0;
        this.inFile = true;
    }

    /**
     * Score the file's next record, calling `onInvalid` for each invalid prediction in calc.py's print order.
     * Throws CalcInputError, naming the file and record, when the record is malformed.
     */
    addRecord(value: unknown, onInvalid: (invalid: InvalidPrediction) => void = () => undefined): void {
        if (!this.inFile) throw new Error("CalcRun.addRecord: call beginFile first");
        const recordIndex = this.recordsInFile;
        let record: CalcRecord;
        try {
            record = validateRecord(value);
        } catch (err) {
            if (err instanceof RecordProblem) throw new CalcInputError(err.message, recordIndex, this.fileIndex);
            throw err;
        }
        const kList = (this.kList ??= this.startK(record.predict.length));
        const beams = record.predict.map(normaliseBeam);
        const target = normaliseTarget(record.output);
        const rank0 = scanRecord(beams, target, this.catalog, recordIndex, (invalid) => {
            this.invalid += 1;
            onInvalid(invalid);
        });
        kList.forEach((k, i) => {
            if (rank0 < k) {
                // Same float64 operations, in the same order, as `ALLNDCG[i] = ALLNDCG[i] + (1 / math.log(minID + 2))`.
                this.ndcgAcc[i] = (this.ndcgAcc[i] as number) + 1 / cpythonLn(rank0 + 2);
                this.hrAcc[i] = (this.hrAcc[i] as number) + 1;
            }
        });
        this.recordsInFile += 1;
    }

    /** Finish the current file and return its block. Throws CalcInputError when the file had no records. */
    endFile(): CalcMetrics {
        if (!this.inFile) throw new Error("CalcRun.endFile: call beginFile first");
        this.inFile = false;
        const n = this.recordsInFile;
        if (n === 0) throw new CalcInputError(EMPTY_ARRAY_REASON, undefined, this.fileIndex);
        const kList = this.kList as number[];
        const invLn2 = 1.0 / cpythonLn(2);
        return {
            n,
            invalid: this.invalid,
            k: [...kList],
            hr: this.hrAcc.map((acc) => acc / n),
            // `ALLNDCG / len(text) / (1.0 / math.log(2))`: divide by n first, then by 1/ln 2 (not a multiply by ln 2).
            ndcg: this.ndcgAcc.map((acc) => acc / n / invLn2),
            n_beam: this.nBeam,
        };
    }

    private startK(nBeam: number): number[] {
        this.nBeam = nBeam;
        const kList = CALC_TOPK_LIST.filter((k) => k <= nBeam);
        this.hrAcc = kList.map(() => 0);
        this.ndcgAcc = kList.map(() => 0);
        return kList;
    }
}

/**
 * Run calc.py over several predictions files in one invocation (Fire's list-valued `--path`), one result block per
 * file, with upstream's carried-over state (see CalcRun). `parsedFiles` holds each file's parsed JSON; each must be
 * a non-empty list of records. Throws CalcInputError (with fileIndex) on malformed input, before returning anything.
 */
export function evaluateCalcFiles(parsedFiles: readonly unknown[], itemText: string): CalcEvaluation[] {
    if (parsedFiles.length === 0) throw new CalcInputError("no predictions files given");
    const run = new CalcRun(itemText);
    return parsedFiles.map((parsed, fileIndex) => {
        let records: readonly unknown[];
        try {
            records = assertRecordList(parsed);
        } catch (err) {
            throw new CalcInputError((err as CalcInputError).reason, undefined, fileIndex);
        }
        const invalidPredictions: InvalidPrediction[] = [];
        run.beginFile();
        for (const record of records) run.addRecord(record, (invalid) => invalidPredictions.push(invalid));
        return { metrics: run.endFile(), invalidPredictions };
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
