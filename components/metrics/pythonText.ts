/**
 * The Python string semantics calc.py inherits without saying so (spec §3): argument-less `str.strip()`, the
 * beam and target normalisations, text-mode `readlines()` with universal newlines, and the item catalog built
 * from the info file. All the characters involved are in the BMP, so working on UTF-16 code units is exact.
 */

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
