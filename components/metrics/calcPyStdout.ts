/**
 * Reads upstream calc.py's stdout back into numbers: the eval run's cross-check takes calc.py's figures from the
 * tail of its stdout. The format is described in the calc.py spec note, §5.
 */
import { CALC_TOPK_LIST } from "./calc";

/** What parseCalcPyStdout recovers from calc.py's stdout (values are numpy's 8-significant-decimal renderings). */
export interface ParsedCalcPyStdout {
    n_beam: number;
    k: number[];
    hr: number[];
    ndcg: number[];
    invalid: number;
}

/** Text that does not have the shape of calc.py's stdout. */
export class CalcStdoutParseError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CalcStdoutParseError";
    }
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
