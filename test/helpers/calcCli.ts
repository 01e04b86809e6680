/**
 * Running the calc CLI (scripts/calc.ts) and the pure-Python stand-in for upstream calc.py
 * (test/fixtures/minionerec/calc.py) as child processes, for test/calc.test.ts and test/calcInput.test.ts.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const STAND_IN = path.join(REPO_ROOT, "test", "fixtures", "minionerec", "calc.py");
export const EXAMPLES_DIR = path.join(REPO_ROOT, "test", "fixtures", "calc-examples");
const CLI = path.join(REPO_ROOT, "scripts", "calc.ts");

export function runPython(args: readonly string[], input?: string, cwd?: string): SpawnSyncReturns<string> {
    const result = spawnSync("python3", args, {
        cwd,
        input,
        encoding: "utf8",
        // UTF-8 for open() and stdout regardless of the machine's locale, like upstream on a UTF-8 host.
        env: { ...process.env, PYTHONUTF8: "1", PYTHONDONTWRITEBYTECODE: "1" },
    });
    if (result.error) throw result.error;
    return result;
}

/** The stand-in calc.py, reading its files with Python's own open() and json.load(). */
export function runStandIn(pathArg: string, itemPathArg: string): SpawnSyncReturns<string> {
    return runPython([STAND_IN, "--path", pathArg, "--item_path", itemPathArg]);
}

/**
 * The calc CLI. The streaming threshold comes from `env` only (CALC_STREAM_ABOVE_BYTES in the caller's environment
 * is dropped), so every test states which reading path it runs.
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
    const inherited = { ...process.env };
    delete inherited["CALC_STREAM_ABOVE_BYTES"];
    const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", CLI, ...args], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        env: { ...inherited, ...env },
        maxBuffer: 256 * 1024 * 1024,
    });
    if (result.error) throw result.error;
    return result;
}
