/**
 * Read-only checks that `pulumi up` can start on a real GCP project, each failure with the command that fixes it:
 *
 *   npm run preflight -- --stack <name> [--dir <project dir>]
 *
 * Uses application-default credentials (`gcloud auth application-default login`). Prints one line per check and a
 * summary; exits 0 when `pulumi up` can start, 1 when something must be fixed first, 2 on bad arguments.
 * TPU_SFT_PREFLIGHT_API_ROOT points every API at one root (`<root>/<api>/...`), for tests against recorded responses.
 */
import { runPreflight } from "./preflight/run";

const USAGE = "usage: preflight --stack <name> [--dir <pulumi project dir>]";

export function parseArgs(argv: readonly string[]): { stack: string; dir: string } {
    const options: { stack?: string; dir: string } = { dir: process.cwd() };
    for (let i = 0; i < argv.length; i++) {
        const match = /^--(stack|dir)(?:=(.*))?$/s.exec(argv[i] as string);
        if (!match) throw new Error(`unexpected argument ${JSON.stringify(argv[i])}; ${USAGE}`);
        const value = match[2] ?? argv[++i];
        if (!value) throw new Error(`--${match[1]} needs a value; ${USAGE}`);
        options[match[1] as "stack" | "dir"] = value;
    }
    if (!options.stack) throw new Error(`missing --stack; ${USAGE}`);
    return { stack: options.stack, dir: options.dir };
}

async function main(): Promise<void> {
    let args: { stack: string; dir: string };
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 2;
        return;
    }
    try {
        const report = await runPreflight({ ...args, apiRoot: process.env.TPU_SFT_PREFLIGHT_API_ROOT || undefined });
        console.log(`preflight for stack ${args.stack}`);
        for (const line of report.lines) console.log(line);
        process.exitCode = report.ok ? 0 : 1;
    } catch (err) {
        console.log(`FAIL preflight: ${(err as Error).message}`);
        process.exitCode = 1;
    }
}

if (require.main === module) {
    void main();
}
