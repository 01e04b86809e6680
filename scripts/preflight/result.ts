/**
 * One preflight finding per line: `PASS|FAIL|WARN|SKIP <check>: <what was found>[ Fix: <command>]`. Only FAIL
 * stops `pulumi up` from starting; WARN is something preflight could not verify, SKIP a check that cannot run yet.
 */

export type Status = "PASS" | "FAIL" | "WARN" | "SKIP";

export interface CheckResult {
    readonly status: Status;
    /** Short name of the check, e.g. `quota us-east5-b`. */
    readonly check: string;
    readonly message: string;
    /** The command (or commands) that fixes it; every FAIL has one. */
    readonly fix?: string;
}

export const pass = (check: string, message: string): CheckResult => ({ status: "PASS", check, message });
export const fail = (check: string, message: string, fix: string): CheckResult => ({
    status: "FAIL",
    check,
    message,
    fix,
});
export const warn = (check: string, message: string, fix?: string): CheckResult => ({
    status: "WARN",
    check,
    message,
    fix,
});
export const skip = (check: string, message: string): CheckResult => ({ status: "SKIP", check, message });

/** One line, whatever the API said: newlines and runs of spaces in messages become single spaces. */
export function formatResult(result: CheckResult): string {
    const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
    const message = oneLine(result.message);
    if (!result.fix) return `${result.status} ${result.check}: ${message}`;
    return `${result.status} ${result.check}: ${message.replace(/[.;:]$/, "")}. Fix: ${oneLine(result.fix)}`;
}

/** The closing line; `pulumi up` can start when nothing failed. */
export function summarize(results: readonly CheckResult[]): { ok: boolean; line: string } {
    const count = (status: Status) => results.filter((r) => r.status === status).length;
    const ok = count("FAIL") === 0;
    return {
        ok,
        line:
            `${count("PASS")} passed, ${count("FAIL")} failed, ${count("WARN")} warnings, ${count("SKIP")} skipped: ` +
            (ok ? "pulumi up can start" : "fix the failures above before pulumi up"),
    };
}
