/**
 * calc.py's stdout, rendered byte for byte from the port's results (spec §5). Used by the calc CLI and the tests;
 * the product only reads calc.py's stdout (components/metrics/calcPyStdout.ts).
 */
import { CalcMetrics, InvalidPrediction } from "../../components/metrics/calc";
import { formatNumpyArray } from "./numpyFormat";

/** Python's `str(list_of_ints)`, e.g. "[1, 3, 5]". */
export function formatPythonIntList(values: readonly number[]): string {
    return `[${values.join(", ")}]`;
}

/** The two lines calc.py prints for one invalid prediction: the prediction, then the target, both as-is. */
export function formatInvalidPrint({ prediction, target }: InvalidPrediction): string {
    return `${prediction}\n${target}\n`;
}

/** The block calc.py prints after scanning one predictions file: n_beam, K list, NDCG, HR, invalid count. */
export function formatCalcPySummary(result: CalcMetrics): string {
    return (
        `${result.n_beam}\n` +
        `${formatPythonIntList(result.k)}\n` +
        `NDCG:\t${formatNumpyArray(result.ndcg)}\n` +
        `HR\t${formatNumpyArray(result.hr)}\n` +
        `${result.invalid}\n`
    );
}

/**
 * calc.py's stdout for one predictions file: two lines per invalid prediction (embedded newlines and an empty
 * prediction show up verbatim), then the summary block. tqdm's progress bar goes to stderr upstream and is not
 * part of this.
 */
export function formatCalcPyStdout(result: CalcMetrics, invalidLines: readonly InvalidPrediction[]): string {
    return invalidLines.map(formatInvalidPrint).join("") + formatCalcPySummary(result);
}
