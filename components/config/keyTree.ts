/**
 * The tree of known keys, read from the zod schemas: which keys an object at a path has, and a did-you-mean for
 * an unknown key or a dotted top-level key such as `tpu.zoen`.
 */
import { z } from "zod";
import { SECTIONS } from "./schema";
import { ConfigPath, pathText } from "./problems";
import { didYouMean } from "./suggest";

type Node =
    | { readonly kind: "object"; readonly shape: Readonly<Record<string, z.core.$ZodType>> }
    | { readonly kind: "array"; readonly element: z.core.$ZodType }
    | { readonly kind: "record"; readonly value: z.core.$ZodType }
    | { readonly kind: "leaf" };

const ROOT: Node = { kind: "object", shape: SECTIONS };

/** Looks through optional/default/prefault/pipe wrappers to the object, array or record beneath. */
function nodeOf(schema: z.core.$ZodType): Node {
    const def: z.core.$ZodTypeDef = schema._zod.def;
    switch (def.type) {
        case "object":
            return { kind: "object", shape: (def as unknown as z.core.$ZodObjectDef).shape };
        case "array":
            return { kind: "array", element: (def as unknown as z.core.$ZodArrayDef).element };
        case "record":
            return { kind: "record", value: (def as unknown as z.core.$ZodRecordDef).valueType };
        case "optional":
        case "default":
        case "prefault":
        case "nullable":
            return nodeOf((def as unknown as z.core.$ZodOptionalDef).innerType);
        case "pipe": {
            const pipe = def as unknown as z.core.$ZodPipeDef;
            const out = nodeOf(pipe.out);
            return out.kind !== "leaf" ? out : nodeOf(pipe.in);
        }
        default:
            return { kind: "leaf" };
    }
}

function child(node: Node, segment: string | number): Node | undefined {
    if (node.kind === "object" && typeof segment === "string") {
        const schema = node.shape[segment];
        return schema ? nodeOf(schema) : undefined;
    }
    if (node.kind === "array" && typeof segment === "number") return nodeOf(node.element);
    if (node.kind === "record" && typeof segment === "string") return nodeOf(node.value);
    return undefined;
}

/** The node at a path, or undefined when the path leaves the schema. */
function nodeAt(path: ConfigPath): Node | undefined {
    let node: Node | undefined = ROOT;
    for (const segment of path) {
        node = node && child(node, segment);
    }
    return node;
}

/** The keys of the object at `path`, or undefined when there is no fixed set of keys there. */
export function knownKeysAt(path: ConfigPath): string[] | undefined {
    const node = nodeAt(path);
    return node?.kind === "object" ? Object.keys(node.shape) : undefined;
}

/** Every object key path in the schema, e.g. `tpu.firewall.sourceRanges` (array items as [0]). */
function allPaths(node: Node = ROOT, prefix: (string | number)[] = []): (string | number)[][] {
    if (node.kind === "object") {
        return Object.entries(node.shape).flatMap(([key, schema]) => {
            const path = [...prefix, key];
            return [path, ...allPaths(nodeOf(schema), path)];
        });
    }
    if (node.kind === "array") return allPaths(nodeOf(node.element), [...prefix, 0]);
    return [];
}

/**
 * What an unknown key most likely meant: a sibling with a close name, or for a top-level key, a nested key of
 * that name (`zone` → `tpu.zone`). Returns the full path as `--path` spells it.
 */
export function suggestKey(parent: ConfigPath, key: string): string | undefined {
    const siblings = knownKeysAt(parent);
    const sibling = siblings && didYouMean(key, siblings);
    if (sibling !== undefined) return pathText([...parent, sibling]);
    if (parent.length === 0) {
        const nested = allPaths().filter((p) => p.length > 1);
        const leaf = didYouMean(
            key,
            nested.map((p) => String(p[p.length - 1])),
        );
        const match = nested.find((p) => p[p.length - 1] === leaf);
        return match && pathText(match);
    }
    return undefined;
}

/** Splits `tpu.zones[0]` or `a["x.y"]` into segments; undefined when it is not a well-formed path. */
export function parsePath(text: string): (string | number)[] | undefined {
    const segments: (string | number)[] = [];
    const pattern = /(?:^|\.)([^.[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/y;
    let index = 0;
    while (index < text.length) {
        pattern.lastIndex = index;
        const match = pattern.exec(text);
        if (!match) return undefined;
        if (match[1] !== undefined) segments.push(match[1]);
        else if (match[2] !== undefined) segments.push(Number(match[2]));
        else segments.push(JSON.parse(`"${match[3]}"`) as string);
        index = pattern.lastIndex;
    }
    return segments;
}

/**
 * A dotted path checked against the schema: the path itself when every key is known, else the path with the
 * first unknown key replaced by its suggestion (undefined when nothing is close).
 */
export function correctPath(path: readonly (string | number)[]): { path: string; corrected: boolean } | undefined {
    const fixed: (string | number)[] = [];
    let corrected = false;
    for (const segment of path) {
        const node = nodeAt(fixed);
        if (node && child(node, segment)) {
            fixed.push(segment);
            continue;
        }
        if (node?.kind !== "object" || typeof segment !== "string") return undefined;
        const suggestion = didYouMean(segment, Object.keys(node.shape));
        if (suggestion === undefined) return undefined;
        fixed.push(suggestion);
        corrected = true;
    }
    return { path: pathText(fixed), corrected };
}
