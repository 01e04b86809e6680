/**
 * numpy's default `str()` of a 1-D float64 array, which calc.py prints its HR and NDCG arrays with: a port of
 * numpy's Dragon4 (numpy/_core/src/multiarray/dragon4.c) and of FloatingFormat / _formatArray
 * (numpy/_core/arrayprint.py) for the default print options. Only the calc CLI (scripts/calc.ts) and the tests
 * use it; the product reads calc.py's numbers with components/metrics/calcPyStdout.ts and never formats them.
 */

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
    // 0.3010299956639812 is the float64 numpy's literal 0.30102999566398119521373889472449 (log10 2) rounds to.
    let digitExponent = Math.ceil((mantissaBit + exponent) * 0.3010299956639812 - 0.69);
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
    let outputDigit: number;
    let low: boolean;
    let high: boolean;
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
