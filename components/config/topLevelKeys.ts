/**
 * Checks of the config as a whole map: gcp:project, which keys may be secrets, and keys that are not this
 * program's (misspelled, or nested keys set without --path, which arrive as one dotted key).
 */
import { checkProjectId } from "./identifiers";
import { correctPath, parsePath, suggestKey } from "./keyTree";
import { Checker } from "./checker";
import { CONFIG_NAMESPACE, describeValue } from "./problems";
import { OBJECT_SECTIONS, SECRET_KEYS, SECTION_NAMES } from "./schema";

export function checkGcpProject(c: Checker): string | undefined {
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

export function checkSecrets(c: Checker): void {
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
export function checkTopLevelKeys(c: Checker): void {
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
