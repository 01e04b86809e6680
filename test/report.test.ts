/**
 * Tests for `npm run report` (scripts/report.ts and scripts/report/*.ts): the eval stack's HR@K/NDCG@K beside the
 * figures the SOP observed, as a table, as one JSON line, and as an SVG chart.
 *
 * The CLI runs as a child process, with --outputs (a fixture file) or with a fake `pulumi` on PATH that prints the
 * fixture, records its arguments and one environment variable, or fails the way pulumi does for a missing stack.
 * SVG well-formedness is checked twice: by a small tokenizer here (balanced tags, quoted attributes, only the five
 * XML entities and character references, one root) and, when python3 is present (the suites already need it), by
 * Python's XML parser. No SVG renderer is needed.
 */
import * as assert from "assert";
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { buildReport, roundDelta, RunReport } from "../scripts/report/compare";
import { EvalRuns, parseEvalOutputs, readStackOutputs, ReportInputError, Runner } from "../scripts/report/outputs";
import { loadObserved, ObservedFigures, parseObserved } from "../scripts/report/reference";
import { escapeXml, niceAxis, renderSvg } from "../scripts/report/svg";
import { formatDelta, formatJsonReport, formatPlainReport, formatTable } from "../scripts/report/table";
import { sliceHold } from "../components/lifecycle/sliceHold";
import { stackCost } from "../components/lifecycle/stackCost";

const REPO_ROOT = path.resolve(__dirname, "..");
const CLI = path.join(REPO_ROOT, "scripts", "report.ts");
const TS_NODE = require.resolve("ts-node/register/transpile-only");
const FIXTURE = path.join(__dirname, "fixtures", "report", "outputs.json");
// The SOP's own "Observed result" section, copied verbatim, so the reference figures are checked against it.
const SOP_SECTION = path.join(__dirname, "fixtures", "report", "sop-observed-section.md");
const SOURCE = 'the SOP (v6e-16 SFT, v6e-8 eval), section "Observed result (2026-01-29)"';

// ---------------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------------

function fixtureJson(): { evalRuns: Record<string, Record<string, unknown>> } & Record<string, unknown> {
    return JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as { evalRuns: Record<string, Record<string, unknown>> };
}

function fixtureRuns(): EvalRuns {
    return parseEvalOutputs(fixtureJson(), "fixture");
}

let tmpRoot = "";
let tmpCount = 0;
function tmpDir(): string {
    const dir = path.join(tmpRoot, String(tmpCount++));
    fs.mkdirSync(dir);
    return dir;
}

function runCli(
    args: readonly string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
    const result = spawnSync(process.execPath, ["-r", TS_NODE, CLI, ...args], {
        cwd: options.cwd ?? tmpDir(),
        // Run from a temporary directory, ts-node would not find the project's tsconfig.json by itself.
        env: { ...(options.env ?? process.env), TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json") },
        encoding: "utf8",
    });
    if (result.error) throw result.error;
    return result;
}

/** Writes `value` as an outputs file and returns its path. */
function outputsFile(value: unknown, dir = tmpDir()): string {
    const file = path.join(dir, "outputs.json");
    fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
}

/** A copy of the fixture with `edit` applied to evalRuns.office. */
function withOffice(edit: (office: Record<string, unknown>) => void): unknown {
    const outputs = fixtureJson();
    edit(outputs.evalRuns.office as Record<string, unknown>);
    return outputs;
}

function parseError(value: unknown): string {
    try {
        parseEvalOutputs(value, "out.json");
    } catch (err) {
        assert.ok(err instanceof ReportInputError, `expected a ReportInputError, got ${String(err)}`);
        return err.message;
    }
    assert.fail("expected the outputs to be rejected");
}

/** Asserts exit 2 with exactly one stderr line that contains every fragment, and nothing on stdout. */
function assertBadInput(result: SpawnSyncReturns<string>, ...fragments: string[]): void {
    assert.strictEqual(result.status, 2, `exit ${result.status}; stderr: ${result.stderr}`);
    assert.strictEqual(result.stdout, "");
    assert.match(result.stderr, /^report: error: [^\n]+\n$/);
    for (const fragment of fragments)
        assert.ok(
            result.stderr.includes(fragment),
            `stderr ${JSON.stringify(result.stderr)} lacks ${JSON.stringify(fragment)}`,
        );
}

/**
 * Checks XML well-formedness without a parser library: the XML declaration, then exactly one root element, every
 * tag closed in order, attributes double-quoted with no '<' inside, and '&' only in the five predefined entities or
 * a character reference. Returns the element names in document order.
 */
function checkWellFormed(xml: string): string[] {
    const decl = '<?xml version="1.0" encoding="UTF-8"?>\n';
    assert.ok(xml.startsWith(decl), "starts with the XML declaration");
    const body = xml.slice(decl.length);
    const token =
        /<\/([A-Za-z][\w.:-]*)\s*>|<([A-Za-z][\w.:-]*)((?:\s+[A-Za-z_:][\w.:-]*\s*=\s*"[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/y;
    const entity = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;
    const stack: string[] = [];
    const elements: string[] = [];
    let roots = 0;
    let m: RegExpExecArray | null;
    token.lastIndex = 0;
    while (token.lastIndex < body.length && (m = token.exec(body)) !== null) {
        const [, close, open, attrs, selfClose, text, stray] = m;
        if (stray !== undefined)
            assert.fail(`malformed markup at ${JSON.stringify(body.slice(m.index, m.index + 60))}`);
        if (text !== undefined) {
            if (stack.length === 0) assert.match(text, /^\s*$/, "only whitespace outside the root element");
            assert.doesNotMatch(text, entity, `bad '&' in text ${JSON.stringify(text)}`);
            continue;
        }
        if (close !== undefined) {
            assert.strictEqual(stack.pop(), close, `</${close}> closes the element that is open`);
            continue;
        }
        if (stack.length === 0) roots++;
        elements.push(open as string);
        const names = [...(attrs as string).matchAll(/([A-Za-z_:][\w.:-]*)\s*=\s*"([^"]*)"/g)];
        for (const [, , value] of names)
            assert.doesNotMatch(value as string, entity, `bad '&' in attribute value ${JSON.stringify(value)}`);
        const unique = new Set(names.map((n) => n[1]));
        assert.strictEqual(unique.size, names.length, `<${open}> repeats an attribute`);
        if (selfClose === "") stack.push(open as string);
    }
    assert.strictEqual(token.lastIndex, body.length, "the whole document was tokenized");
    assert.deepStrictEqual(stack, [], "every element is closed");
    assert.strictEqual(roots, 1, "exactly one root element");
    return elements;
}

function hasPython(): boolean {
    const r = spawnSync("python3", ["--version"], { encoding: "utf8" });
    return r.error === undefined && r.status === 0;
}

/** Parses the SVG with Python's XML parser; returns {root, attrs, polylines: {panelId: {run: n, reference: n}}, texts}. */
function parseWithPython(svg: string): {
    root: string;
    attrs: Record<string, string>;
    polylines: Record<string, Record<string, number>>;
    runs: Record<string, string[]>;
    texts: string[];
} {
    const script = `
import json, sys, xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'
root = ET.fromstring(sys.stdin.buffer.read())
out = {'root': root.tag, 'attrs': dict(root.attrib), 'polylines': {}, 'runs': {}, 'texts': [t.text or '' for t in root.iter(NS + 'text')]}
for g in root.iter(NS + 'g'):
    if g.get('class') == 'panel':
        counts = {}
        for p in g.iter(NS + 'polyline'):
            counts[p.get('class')] = counts.get(p.get('class'), 0) + 1
        out['polylines'][g.get('id')] = counts
        out['runs'][g.get('id')] = [s.get('data-run') for s in g.iter(NS + 'g') if s.get('class') == 'run']
print(json.dumps(out))
`;
    const r = spawnSync("python3", ["-c", script], { input: svg, encoding: "utf8" });
    assert.strictEqual(r.status, 0, `python3 could not parse the SVG: ${r.stderr}`);
    return JSON.parse(r.stdout) as ReturnType<typeof parseWithPython>;
}

function count(haystack: string, needle: RegExp): number {
    return (haystack.match(needle) ?? []).length;
}

/** The <g class="panel" id=...> element's text. */
function panel(svg: string, id: string): string {
    const start = svg.indexOf(`<g class="panel" id="${id}">`);
    assert.ok(start >= 0, `panel ${id} exists`);
    const end = svg.indexOf(`<g class="panel"`, start + 1);
    return svg.slice(start, end < 0 ? svg.indexOf('<g class="legend">') : end);
}

// The exact plain-mode output for test/fixtures/report/outputs.json. Runs are in name order. Office's deltas are
// hand-checked (0.1215 - 0.12145 = +0.00005, 0.1644 - 0.16461 = -0.00021, 0.248 - 0.24764 = +0.00036, 0.1157 -
// 0.11577 = -0.00007, 0.1412 - 0.14117 = +0.00003). Industrial's NDCG@20 is 0.094995, whose binary value lies just
// below the half, so it prints 0.09499 against the SOP's 0.09500 with a difference of -0.000005, printed -0.00001.
// Sports has no SOP figures.
const EXPECTED_PLAIN = `Reference (SOP) figures: ${SOURCE}

industrial  n=4533  invalid=0  W&B https://wandb.ai/example/minionerec-sid-sft/runs/indust01  agreement: agree (max abs diff 3.20e-9)
  K |      HR | HR (SOP) |      ΔHR |    NDCG | NDCG (SOP) |    ΔNDCG
----+---------+----------+----------+---------+------------+---------
  1 | 0.06331 |  0.06331 | +0.00000 | 0.06331 |    0.06331 | +0.00000
  3 | 0.08868 |  0.08868 | +0.00000 | 0.07828 |    0.07828 | +0.00000
  5 | 0.09993 |  0.09993 | +0.00000 | 0.08295 |    0.08295 | +0.00000
 10 | 0.11846 |  0.11846 | +0.00000 | 0.08891 |    0.08891 | +0.00000
 20 | 0.14251 |  0.14251 | +0.00000 | 0.09499 |    0.09500 | -0.00001
 50 | 0.18994 |  0.18994 | +0.00000 | 0.10445 |    0.10445 | +0.00000

office  n=4866  invalid=0  W&B https://wandb.ai/example/minionerec-sid-sft/runs/office01  agreement: agree (max abs diff 0)
  K |      HR | HR (SOP) |      ΔHR |    NDCG | NDCG (SOP) |    ΔNDCG
----+---------+----------+----------+---------+------------+---------
  1 | 0.08816 |  0.08816 | +0.00000 | 0.08816 |    0.08816 | +0.00000
  3 | 0.12150 |  0.12145 | +0.00005 | 0.10747 |    0.10747 | +0.00000
  5 | 0.14159 |  0.14159 | +0.00000 | 0.11570 |    0.11577 | -0.00007
 10 | 0.16440 |  0.16461 | -0.00021 | 0.12314 |    0.12314 | +0.00000
 20 | 0.19441 |  0.19441 | +0.00000 | 0.13069 |    0.13069 | +0.00000
 50 | 0.24800 |  0.24764 | +0.00036 | 0.14120 |    0.14117 | +0.00003

sports  n=1000  invalid=3  W&B (none)  agreement: DISAGREE (max abs diff 4.00e-4)
  K |      HR | HR (SOP) |      ΔHR |    NDCG | NDCG (SOP) |    ΔNDCG
----+---------+----------+----------+---------+------------+---------
  1 | 0.05000 |        — |        — | 0.05000 |          — |        —
  5 | 0.10000 |        — |        — | 0.07512 |          — |        —
 10 | 0.12500 |        — |        — | 0.08333 |          — |        —

SVG chart written to report-eval.svg
`;

// ---------------------------------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------------------------------

describe("report: HR@K / NDCG@K against the SOP", function () {
    before(() => {
        tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-report-"));
    });
    after(() => {
        fs.rmSync(tmpRoot, { recursive: true, force: true });
    });

    describe("reference figures (scripts/report/sop-observed.json)", () => {
        it("holds the SOP figures for office and industrial at K = 1, 3, 5, 10, 20, 50, with the source named", () => {
            const observed = loadObserved();
            assert.strictEqual(observed.source, SOURCE);
            assert.strictEqual(observed.date, "2026-01-29");
            assert.deepStrictEqual(observed.k, [1, 3, 5, 10, 20, 50]);
            assert.deepStrictEqual(Object.keys(observed.runs).sort(), ["industrial", "office"]);
            assert.deepStrictEqual(observed.runs.office!.hr, [0.08816, 0.12145, 0.14159, 0.16461, 0.19441, 0.24764]);
            assert.deepStrictEqual(observed.runs.office!.ndcg, [0.08816, 0.10747, 0.11577, 0.12314, 0.13069, 0.14117]);
            assert.deepStrictEqual(
                observed.runs.industrial!.hr,
                [0.06331, 0.08868, 0.09993, 0.11846, 0.14251, 0.18994],
            );
            assert.deepStrictEqual(
                observed.runs.industrial!.ndcg,
                [0.06331, 0.07828, 0.08295, 0.08891, 0.095, 0.10445],
            );
            assert.deepStrictEqual([observed.runs.office!.n, observed.runs.office!.invalid], [4866, 0]);
            assert.deepStrictEqual([observed.runs.industrial!.n, observed.runs.industrial!.invalid], [4533, 0]);
        });

        it('matches the "Observed result (2026-01-29)" section of the SOP itself', () => {
            const section = fs
                .readFileSync(SOP_SECTION, "utf8")
                .split("## Observed result (2026-01-29)")[1]!
                .split("\n## ")[0]!;
            const observed = loadObserved();
            const blocks = section.split(/\n- (?=\w+ eval from)/).filter((b) => /eval from/.test(b));
            assert.strictEqual(blocks.length, 2);
            for (const block of blocks) {
                const name = /^-?\s*(\w+) eval from/.exec(block)![1]!.toLowerCase();
                const run = observed.runs[name]!;
                const list = (label: string) =>
                    JSON.parse(new RegExp(`${label}@K: \`(\\[[^\\]]*\\])\``).exec(block)![1]!) as number[];
                assert.deepStrictEqual(list("HR"), run.hr, `${name} HR`);
                assert.deepStrictEqual(list("NDCG"), run.ndcg, `${name} NDCG`);
                assert.strictEqual(Number(/n=(\d+)/.exec(block)![1]), run.n);
                assert.strictEqual(Number(/invalid=(\d+)/.exec(block)![1]), run.invalid);
                assert.ok(block.includes(run.wandbUrl), `${name} W&B URL`);
            }
        });

        it("rejects reference figures whose lists do not match k", () => {
            const bad = JSON.parse(
                fs.readFileSync(path.join(REPO_ROOT, "scripts/report/sop-observed.json"), "utf8"),
            ) as ObservedFigures;
            bad.runs.office!.hr = bad.runs.office!.hr.slice(1);
            assert.throws(() => parseObserved(bad), /runs\.office\.hr: has 5 values for 6 K/);
        });
    });

    describe("comparison and deltas", () => {
        it("pairs runs with the SOP by name, K by K, and gives run minus SOP without binary noise", () => {
            const report = buildReport(fixtureRuns(), loadObserved());
            assert.deepStrictEqual(
                report.map((r) => r.name),
                ["industrial", "office", "sports"],
            );
            const office = report[1]!;
            assert.deepStrictEqual(office.k, [1, 3, 5, 10, 20, 50]);
            assert.deepStrictEqual(office.hr, [0.08816, 0.1215, 0.14159, 0.1644, 0.19441, 0.248]);
            assert.deepStrictEqual(office.reference, {
                hr: [0.08816, 0.12145, 0.14159, 0.16461, 0.19441, 0.24764],
                ndcg: [0.08816, 0.10747, 0.11577, 0.12314, 0.13069, 0.14117],
            });
            assert.deepStrictEqual(office.delta, {
                hr: [0, 0.00005, 0, -0.00021, 0, 0.00036],
                ndcg: [0, 0, -0.00007, 0, 0, 0.00003],
            });
            const industrial = report[0]!;
            assert.deepStrictEqual(
                industrial.delta!.hr,
                [3.4789e-6, 2.9914e-6, 3.8198e-6, 4.593e-6, 4.787e-7, 4.368e-7],
            );
            assert.strictEqual(industrial.delta!.ndcg[4], -0.000005);
        });

        it("gives a run without SOP figures null reference and delta, shown as — in the table", () => {
            const sports = buildReport(fixtureRuns(), loadObserved())[2]!;
            assert.strictEqual(sports.name, "sports");
            assert.strictEqual(sports.reference, null);
            assert.strictEqual(sports.delta, null);
            const rows = formatTable(sports).slice(2);
            assert.strictEqual(rows.length, 3);
            for (const row of rows) assert.strictEqual(count(row, /—/g), 4, row);
        });

        it("matches by exact name only, and shows — for a K the SOP did not report", () => {
            const outputs = fixtureJson();
            const office = outputs.evalRuns.office!;
            office.k = [1, 10, 100];
            office.hr = { "1": 0.09, "10": 0.17, "100": 0.3 };
            office.ndcg = { "1": 0.09, "10": 0.125, "100": 0.15 };
            outputs.evalRuns.Office = outputs.evalRuns.industrial!;
            const report = buildReport(parseEvalOutputs(outputs, "x"), loadObserved());
            const byName = Object.fromEntries(report.map((r) => [r.name, r])) as Record<string, RunReport>;
            assert.strictEqual(byName.Office!.reference, null, '"Office" is not "office"');
            assert.deepStrictEqual(byName.office!.reference, {
                hr: [0.08816, 0.16461, null],
                ndcg: [0.08816, 0.12314, null],
            });
            assert.deepStrictEqual(byName.office!.delta, {
                hr: [0.00184, 0.00539, null],
                ndcg: [0.00184, 0.00186, null],
            });
            assert.strictEqual(
                formatTable(byName.office!)[4],
                "100 | 0.30000 |        — |        — | 0.15000 |          — |        —",
            );
        });

        it("sorts K ascending even if the outputs list them out of order", () => {
            const outputs = fixtureJson();
            outputs.evalRuns.office!.k = [50, 1, 20, 3, 10, 5];
            const office = buildReport(parseEvalOutputs(outputs, "x"), loadObserved()).find(
                (r) => r.name === "office",
            )!;
            assert.deepStrictEqual(office.k, [1, 3, 5, 10, 20, 50]);
            assert.deepStrictEqual(office.delta!.hr, [0, 0.00005, 0, -0.00021, 0, 0.00036]);
        });

        it("formats differences with a sign, never -0.00000", () => {
            assert.strictEqual(formatDelta(0.00036), "+0.00036");
            assert.strictEqual(formatDelta(-0.00021), "-0.00021");
            assert.strictEqual(formatDelta(0), "+0.00000");
            assert.strictEqual(formatDelta(-0.000001), "+0.00000");
            assert.strictEqual(formatDelta(null), "—");
            assert.strictEqual(roundDelta(0.0882 - 0.08816), 0.00004);
            assert.ok(Object.is(roundDelta(-1e-15), 0));
        });
    });

    describe("plain mode", () => {
        it("prints the exact header lines and tables for the fixture, then the SVG path (CLI, --outputs)", () => {
            const cwd = tmpDir();
            const result = runCli(["--stack", "eval", "--outputs", FIXTURE], { cwd });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.strictEqual(result.stderr, "");
            assert.strictEqual(result.stdout, EXPECTED_PLAIN);
            assert.ok(fs.existsSync(path.join(cwd, "report-eval.svg")), "the SVG is in the current directory");
        });

        it("is the same text from the pure functions", () => {
            const report = buildReport(fixtureRuns(), loadObserved());
            assert.strictEqual(formatPlainReport(report, SOURCE, "report-eval.svg"), EXPECTED_PLAIN);
        });
    });

    describe("--json", () => {
        it("prints one JSON line with runs, reference and delta (null without SOP figures) and the SVG path", () => {
            const cwd = tmpDir();
            const result = runCli(["--outputs", FIXTURE, "--stack", "eval", "--json", "--svg", "out/chart.svg"], {
                cwd: (fs.mkdirSync(path.join(cwd, "out")), cwd),
            });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /^[^\n]+\n$/, "exactly one line");
            const parsed = JSON.parse(result.stdout) as {
                runs: Record<string, Record<string, unknown>>;
                svg: string;
                source: string;
            };
            assert.strictEqual(parsed.svg, "out/chart.svg");
            assert.strictEqual(parsed.source, SOURCE);
            assert.ok(fs.existsSync(path.join(cwd, "out", "chart.svg")));
            assert.deepStrictEqual(Object.keys(parsed.runs), ["industrial", "office", "sports"]);
            assert.deepStrictEqual(parsed.runs.office, {
                k: [1, 3, 5, 10, 20, 50],
                hr: [0.08816, 0.1215, 0.14159, 0.1644, 0.19441, 0.248],
                ndcg: [0.08816, 0.10747, 0.1157, 0.12314, 0.13069, 0.1412],
                reference: {
                    hr: [0.08816, 0.12145, 0.14159, 0.16461, 0.19441, 0.24764],
                    ndcg: [0.08816, 0.10747, 0.11577, 0.12314, 0.13069, 0.14117],
                },
                delta: { hr: [0, 0.00005, 0, -0.00021, 0, 0.00036], ndcg: [0, 0, -0.00007, 0, 0, 0.00003] },
                n: 4866,
                invalid: 0,
                wandbUrl: "https://wandb.ai/example/minionerec-sid-sft/runs/office01",
                agreement: { agree: true, maxAbsDiff: 0 },
            });
            assert.strictEqual(parsed.runs.sports!.reference, null);
            assert.strictEqual(parsed.runs.sports!.delta, null);
            assert.deepStrictEqual(parsed.runs.sports!.k, [1, 5, 10]);
        });

        it("keeps a run named __proto__ as an ordinary key", () => {
            const outputs = fixtureJson();
            outputs.evalRuns = JSON.parse(`{"__proto__": ${JSON.stringify(outputs.evalRuns.sports)}}`) as Record<
                string,
                Record<string, unknown>
            >;
            const line = formatJsonReport(buildReport(parseEvalOutputs(outputs, "x"), loadObserved()), SOURCE, "r.svg");
            assert.deepStrictEqual(Object.keys((JSON.parse(line) as { runs: object }).runs), ["__proto__"]);
        });
    });

    describe("malformed outputs", () => {
        const cases: [string, (office: Record<string, unknown>) => void, RegExp][] = [
            [
                "a metric that is not a number",
                (o) => ((o.hr as Record<string, unknown>)["5"] = "0.14"),
                /eval run "office": field hr\.5: Invalid input: expected number, received string/,
            ],
            [
                "a metric above 1",
                (o) => ((o.ndcg as Record<string, unknown>)["1"] = 8.816),
                /eval run "office": field ndcg\.1: Too big/,
            ],
            [
                "a K missing from hr",
                (o) => delete (o.hr as Record<string, unknown>)["20"],
                /eval run "office": field hr\.20: is missing \(k lists 20\)/,
            ],
            [
                "a key in ndcg that k does not list",
                (o) => ((o.ndcg as Record<string, unknown>)["7"] = 0.1),
                /eval run "office": field ndcg\.7: has no matching K in k \[1, 3, 5, 10, 20, 50\]/,
            ],
            ["a repeated K", (o) => (o.k = [1, 3, 3]), /eval run "office": field k: must not repeat a K/],
            [
                "a K that is not a positive integer",
                (o) => (o.k = [0, 1.5]),
                /field k\[0\]: Too small.*field k\[1\]: Invalid input: expected int/,
            ],
            ["no wandbUrl", (o) => delete o.wandbUrl, /eval run "office": field wandbUrl: is missing/],
            [
                "agreement without agree",
                (o) => (o.agreement = { maxAbsDiff: 0 }),
                /eval run "office": field agreement\.agree: is missing/,
            ],
            [
                "a checkpoint without size",
                (o) => (o.checkpoint = { uri: "gs://b/c", crc32c: "IcOvzQ==" }),
                /field checkpoint\.size: is missing/,
            ],
            [
                "artifacts that are not URIs",
                (o) => (o.artifacts = { predictions: 3 }),
                /field artifacts\.predictions: Invalid input: expected string, received number/,
            ],
            [
                "more invalid than n",
                (o) => (o.invalid = 5000),
                /eval run "office": field invalid: is 5000, more than n \(4866\)/,
            ],
            ["a negative evalSeconds", (o) => (o.evalSeconds = -1), /field evalSeconds: Too small/],
            ["a secret field", (o) => (o.agreement = "[secret]"), /field agreement: is a secret \("\[secret\]"\)/],
        ];
        for (const [what, edit, want] of cases) {
            it(`names the run and the field for ${what}`, () => {
                const message = parseError(withOffice(edit));
                assert.match(message, /^out\.json: /);
                assert.match(message, want);
                assert.doesNotMatch(message, /\n/);
            });
        }

        it("a run that is not an object", () => {
            const outputs = fixtureJson();
            (outputs.evalRuns as Record<string, unknown>).industrial = 42;
            assert.match(
                parseError(outputs),
                /^out\.json: eval run "industrial": Invalid input: expected object, received number$/,
            );
        });

        it("no evalRuns, empty evalRuns, evalRuns of the wrong type, a secret evalRuns, outputs that are not an object", () => {
            assert.match(
                parseError({ bucket: "b" }),
                /^out\.json: the outputs have no eval runs \(no "evalRuns" output/,
            );
            assert.match(
                parseError({ evalRuns: {} }),
                /^out\.json: the outputs have no eval runs \(evalRuns is empty\)$/,
            );
            assert.match(parseError({ evalRuns: [] }), /evalRuns must be an object keyed by run name, not an array/);
            assert.match(parseError({ evalRuns: "[secret]" }), /evalRuns is a secret/);
            assert.match(parseError([1]), /the stack outputs are not a JSON object/);
        });

        it("CLI: exit 2 with one stderr line naming the run and field", () => {
            const file = outputsFile(withOffice((o) => ((o.hr as Record<string, unknown>)["3"] = null)));
            assertBadInput(
                runCli(["--stack", "eval", "--outputs", file]),
                `${file}: eval run "office": field hr.3: Invalid input: expected number, received null`,
            );
        });

        it("CLI: exit 2 for outputs without eval runs, invalid JSON and a missing file, and writes no SVG", () => {
            const cwd = tmpDir();
            assertBadInput(
                runCli(["--stack", "eval", "--outputs", outputsFile({ bucket: "b" })], { cwd }),
                "the outputs have no eval runs",
            );
            assertBadInput(
                runCli(["--stack", "eval", "--outputs", outputsFile('{"evalRuns": ')], { cwd }),
                "the outputs file is not valid JSON",
            );
            assertBadInput(
                runCli(["--stack", "eval", "--outputs", path.join(cwd, "nope.json")], { cwd }),
                "nope.json: cannot read the outputs file: ENOENT",
            );
            assert.deepStrictEqual(fs.readdirSync(cwd), []);
        });

        it("CLI: exit 2 with the usage for bad arguments", () => {
            assertBadInput(runCli([]), "missing --stack", "usage: report --stack <stack>");
            assertBadInput(runCli(["--stack", "eval", "--bogus"]), 'unexpected argument "--bogus"');
            assertBadInput(runCli(["--stack"]), "--stack needs a value");
            assertBadInput(runCli(["--stack", "eval", "--train-stack"]), "--train-stack needs a value");
        });

        it("CLI: --train-outputs adds the train stack's cost line; a train stack without a cost output is exit 2", () => {
            const trainCost = stackCost(16, "spot", { onDemandPerChipHour: 2.7 }, [
                { chipHours: 16, slice: sliceHold({ chips: 16, upSince: 0, startedAt: 900, finishedAt: 4500 }) },
            ]);
            const evalFile = outputsFile(fixtureJson());
            const ok = runCli(["--outputs", evalFile, "--train-outputs", outputsFile({ cost: trainCost })]);
            assert.strictEqual(ok.status, 0, ok.stderr);
            assert.match(
                ok.stdout,
                /\n\ntrain stack cost on 16 chips: 16 chip-hours of work; the runs held the slice 20 chip-hours, 4 of them idle; no spot price set \(tpu\.prices\), no estimate\./,
            );
            const json = runCli(["--outputs", evalFile, "--train-outputs", outputsFile({ cost: trainCost }), "--json"]);
            assert.deepStrictEqual(JSON.parse(json.stdout).trainCost, trainCost);
            const bare = outputsFile({ runs: {} });
            assertBadInput(
                runCli(["--outputs", evalFile, "--train-outputs", bare]),
                `${bare}: the outputs have no cost output`,
            );
        });
    });

    describe("reading the stack with pulumi", () => {
        /** A directory holding a fake `pulumi` that logs its arguments and $REPORT_TEST_MARK, then runs `body`. */
        function fakePulumi(body: string): { dir: string; log: string } {
            const dir = tmpDir();
            const log = path.join(dir, "pulumi.log");
            fs.writeFileSync(
                path.join(dir, "pulumi"),
                `#!/bin/sh\nprintf '%s\\n' "$*" "mark=$REPORT_TEST_MARK" > ${JSON.stringify(log)}\n${body}\n`,
                { mode: 0o755 },
            );
            return { dir, log };
        }

        it("runs `pulumi stack output --stack <stack> --json` with the environment passed through", () => {
            const fake = fakePulumi(`cat ${JSON.stringify(FIXTURE)}`);
            const cwd = tmpDir();
            const result = runCli(["--stack", "eval"], {
                cwd,
                env: { ...process.env, PATH: `${fake.dir}:/usr/bin:/bin`, REPORT_TEST_MARK: "passed-through" },
            });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.strictEqual(result.stdout, EXPECTED_PLAIN);
            assert.strictEqual(
                fs.readFileSync(fake.log, "utf8"),
                "stack output --stack eval --json\nmark=passed-through\n",
            );
            assert.ok(fs.existsSync(path.join(cwd, "report-eval.svg")));
        });

        it("names the default SVG after the stack, with / in an org/project/stack name replaced", () => {
            const fake = fakePulumi(`cat ${JSON.stringify(FIXTURE)}`);
            const cwd = tmpDir();
            const result = runCli(["--stack", "acme/tpu-sft/eval", "--json"], {
                cwd,
                env: { ...process.env, PATH: `${fake.dir}:/usr/bin:/bin` },
            });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.strictEqual((JSON.parse(result.stdout) as { svg: string }).svg, "report-acme_tpu-sft_eval.svg");
            assert.deepStrictEqual(fs.readdirSync(cwd), ["report-acme_tpu-sft_eval.svg"]);
        });

        it("exit 2 when the stack does not exist", () => {
            const fake = fakePulumi(`echo "error: no stack named 'eval' found" >&2\nexit 255`);
            const result = runCli(["--stack", "eval"], { env: { ...process.env, PATH: `${fake.dir}:/usr/bin:/bin` } });
            assertBadInput(result, `stack "eval" does not exist (pulumi: error: no stack named 'eval' found)`);
        });

        it("exit 2 when pulumi fails otherwise, or prints no eval runs", () => {
            const failing = fakePulumi(`echo "warning: something" >&2\necho "error: could not decrypt" >&2\nexit 1`);
            assertBadInput(
                runCli(["--stack", "eval"], { env: { ...process.env, PATH: `${failing.dir}:/usr/bin:/bin` } }),
                "pulumi stack output --stack eval --json failed (exit 1): error: could not decrypt",
            );
            const empty = fakePulumi(`echo '{}'`);
            assertBadInput(
                runCli(["--stack", "eval"], { env: { ...process.env, PATH: `${empty.dir}:/usr/bin:/bin` } }),
                "pulumi stack output --stack eval --json: the outputs have no eval runs",
            );
        });

        it("exit 2 when pulumi is not on PATH", () => {
            const result = runCli(["--stack", "eval"], { env: { ...process.env, PATH: tmpDir() } });
            assertBadInput(result, "pulumi is not on PATH", "--outputs <file.json>");
        });

        it("readStackOutputs reports a non-JSON answer (injected runner)", () => {
            const runner: Runner = () => ({
                pid: 1,
                output: [],
                stdout: "Current stack outputs (0):",
                stderr: "",
                status: 0,
                signal: null,
            });
            assert.throws(
                () => readStackOutputs("eval", runner),
                /pulumi stack output --stack eval --json did not print JSON/,
            );
        });
    });

    describe("SVG", () => {
        const title = "Eval runs of stack eval: HR@K and NDCG@K";
        const referenceLabel = "SOP observed (2026-01-29)";

        function fixtureSvg(): string {
            return renderSvg(buildReport(fixtureRuns(), loadObserved()), { title, referenceLabel });
        }

        it("is well-formed, with the XML declaration and a root <svg> carrying width, height and viewBox", () => {
            const svg = fixtureSvg();
            const elements = checkWellFormed(svg);
            assert.strictEqual(elements[0], "svg");
            const root = /^<\?xml[^>]*>\n<svg ([^>]*)>/.exec(svg)![1]!;
            assert.match(root, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
            const width = Number(/ width="(\d+)"/.exec(root)![1]);
            const height = Number(/ height="(\d+)"/.exec(root)![1]);
            assert.match(root, new RegExp(` viewBox="0 0 ${width} ${height}"`));
            assert.ok(width > 0 && height > 0);
            assert.ok(svg.endsWith("</svg>\n"));
        });

        it("is self-contained: no scripts, images, external references, fonts or style sheets", () => {
            const svg = fixtureSvg();
            assert.doesNotMatch(svg, /<script|<image|<foreignObject|<style|@import|@font-face|href=|url\(/i);
            const urls = [...svg.matchAll(/https?:\/\/[^\s"<]+/g)].map((m) => m[0]);
            assert.deepStrictEqual([...new Set(urls)], ["http://www.w3.org/2000/svg"], "the namespace is the only URL");
        });

        it("draws both panels with one solid polyline per run and one dashed polyline per run with SOP figures", () => {
            const svg = fixtureSvg();
            for (const id of ["panel-hr", "panel-ndcg"]) {
                const p = panel(svg, id);
                assert.strictEqual(count(p, /<polyline class="run"/g), 3, `${id}: one per run`);
                assert.strictEqual(
                    count(p, /<polyline class="reference"[^>]*stroke-dasharray/g),
                    2,
                    `${id}: office and industrial only`,
                );
                // One marker per run point: industrial 6 + office 6 + sports 3, plus a square per SOP point (6 + 6).
                assert.strictEqual(count(p, /<circle /g), 15);
                assert.strictEqual(count(p, /<rect [^>]*fill="none" stroke="#/g), 12 + 1, "SOP squares plus the frame");
                // K on the x axis, as tick labels.
                for (const k of [1, 3, 5, 10, 20, 50]) assert.ok(p.includes(`>${k}</text>`), `${id}: tick K=${k}`);
            }
            assert.ok(panel(svg, "panel-hr").includes(">HR@K</text>"));
            assert.ok(panel(svg, "panel-ndcg").includes(">NDCG@K</text>"));
            // The y axes: HR up to 0.248 (the SOP's 0.24764), NDCG up to 0.1412.
            assert.ok(
                panel(svg, "panel-hr").includes(">0.30</text>") && panel(svg, "panel-hr").includes(">0.00</text>"),
            );
            assert.ok(
                panel(svg, "panel-ndcg").includes(">0.150</text>") &&
                    panel(svg, "panel-ndcg").includes(">0.025</text>"),
            );
        });

        it("draws each run's SOP line in the run's colour, and lists every run in the legend", () => {
            const svg = fixtureSvg();
            const colourOf = (cls: string, run: string) =>
                new RegExp(
                    `<g class="${cls}" data-run="${run}">\\n<polyline class="${cls}" [^>]*stroke="(#[0-9a-f]{6})"`,
                ).exec(panel(svg, "panel-hr"))![1];
            for (const run of ["office", "industrial"])
                assert.strictEqual(colourOf("reference", run), colourOf("run", run), run);
            assert.notStrictEqual(colourOf("run", "office"), colourOf("run", "industrial"));
            const legend = svg.slice(svg.indexOf('<g class="legend">'));
            for (const label of [
                "industrial (n=4533)",
                "office (n=4866)",
                "sports (n=1000) — no SOP figures",
                "SOP observed (2026-01-29)",
            ]) {
                assert.ok(legend.includes(label), `legend: ${label}`);
            }
        });

        it("places points on a log K axis and a linear y axis from 0", () => {
            const svg = fixtureSvg();
            const pts = /<polyline class="run" points="([^"]+)"/
                .exec(panel(svg, "panel-hr"))![1]!
                .split(" ")
                .map((p) => p.split(",").map(Number) as [number, number]);
            const xs = pts.map((p) => p[0]);
            // Equal ratios of K give equal distances: 1→10 and 5→50.
            assert.ok(Math.abs(xs[3]! - xs[0]! - (xs[5]! - xs[2]!)) < 0.02);
            // industrial HR@1 = 0.0633 of a 0.3 axis over 300px from y = 390.
            assert.ok(Math.abs(pts[0]![1] - (390 - (0.0633134789 / 0.3) * 300)) < 0.01);
        });

        it("escapes text: a run named a<b&c \"x\" 'y' and control characters stay literal and the document well-formed", () => {
            const outputs = fixtureJson();
            outputs.evalRuns[`a<b&c "x" 'y'\u0001`] = outputs.evalRuns.sports!;
            const report = buildReport(parseEvalOutputs(outputs, "x"), loadObserved());
            const svg = renderSvg(report, { title: 'stack <dev> & "co"', referenceLabel });
            checkWellFormed(svg);
            assert.ok(svg.includes('data-run="a&lt;b&amp;c &quot;x&quot; &apos;y&apos;\ufffd"'));
            assert.ok(svg.includes(">a&lt;b&amp;c &quot;x&quot; &apos;y&apos;\ufffd (n=1000) — no SOP figures</text>"));
            assert.ok(svg.includes("<title>stack &lt;dev&gt; &amp; &quot;co&quot;</title>"));
            // eslint-disable-next-line no-control-regex -- the control character must not survive escaping
            assert.doesNotMatch(svg, /a<b|\u0001/);
            assert.strictEqual(count(panel(svg, "panel-hr"), /<polyline class="run"/g), 4);
        });

        it("is accepted by a real XML parser (python3), with the run names and counts intact", function () {
            if (!hasPython()) this.skip();
            const outputs = fixtureJson();
            outputs.evalRuns["a<b&c"] = outputs.evalRuns.sports!;
            const report = buildReport(parseEvalOutputs(outputs, "x"), loadObserved());
            const parsed = parseWithPython(renderSvg(report, { title, referenceLabel }));
            assert.strictEqual(parsed.root, "{http://www.w3.org/2000/svg}svg");
            assert.ok(parsed.attrs.width && parsed.attrs.height && parsed.attrs.viewBox);
            assert.deepStrictEqual(parsed.polylines, {
                "panel-hr": { run: 4, reference: 2 },
                "panel-ndcg": { run: 4, reference: 2 },
            });
            assert.deepStrictEqual(parsed.runs["panel-hr"], ["a<b&c", "industrial", "office", "sports"]);
            assert.ok(parsed.texts.includes("a<b&c (n=1000) — no SOP figures"));
        });

        it("is deterministic: the same input gives the same bytes, whatever the order of the runs in the outputs", () => {
            const a = fixtureSvg();
            assert.strictEqual(fixtureSvg(), a);
            const outputs = fixtureJson();
            const reversed = Object.fromEntries(Object.entries(outputs.evalRuns).reverse());
            const b = renderSvg(
                buildReport(parseEvalOutputs({ ...outputs, evalRuns: reversed }, "x"), loadObserved()),
                { title, referenceLabel },
            );
            assert.strictEqual(b, a);
        });

        it("CLI: two runs write byte-identical SVGs, the same as the pure renderer", () => {
            const cwd = tmpDir();
            for (const name of ["one.svg", "two.svg"]) {
                const r = runCli(["--stack", "eval", "--outputs", FIXTURE, "--svg", name, "--json"], { cwd });
                assert.strictEqual(r.status, 0, r.stderr);
            }
            const one = fs.readFileSync(path.join(cwd, "one.svg"), "utf8");
            assert.strictEqual(fs.readFileSync(path.join(cwd, "two.svg"), "utf8"), one);
            assert.strictEqual(one, fixtureSvg());
        });

        it("handles a single K and all-zero metrics without dividing by zero", () => {
            const outputs = fixtureJson();
            outputs.evalRuns = { solo: { ...outputs.evalRuns.sports!, k: [10], hr: { "10": 0 }, ndcg: { "10": 0 } } };
            const svg = renderSvg(buildReport(parseEvalOutputs(outputs, "x"), loadObserved()), {
                title,
                referenceLabel,
            });
            checkWellFormed(svg);
            assert.doesNotMatch(svg, /NaN|Infinity/);
        });

        it("picks nice y axes", () => {
            assert.deepStrictEqual(niceAxis(0.248), {
                max: 0.3,
                ticks: [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
                decimals: 2,
            });
            assert.deepStrictEqual(niceAxis(0.1412).ticks, [0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15]);
            assert.deepStrictEqual(niceAxis(0), { max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], decimals: 1 });
            assert.strictEqual(niceAxis(1).max, 1.2);
            assert.strictEqual(escapeXml("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
            assert.strictEqual(escapeXml("\ud800x\u0000"), "\ufffdx\ufffd");
        });
    });
});
