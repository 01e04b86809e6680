/**
 * Pure config loading: the stack's `tpu-sft:*` values as the engine gives them in, a validated and derived
 * StackConfig out, or one ConfigError that lists every problem at once (key, value, fix) before any resource
 * exists. Each top-level key is checked on its own, and the checks between keys use every value that is valid on
 * its own, so one bad value does not hide the others.
 */
import { z } from "zod";
import { AcceleratorShape, canonicalAcceleratorType } from "./accelerators";
import { checkProjectId } from "./identifiers";
import { correctPath, knownKeysAt, parsePath, suggestKey } from "./keyTree";
import { exampleFor } from "./examples";
import {
    CONFIG_NAMESPACE,
    ConfigError,
    ConfigPath,
    ConfigProblem,
    describeValue,
    arg,
    FixCommands,
    keyOf,
    pathText,
} from "./problems";
import { checkRelations, Derived } from "./relations";
import { CALC_TOPK_LIST, OBJECT_SECTIONS, SECRET_KEYS, SECTION_NAMES, SECTIONS, SectionName, Sections } from "./schema";
import { didYouMean } from "./suggest";

export { CONFIG_NAMESPACE, ConfigError } from "./problems";
export type { ConfigProblem } from "./problems";

export interface RawConfig {
    readonly stack: string;
    /** `gcp:project`, or undefined when unset. */
    readonly gcpProject: string | undefined;
    /**
     * Every `tpu-sft:*` key but the secrets, without the namespace, decoded as the engine encodes them: objects
     * parsed from their JSON text, strings as they are. A dotted key such as `tpu.zone` is a key of its own.
     */
    readonly values: Readonly<Record<string, unknown>>;
    /** Which secrets are set; their values stay Pulumi secrets and never pass through here. */
    readonly secretsSet: { readonly wandbApiKey: boolean; readonly sshPrivateKey: boolean };
    /** Keys (without the namespace) the engine marks as secret; undefined means exactly the secrets that are set. */
    readonly secretKeys?: readonly string[];
}

type Tpu = Sections["tpu"];

/** tpu as the program uses it: the zone list resolved, the active zone, the service account decided. */
export interface TpuConfig extends Omit<Tpu, "zone" | "zones" | "serviceAccount"> {
    /** The zone the slice runs in: `tpu-sft:activeZone` when set, else zones[0]. */
    readonly zone: string;
    /** The zones in fallback order, first = preferred (tpu.zone alone gives a list of one). */
    readonly zones: readonly string[];
    readonly serviceAccount: {
        readonly email?: string;
        /** Create a dedicated account (named serviceAccountId); false when an email is given. */
        readonly create: boolean;
        readonly scopes: readonly string[];
    };
}

interface CommonConfig {
    readonly stack: string;
    readonly gcpProject: string;
    readonly tpu: TpuConfig;
    readonly ssh: Sections["ssh"];
    readonly repos: Sections["repos"];
    readonly env: Sections["env"];
    readonly bucket: Sections["bucket"];
    readonly wandb: Sections["wandb"];
    readonly project: Sections["project"];
    readonly shape: AcceleratorShape;
    /** The active zone's region. */
    readonly region: string;
    readonly vmName: string;
    readonly bucketName: string;
    /** bucket.location, or the region of tpu.zones[0] (upper case). */
    readonly bucketLocation: string;
    /** The account ID the program creates when tpu.serviceAccount.create on target gcp: `tpu-sft-<stack>`. */
    readonly serviceAccountId?: string;
    /** True when the program must generate the SSH key pair. */
    readonly generateSshKey: boolean;
}

export type TrainConfig = NonNullable<Sections["train"]>;
export type EvalConfig = NonNullable<Sections["eval"]>;
export type LocalConfig = NonNullable<Sections["local"]>;

type RoleConfig =
    | { readonly role: "train"; readonly train: TrainConfig; readonly eval?: undefined }
    | { readonly role: "eval"; readonly eval: EvalConfig; readonly train?: undefined };
type TargetConfig =
    { readonly target: "gcp"; readonly local?: undefined } | { readonly target: "local"; readonly local: LocalConfig };

/** The loaded config: `role` decides whether `train` or `eval` is there, `target` whether `local` is. */
export type StackConfig = CommonConfig & RoleConfig & TargetConfig;
export type TrainStackConfig = Extract<StackConfig, { role: "train" }>;
export type EvalStackConfig = Extract<StackConfig, { role: "eval" }>;

/** What the checks share: the raw values, typed picks of valid values, and the problem list. */
export class Checker {
    readonly problems: ConfigProblem[] = [];
    readonly fix: FixCommands;

    constructor(readonly raw: RawConfig) {
        this.fix = new FixCommands(raw.stack);
    }

    get stack(): string {
        return this.raw.stack;
    }

    /** The raw value at a path, undefined when absent. */
    at(path: ConfigPath): unknown {
        let current: unknown = this.raw.values;
        for (const segment of path) {
            if (current === null || typeof current !== "object") return undefined;
            current = (current as Record<string | number, unknown>)[segment];
        }
        return current;
    }

    /** The value at `path` parsed by `schema` (defaults applied), or undefined when it is not valid. */
    pick<S extends z.ZodType>(schema: S, path: ConfigPath): z.output<S> | undefined {
        const result = schema.safeParse(this.at(path));
        return result.success ? result.data : undefined;
    }

    /** A problem with the key at `path`; the value shown is the raw value there unless `value` says otherwise. */
    add(path: ConfigPath, problem: string, fix: string, value?: string): void {
        this.addKey(keyOf(path), value ?? describeValue(this.at(path)), problem, fix);
    }

    addKey(key: string, value: string, problem: string, fix: string): void {
        if (!this.problems.some((p) => p.key === key && p.problem === problem)) {
            this.problems.push({ key, value, problem, fix });
        }
    }

    /** The usual fix for a value at `path`: set it to the example (or `<value>`), or edit the file for a list. */
    setFix(path: ConfigPath): string {
        const example = exampleFor(path);
        if (example !== undefined) return this.fix.set(path, example);
        if (knownKeysAt(path) !== undefined || Array.isArray(this.at(path))) {
            return `edit ${pathText(path)} in ${this.fix.file()}`;
        }
        return this.fix.set(path, "<value>");
    }
}

export function loadConfig(raw: RawConfig): StackConfig {
    const c = new Checker(raw);
    const gcpProject = checkGcpProject(c);
    checkSecrets(c);
    checkTopLevelKeys(c);
    const full: Partial<Sections> = {};
    for (const name of SECTION_NAMES) {
        if (!applies(c, name)) continue;
        const result = SECTIONS[name].safeParse(raw.values[name]);
        if (result.success) {
            (full as Record<SectionName, unknown>)[name] = result.data;
        } else {
            for (const issue of result.error.issues) reportIssue(c, [name, ...issue.path.map(segment)], issue);
        }
    }
    const derived = checkRelations(c, gcpProject);
    if (c.problems.length > 0) {
        throw new ConfigError(c.problems, raw.stack);
    }
    return assemble(raw, gcpProject, full as Sections, derived);
}

/** train and eval are read only by their role, local only by target local; relations report a misplaced one. */
function applies(c: Checker, name: SectionName): boolean {
    const role = c.pick(SECTIONS.role, ["role"]);
    const target = c.pick(SECTIONS.target, ["target"]);
    if (name === "train") return role !== "eval";
    if (name === "eval") return role !== "train";
    if (name === "local") return target !== "gcp";
    return true;
}

function segment(part: PropertyKey): string | number {
    return typeof part === "number" ? part : String(part);
}

function checkGcpProject(c: Checker): string | undefined {
    const project = c.raw.gcpProject;
    const fix = `pulumi config set gcp:project <your-project-id> --stack ${c.stack}`;
    if (!project) {
        c.addKey("gcp:project", "(unset)", "the GCP project is not set (it is never hard-coded)", fix);
        return undefined;
    }
    const problem = checkProjectId(project);
    if (problem) {
        c.addKey("gcp:project", describeValue(project), `is not a GCP project ID: it ${problem}`, fix);
        return undefined;
    }
    return project;
}

function checkSecrets(c: Checker): void {
    const secretKeys = c.raw.secretKeys;
    if (secretKeys === undefined) return;
    for (const name of SECRET_KEYS) {
        if (c.raw.secretsSet[name] && !secretKeys.includes(name)) {
            c.addKey(
                `${CONFIG_NAMESPACE}:${name}`,
                "(set, in plain text)",
                "is stored in plain text in the stack's config file; it must be a Pulumi secret",
                name === "sshPrivateKey"
                    ? `pulumi config set --secret ${CONFIG_NAMESPACE}:sshPrivateKey --stack ${c.stack} < key-file`
                    : c.fix.secret(name, "<key>"),
            );
        }
    }
    for (const name of [...secretKeys].sort()) {
        if ((SECRET_KEYS as readonly string[]).includes(name)) continue;
        c.addKey(
            `${CONFIG_NAMESPACE}:${name}`,
            "(secret)",
            `holds a secret, but only ${SECRET_KEYS.join(" and ")} may be secrets (the program would copy this value into plain resource inputs and outputs)`,
            `set the value given with --secret again without it (${
                (OBJECT_SECTIONS as readonly string[]).includes(name)
                    ? c.fix.set([name, "<key>"], "<value>")
                    : c.fix.set([name], "<value>")
            })`,
        );
    }
}

/** Unknown top-level keys, and nested keys set without --path (they arrive as one dotted key). */
function checkTopLevelKeys(c: Checker): void {
    const known = new Set<string>([...SECTION_NAMES, ...SECRET_KEYS]);
    for (const name of Object.keys(c.raw.values).sort()) {
        if (known.has(name)) continue;
        const key = `${CONFIG_NAMESPACE}:${name}`;
        const value = describeValue(c.raw.values[name]);
        const path = parsePath(name);
        if (path && path.length > 1 && typeof path[0] === "string" && known.has(path[0])) {
            const corrected = correctPath(path);
            const target = corrected?.path ?? name;
            const raw = c.raw.values[name];
            const shown = typeof raw === "string" ? raw : "<value>";
            const unknown = corrected?.corrected
                ? ` (and ${name} is not a known key: did you mean ${corrected.path}?)`
                : corrected === undefined
                  ? ` (and ${name} is not a known key)`
                  : "";
            c.addKey(
                key,
                value,
                `is a nested key set without --path, so it is one key named "${name}" that the program never reads${unknown}`,
                `${c.fix.rmKey(name)} && ${c.fix.set(parsePath(target) ?? [target], shown)}`,
            );
            continue;
        }
        const suggestion = suggestKey([], name);
        const raw = c.raw.values[name];
        const moved = suggestion
            ? typeof raw === "string" && !suggestion.includes("[")
                ? `${c.fix.rmKey(name)} && ${c.fix.set(parsePath(suggestion) ?? [suggestion], raw)}`
                : `rename ${CONFIG_NAMESPACE}:${name} to ${CONFIG_NAMESPACE}:${suggestion} in ${c.fix.file()}`
            : undefined;
        c.addKey(
            key,
            value,
            `is not a known key${suggestion ? ` (did you mean ${suggestion}?)` : ""}`,
            moved ??
                `${c.fix.rmKey(name)} (known keys: ${SECTION_NAMES.join(", ")}, and the secrets ${SECRET_KEYS.join(", ")})`,
        );
    }
}

function reportIssue(c: Checker, path: (string | number)[], issue: z.core.$ZodIssue): void {
    const value = c.at(path);
    switch (issue.code) {
        case "unrecognized_keys":
            for (const key of issue.keys) reportUnknownKey(c, path, key);
            return;
        case "invalid_type": {
            if (value === undefined) {
                c.add(path, "is required", c.setFix(path));
                return;
            }
            const custom = !issue.message.startsWith("Invalid input");
            c.add(
                path,
                custom ? issue.message : typeProblem(c, path, issue.expected, value),
                custom ? c.setFix(path) : typeFix(c, path, issue.expected, value),
            );
            return;
        }
        case "invalid_value": {
            const options = issue.values.map(String);
            const guess = typeof value === "string" ? didYouMean(value, options) : undefined;
            const fallback = didYouMean(c.stack, options) ?? exampleFor(path) ?? options[0];
            c.add(
                path,
                value === undefined
                    ? `is required (one of ${options.join(", ")})`
                    : `must be one of ${options.join(", ")}${guess ? ` (did you mean ${guess}?)` : ""}`,
                c.fix.set(path, guess ?? fallback),
            );
            return;
        }
        default:
            c.add(path, issue.message.replace(/^Invalid input: /, ""), customFix(c, path, issue));
    }
}

function reportUnknownKey(c: Checker, parent: (string | number)[], key: string): void {
    const path = [...parent, key];
    const suggestion = suggestKey(parent, key);
    const value = c.at(path);
    const known = knownKeysAt(parent) ?? [];
    const scalar = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    c.add(
        path,
        `is not a known key${suggestion ? ` (did you mean ${suggestion}?)` : ""}`,
        suggestion
            ? scalar
                ? `${c.fix.rm(path)} && ${c.fix.set(parsePath(suggestion) ?? [suggestion], String(value))}`
                : `rename ${pathText(path)} to ${suggestion} in ${c.fix.file()}`
            : `${c.fix.rm(path)} (known keys of ${pathText(parent)}: ${known.join(", ")})`,
    );
}

/** The fix for a failed check: remove a repeat, rename a bad map key, set a value. */
function customFix(c: Checker, path: (string | number)[], issue: z.core.$ZodIssue): string {
    const topk = path.indexOf("topk");
    if (topk >= 0) {
        return `set ${pathText(path.slice(0, topk + 1))} to [${CALC_TOPK_LIST.join(", ")}] or a prefix of it, in ${c.fix.file()}`;
    }
    if (issue.message.startsWith("repeats ")) return c.fix.rm(path);
    if (/^a (label key|run name) /.test(issue.message)) {
        return `rename ${pathText(path)} in ${c.fix.file()} (${issue.message})`;
    }
    if (issue.code === "too_small" && Array.isArray(c.at(path))) {
        const example = exampleFor([...path, 0]);
        if (example !== undefined) return c.fix.set([...path, 0], example);
    }
    if (path.length === 2 && path[0] === "tpu" && path[1] === "acceleratorType") {
        const canonical = typeof c.at(path) === "string" ? canonicalAcceleratorType(String(c.at(path))) : undefined;
        if (canonical) return c.fix.set(path, canonical);
    }
    return c.setFix(path);
}

function typeName(value: unknown): string {
    if (Array.isArray(value)) return "a list";
    if (value === null) return "null";
    if (typeof value === "object") return "an object";
    if (typeof value === "number") return Number.isInteger(value) ? "a whole number" : "a number";
    return `a ${typeof value === "string" ? "string" : typeof value}`;
}

function typeProblem(c: Checker, path: ConfigPath, expected: string, value: unknown): string {
    if (expected === "object" || expected === "record") {
        if (path.length === 1 && path[0] === "project" && typeof value === "string") {
            return "must be an object with enableServices, not a project ID (did you mean gcp:project?)";
        }
        return `must be an object of keys (got ${typeName(value)})`;
    }
    if (expected === "array") {
        if (typeof value === "string" && value.trim().startsWith("[")) {
            return "is the text of a list, not a list (pulumi config set --path stores text; set each item by index)";
        }
        return `must be a list (got ${typeName(value)})`;
    }
    if (expected === "string") {
        return typeof value === "number" && !Number.isInteger(value)
            ? `must be text, not the number ${describeValue(value)} (quote it in ${c.fix.file()})`
            : `must be text (got ${typeName(value)})`;
    }
    if (expected === "boolean") return `must be true or false (got ${typeName(value)})`;
    return `must be ${expected} (got ${typeName(value)})`;
}

function typeFix(c: Checker, path: ConfigPath, expected: string, value: unknown): string {
    if (path.length === 1 && path[0] === "project" && typeof value === "string") {
        return `${c.fix.rmKey("project")} && pulumi config set gcp:project ${arg(value)} --stack ${c.stack}`;
    }
    if (expected === "array") {
        const example = exampleFor([...path, 0]) ?? "<value>";
        return `${c.fix.rm(path)} && ${c.fix.set([...path, 0], example)} (one command per item), or edit ${pathText(path)} in ${c.fix.file()}`;
    }
    if (expected === "object" || expected === "record") {
        return `set its keys with --path (e.g. ${c.fix.set([...path, knownKeysAt(path)?.[0] ?? "<key>"], "<value>")}), or edit ${pathText(path)} in ${c.fix.file()}`;
    }
    return c.setFix(path);
}

function assemble(raw: RawConfig, gcpProject: string | undefined, full: Sections, derived: Derived): StackConfig {
    const { shape, zones, zone, vmName, bucketName, bucketLocation, serviceAccountCreate } = derived;
    if (
        gcpProject === undefined ||
        shape === undefined ||
        zones === undefined ||
        zone === undefined ||
        vmName === undefined ||
        bucketName === undefined ||
        bucketLocation === undefined ||
        serviceAccountCreate === undefined
    ) {
        throw new Error("loadConfig: a derived value is missing although no problem was reported (a bug)");
    }
    const tpu: TpuConfig = {
        ...full.tpu,
        zone,
        zones,
        serviceAccount: { ...full.tpu.serviceAccount, create: serviceAccountCreate },
    };
    const common: CommonConfig = {
        stack: raw.stack,
        gcpProject,
        tpu,
        ssh: full.ssh,
        repos: full.repos,
        env: full.env,
        bucket: full.bucket,
        wandb: full.wandb,
        project: full.project,
        shape,
        region: derived.region ?? zone,
        vmName,
        bucketName,
        bucketLocation,
        serviceAccountId: derived.serviceAccountId,
        generateSshKey: !raw.secretsSet.sshPrivateKey,
    };
    const role: RoleConfig | undefined =
        full.role === "train" && full.train
            ? { role: "train", train: full.train }
            : full.role === "eval" && full.eval
              ? { role: "eval", eval: full.eval }
              : undefined;
    const target: TargetConfig | undefined =
        full.target === "local" && full.local
            ? { target: "local", local: full.local }
            : full.target === "gcp"
              ? { target: "gcp" }
              : undefined;
    if (!role || !target) {
        throw new Error("loadConfig: the role or target section is missing although no problem was reported (a bug)");
    }
    return { ...common, ...role, ...target };
}
