/**
 * Paths inside the MLLM-JAX checkout (train/eval YAMLs, output directories, the item file), normalized the way
 * the file system resolves them, so that `runs/a`, `runs/./a`, `runs//a` and `runs/a/` are one directory.
 */

export type RepoPathResult = { readonly path: string } | { readonly problem: string };

/** Resolves `.`, `..` and repeated or trailing '/' lexically; a path that leaves the checkout is a problem. */
export function normalizeRepoPath(input: string): RepoPathResult {
    if (input.length === 0) return { problem: "is empty" };
    if (input.startsWith("/")) return { problem: "must be relative to the MLLM-JAX checkout, not an absolute path" };
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(input)) return { problem: "contains a control character" };
    const parts: string[] = [];
    for (const segment of input.split("/")) {
        if (segment === "" || segment === ".") continue;
        if (segment === "..") {
            if (parts.length === 0) return { problem: "leaves the MLLM-JAX checkout ('..' above its root)" };
            parts.pop();
            continue;
        }
        if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(segment)) {
            return {
                problem: `has the segment ${JSON.stringify(segment)}; use letters, digits, '_', '.' and '-' (not first)`,
            };
        }
        parts.push(segment);
    }
    if (parts.length === 0) return { problem: "names the checkout itself, not a path inside it" };
    return { path: parts.join("/") };
}

/** True when `inner` is `outer` or lies below it (both normalized). */
export function isWithin(inner: string, outer: string): boolean {
    return inner === outer || inner.startsWith(`${outer}/`);
}
