import * as assert from "assert";
import { execFileSync } from "child_process";
import { bashWithEnv, shellQuote } from "../components/shell/quote";

const HOSTILE = [
    "a'; rm -rf / #",
    "$(touch /tmp/pwned)",
    "`id`",
    "x;y",
    "line1\nline2",
    "naïve ☃",
    "",
    "'",
    "\\'\"",
    "--flag",
    "*",
];

describe("shellQuote", () => {
    it("leaves plain words as they are and single-quotes everything else", () => {
        assert.strictEqual(shellQuote("us-east5-b"), "us-east5-b");
        assert.strictEqual(shellQuote("gs://b/p/x.msgpack"), "gs://b/p/x.msgpack");
        assert.strictEqual(shellQuote("a'; rm -rf / #"), `'a'\\''; rm -rf / #'`);
        assert.strictEqual(shellQuote(""), "''");
        assert.strictEqual(shellQuote("$(id)"), "'$(id)'");
    });

    it("round-trips hostile values through a real shell as literal data", () => {
        for (const value of HOSTILE) {
            const out = execFileSync("bash", ["-c", `printf '%s' ${shellQuote(value)}`], { encoding: "utf8" });
            assert.strictEqual(out, value, `value ${JSON.stringify(value)}`);
        }
    });

    it("refuses NUL bytes, which no shell argument can carry", () => {
        assert.throws(() => shellQuote("a\0b"), /NUL byte/);
    });
});

describe("bashWithEnv", () => {
    it("passes inputs as environment variables, sorted, and the script as one quoted argument", () => {
        const cmd = bashWithEnv('echo "$B-$A"', { B: "two words", A: "1" }, "demo");
        assert.strictEqual(cmd, `A=1 B='two words' bash -c 'echo "$B-$A"' demo`);
        assert.strictEqual(execFileSync("sh", ["-c", cmd], { encoding: "utf8" }), "two words-1\n");
    });

    it("keeps hostile values literal when run by sh", () => {
        for (const value of HOSTILE) {
            const cmd = bashWithEnv('printf "%s" "$V"', { V: value }, "demo");
            assert.strictEqual(execFileSync("sh", ["-c", cmd], { encoding: "utf8" }), value);
        }
    });

    it("rejects environment names that are not shell identifiers", () => {
        assert.throws(() => bashWithEnv("true", { "A;B": "x" }, "demo"), /invalid environment variable name "A;B"/);
    });
});
