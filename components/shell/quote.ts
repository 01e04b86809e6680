/**
 * The one place where a value becomes shell text. Every value that reaches a remote shell goes through
 * `shellQuote`, so a hostile string (`a'; rm -rf / #`, `$(…)`, backticks, newlines) stays literal data.
 */

/** Quotes one value for a POSIX shell: single quotes, with each embedded `'` written as `'\''`. */
export function shellQuote(value: string): string {
    if (value.includes("\0")) {
        throw new Error(`cannot pass a NUL byte to a shell (value starts ${JSON.stringify(value.slice(0, 20))})`);
    }
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) {
        return value;
    }
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** `NAME='value'` words for an environment prefix, sorted by name; names must be shell identifiers. */
export function envAssignments(env: Readonly<Record<string, string>>): string[] {
    return Object.keys(env)
        .sort()
        .map((name) => {
            if (!ENV_NAME.test(name)) {
                throw new Error(`invalid environment variable name ${JSON.stringify(name)}: use A-Z, 0-9 and _`);
            }
            return `${name}=${shellQuote(env[name])}`;
        });
}

/**
 * Builds `NAME='value' … bash -c '<script>' <name>`: the script runs under bash whatever the login shell is,
 * and its inputs arrive as environment variables, never spliced into the script text.
 */
export function bashWithEnv(script: string, env: Readonly<Record<string, string>>, scriptName: string): string {
    return [...envAssignments(env), "bash", "-c", shellQuote(script), shellQuote(scriptName)].join(" ");
}
