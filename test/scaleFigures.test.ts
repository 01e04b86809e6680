// The figures `npm run bench:scale` computes from one train up: wall spans of parallel steps from the engine event
// log, the overhead (total − job) and its ratio to the first size.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ratios, renderTable, sizeFigures } from "./bench/scaleFigures";
import { readStepTimings, spanSeconds, StepTiming } from "./rehearsal/stepTimings";

function timing(name: string, step: string, started: number, finished: number, type = "command:remote:Command") {
    return { name, step, type, op: "create", seconds: finished - started, started, finished } satisfies StepTiming;
}

describe("bench:scale figures", () => {
    it("reads each resource's start and end from the event log, leaving out same and read steps", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scale-figures-"));
        const log = path.join(dir, "events.jsonl");
        const pre = (ts: number, urn: string, op: string) =>
            JSON.stringify({
                timestamp: ts,
                resourcePreEvent: { metadata: { urn, type: "command:remote:Command", op } },
            });
        const out = (ts: number, urn: string) =>
            JSON.stringify({ timestamp: ts, resOutputsEvent: { metadata: { urn, type: "command:remote:Command" } } });
        const urn = (n: string) => `urn:pulumi:s::tpu-sft::command:remote:Command::${n}`;
        fs.writeFileSync(
            log,
            [
                pre(100, urn("office-wait-w0"), "create"),
                pre(101, urn("office-wait-w1"), "create"),
                pre(101, urn("bootstrap-w0"), "same"),
                out(101, urn("bootstrap-w0")),
                out(107, urn("office-wait-w0")),
                out(110, urn("office-wait-w1")),
                "",
            ].join("\n"),
        );
        try {
            const timings = readStepTimings(log, ["office"]);
            assert.deepStrictEqual(timings, [
                timing("office-wait-w0", "wait", 100, 107),
                timing("office-wait-w1", "wait", 101, 110),
            ]);
            assert.strictEqual(
                spanSeconds(timings, (t) => t.step === "wait"),
                10,
            );
            assert.strictEqual(
                spanSeconds(timings, (t) => t.step === "launch"),
                undefined,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("takes phases as wall spans, components left out, and the overhead as total minus job", () => {
        const timings = [
            timing("hosts-slice", "hosts-slice", 10, 12, "command:local:Command"),
            timing("hosts", "hosts", 10, 40, "tpu-sft:local:LocalSlice"),
            timing("bootstrap-copy-identify-w0", "bootstrap-copy-identify", 12, 13, "command:remote:CopyToRemote"),
            timing("bootstrap-identify-w0", "bootstrap-identify", 13, 14),
            timing("bootstrap-copy-steps-w0", "bootstrap-copy-steps", 14, 16, "command:remote:CopyToRemote"),
            timing("bootstrap-copy-steps-w1", "bootstrap-copy-steps", 15, 18, "command:remote:CopyToRemote"),
            timing("bootstrap-w0", "bootstrap", 18, 19),
            timing("bootstrap-w1", "bootstrap", 18, 20),
            timing("office-wait-w0", "wait", 21, 26),
            timing("office-wait-w1", "wait", 21, 27),
        ];
        const f = sizeFigures("v6e-16", 4, 30.5, 4, timings);
        assert.strictEqual(f.sliceCreateSeconds, 2);
        assert.strictEqual(f.bootstrapSeconds, 8);
        assert.strictEqual(f.overheadSeconds, 26.5);
        assert.strictEqual(f.phaseSeconds["identify (copy, run)"], 2);
        assert.strictEqual(f.phaseSeconds["script copies"], 4);
        assert.strictEqual(f.phaseSeconds["bootstrap command"], 2);
        assert.strictEqual(f.phaseSeconds["wait"], 6);
        assert.strictEqual(f.phaseSeconds["launch"], undefined);
        assert.strictEqual(f.phaseSeconds["all steps"], 17);
        assert.deepStrictEqual(f.steps["bootstrap-copy-steps"], {
            count: 2,
            totalSeconds: 5,
            maxSeconds: 3,
            spanSeconds: 4,
        });
        assert.strictEqual(f.steps["hosts"], undefined);
    });

    it("gives each size's overhead and total relative to the first size's, and prints them", () => {
        const four = sizeFigures("v6e-16", 4, 22, 2, [timing("hosts-slice", "hosts-slice", 0, 1)]);
        const sixteen = sizeFigures("v6e-64", 16, 65, 5, [timing("hosts-slice", "hosts-slice", 0, 6)]);
        assert.deepStrictEqual(ratios([four, sixteen]), [
            { hosts: 4, overhead: 1, total: 1 },
            { hosts: 16, overhead: 3, total: 65 / 22 },
        ]);
        const table = renderTable([four, sixteen], "office").split("\n");
        assert.ok(
            table.includes("v6e-16        4      22.0         1            -     2.0        20.0        1.00     1.00"),
        );
        assert.ok(
            table.includes("v6e-64       16      65.0         6            -     5.0        60.0        3.00     2.95"),
        );
        assert.ok(table.some((l) => l.includes("× = relative to 4 hosts")));
    });
});
