/**
 * "Did you mean …?" for misspelled keys and values: the nearest candidate by edit distance, so a typo in
 * an optional key is an error that names the intended key instead of a silently ignored setting.
 */

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions cost 1. */
export function editDistance(a: string, b: string): number {
    const rows = a.length + 1;
    const cols = b.length + 1;
    const d: number[][] = Array.from({ length: rows }, (_, i) =>
        Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i < rows; i++) {
        for (let j = 1; j < cols; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[rows - 1][cols - 1];
}

/** Lower case without `-`, `_`, `.` or spaces: `Service_Account` and `serviceaccount` are the same key. */
function fold(text: string): string {
    return text.toLowerCase().replace(/[-_. ]/g, "");
}

/**
 * The candidate the input most likely meant, or undefined when none is close: equal after folding case and
 * separators, else within an edit distance of about a third of the input's length (at least 1, at most 3).
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
    const folded = fold(input);
    const exact = candidates.find((c) => fold(c) === folded);
    if (exact !== undefined) {
        return exact;
    }
    const limit = Math.min(3, Math.max(1, Math.floor(folded.length / 3)));
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of candidates) {
        const distance = editDistance(folded, fold(candidate));
        if (distance <= limit && distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    return best;
}
