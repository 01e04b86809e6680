// Runs the real `pulumi` CLI (built by test/toolchain/build.sh) for the rehearsal, and shell commands it needs.
import { spawn } from "child_process";

export interface Ran {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly seconds: number;
}

export function run(
    command: string,
    args: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string; echo?: boolean },
): Promise<Ran> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d;
            if (options.echo) process.stderr.write(d);
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d;
            if (options.echo) process.stderr.write(d);
        });
        child.on("error", reject);
        child.on("close", (code) =>
            resolve({ code: code ?? -1, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 }),
        );
        child.stdin.end(options.input ?? "");
    });
}

export async function mustRun(
    what: string,
    command: string,
    args: readonly string[],
    options: Parameters<typeof run>[2],
): Promise<Ran> {
    const result = await run(command, args, options);
    if (result.code !== 0) {
        throw new Error(
            `${what} failed (exit ${result.code}):\n${result.stdout.slice(-6000)}\n${result.stderr.slice(-4000)}`,
        );
    }
    return result;
}

/** The environment test/toolchain/env.sh sets up (pinned CLI on PATH, no plugin downloads, provider in PULUMI_HOME's cache). */
export async function toolchainEnv(root: string, base: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
    const result = await mustRun(
        "test/toolchain/env.sh",
        "bash",
        ["-c", "source test/toolchain/env.sh >&2 && env -0"],
        { env: base, cwd: root },
    );
    const env: NodeJS.ProcessEnv = {};
    for (const entry of result.stdout.split("\0")) {
        const eq = entry.indexOf("=");
        if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return env;
}

/** "Resources:" summary counts from `pulumi up` text output, e.g. {unchanged: 31, updated: 6}. */
export function resourceSummary(output: string): Record<string, number> {
    const block = output.slice(output.lastIndexOf("Resources:"));
    const counts: Record<string, number> = {};
    for (const match of block.matchAll(
        /^\s+(?:[-+~]+\s+)?(\d+) (to create|created|to update|updated|to delete|deleted|to replace|replaced|unchanged|errored)\b/gm,
    )) {
        counts[match[2].replace(/^to /, "")] = Number(match[1]);
    }
    return counts;
}

/**
 * Arguments for `ssh` to a rehearsal host as root with `key`, non-interactive and ignoring known_hosts (every
 * world's hosts get fresh host keys). `extra` options go first: ssh keeps the first value given for an option.
 */
export function rehearsalSshArgs(
    key: string,
    host: string,
    command: string,
    options: { port?: number; connectTimeoutSeconds?: number; extra?: readonly string[] } = {},
): string[] {
    return [
        ...(options.extra ?? []),
        "-F",
        "/dev/null",
        "-i",
        key,
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "-o",
        `ConnectTimeout=${options.connectTimeoutSeconds ?? 5}`,
        ...(options.port === undefined ? [] : ["-p", String(options.port)]),
        `root@${host}`,
        command,
    ];
}
