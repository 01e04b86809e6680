// Chip-hours and their estimated price: the arithmetic, the stacks' `cost` output, and how `npm run report` shows it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { costSummary, pricePerChipHour } from "../components/lifecycle/cost";
import { chipHours } from "../components/lifecycle/cost";
import { sliceHold } from "../components/lifecycle/sliceHold";
import { formatStackCost, stackCost } from "../components/lifecycle/stackCost";
import { buildReport } from "../scripts/report/compare";
import { parseReportOutputs, parseStackCost, ReportInputError } from "../scripts/report/outputs";
import { loadObserved } from "../scripts/report/reference";
import { formatJsonReport, formatPlainReport } from "../scripts/report/table";

const FIXTURE = path.join(__dirname, "fixtures", "report", "outputs.json");

describe("cost: chip-hours and estimates", () => {
    it("chip-hours of a run: chips × its wall time", () => {
        assert.strictEqual(chipHours(16, 1000, 4600), 16);
        assert.strictEqual(chipHours(16, 1000, 5003), 17.791111);
        assert.strictEqual(chipHours(8, 10, 5), 0);
    });

    it("the price that applies: spot or on demand (reserved is estimated at the on-demand price)", () => {
        const prices = { onDemandPerChipHour: 2.7, spotPerChipHour: 1.1 };
        assert.strictEqual(pricePerChipHour(prices, "spot"), 1.1);
        assert.strictEqual(pricePerChipHour(prices, "on-demand"), 2.7);
        assert.strictEqual(pricePerChipHour(prices, "reserved"), 2.7);
        assert.strictEqual(pricePerChipHour({ onDemandPerChipHour: 2.7 }, "spot"), undefined);
    });

    it("uptime, work and idle of a slice", () => {
        // A v6e-16 up for 2 h that trained for 1.5 h: 32 chip-hours billed, 8 idle.
        assert.deepStrictEqual(costSummary(16, 7200, 24, 2.7), {
            workChipHours: 24,
            uptimeChipHours: 32,
            idleChipHours: 8,
            pricePerChipHour: 2.7,
            estimatedUsd: 86.4,
            idleUsd: 21.6,
        });
    });

    it("a run's share of the slice: from the slice's boot or the previous run's end, to its job's end", () => {
        // A v6e-16 up at t=0; the first run's job ran 900–4500 s: it held the slice 0–4500 s, 4 of 20 chip-hours idle.
        assert.deepStrictEqual(sliceHold({ chips: 16, upSince: 0, startedAt: 900, finishedAt: 4500 }), {
            upSince: 0,
            heldFrom: 0,
            heldUntil: 4500,
            sliceChipHours: 20,
            idleChipHours: 4,
        });
        // The second run launched 225 s after the first ended (its upload and the launch): those are its idle time.
        const second = sliceHold({ chips: 16, upSince: 0, previousEnd: 4500, startedAt: 4725, finishedAt: 8100 });
        assert.deepStrictEqual([second.heldFrom, second.sliceChipHours, second.idleChipHours], [4500, 16, 1]);
        // A previous run that ended on an earlier slice (recalled) does not move the start before this slice's boot.
        const fresh = sliceHold({ chips: 16, upSince: 9000, previousEnd: 4500, startedAt: 9900, finishedAt: 13500 });
        assert.deepStrictEqual([fresh.heldFrom, fresh.sliceChipHours, fresh.idleChipHours], [9000, 20, 4]);
    });

    it("a run's share never goes negative nor counts work outside it when clocks disagree", () => {
        // The job's times from a host clock behind the boot time: no share, no idle.
        const behind = sliceHold({ chips: 8, upSince: 5000, startedAt: 1000, finishedAt: 4000 });
        assert.deepStrictEqual(
            [behind.heldFrom, behind.heldUntil, behind.sliceChipHours, behind.idleChipHours],
            [5000, 5000, 0, 0],
        );
        // A job that (by the clocks) started before the previous run ended: the overlap is not this run's.
        const overlap = sliceHold({ chips: 8, upSince: 0, previousEnd: 3600, startedAt: 3000, finishedAt: 7200 });
        assert.deepStrictEqual([overlap.heldFrom, overlap.sliceChipHours, overlap.idleChipHours], [3600, 8, 0]);
    });

    it("a stack's cost output: work, the runs' shares of the slice and their idle part, with and without a price", () => {
        const first = sliceHold({ chips: 16, upSince: 0, startedAt: 900, finishedAt: 4500 });
        const second = sliceHold({ chips: 16, upSince: 0, previousEnd: 4500, startedAt: 4725, finishedAt: 8100 });
        const cost = stackCost(16, "on-demand", { onDemandPerChipHour: 2.7 }, [
            { chipHours: 16, slice: first },
            { chipHours: 15, slice: second },
        ]);
        assert.deepStrictEqual(cost, {
            chips: 16,
            provisioning: "on-demand",
            pricePerChipHour: 2.7,
            workChipHours: 31,
            workUsd: 83.7,
            sliceChipHours: 36,
            idleChipHours: 5,
            sliceUsd: 97.2,
            idleUsd: 13.5,
            unmeasuredRuns: 0,
        });
        assert.strictEqual(
            formatStackCost(cost),
            "cost on 16 chips: 31 chip-hours of work (~USD 83.70); the runs held the slice 36 chip-hours (~USD 97.20), 5 of them idle (~USD 13.50); at USD 2.70/chip-hour (on-demand). The slice's time after its last run is in `npm run supervise`'s summary.",
        );
        // Spot without a spot price: chip-hours, no estimate; a run recorded before shares were measured is named.
        const spot = stackCost(16, "spot", { onDemandPerChipHour: 2.7 }, [
            { chipHours: 16, slice: first },
            { chipHours: 2 },
        ]);
        assert.deepStrictEqual(spot, {
            chips: 16,
            provisioning: "spot",
            pricePerChipHour: null,
            workChipHours: 18,
            workUsd: null,
            sliceChipHours: 20,
            idleChipHours: 4,
            sliceUsd: null,
            idleUsd: null,
            unmeasuredRuns: 1,
        });
        assert.strictEqual(
            formatStackCost(spot),
            "cost on 16 chips: 18 chip-hours of work; the runs held the slice 20 chip-hours, 4 of them idle; 1 run(s) recorded before slice time was measured count as work only; no spot price set (tpu.prices), no estimate. The slice's time after its last run is in `npm run supervise`'s summary.",
        );
        const none = stackCost(8, "reserved", { onDemandPerChipHour: 2.7 }, [{ chipHours: 1 }]);
        assert.deepStrictEqual(
            [none.sliceChipHours, none.idleChipHours, none.sliceUsd, none.unmeasuredRuns],
            [null, null, null, 1],
        );
    });

    it("npm run report shows the eval stack's cost output after the tables, and in --json", () => {
        const outputs = JSON.parse(fs.readFileSync(FIXTURE, "utf8"));
        const cost = stackCost(8, "on-demand", { onDemandPerChipHour: 2.7 }, [
            { chipHours: 2, slice: sliceHold({ chips: 8, upSince: 0, startedAt: 450, finishedAt: 1350 }) },
            {
                chipHours: 2.5,
                slice: sliceHold({ chips: 8, upSince: 0, previousEnd: 1350, startedAt: 1575, finishedAt: 2700 }),
            },
        ]);
        const read = parseReportOutputs({ ...outputs, cost }, "fixture");
        assert.deepStrictEqual(read.cost, cost);
        const report = buildReport(read.runs, loadObserved());
        const plain = formatPlainReport(report, "src", "r.svg", read.cost);
        assert.ok(
            plain.endsWith(
                "\n\neval stack cost on 8 chips: 4.5 chip-hours of work (~USD 12.15); the runs held the slice 6 chip-hours (~USD 16.20), 1.5 of them idle (~USD 4.05); at USD 2.70/chip-hour (on-demand). The slice's time after its last run is in `npm run supervise`'s summary.\n\nSVG chart written to r.svg\n",
            ),
            plain,
        );
        assert.strictEqual(
            formatPlainReport(report, "src", "r.svg"),
            plain.replace(/\n\neval stack cost on [^\n]*/, ""),
        );
        assert.deepStrictEqual(JSON.parse(formatJsonReport(report, "src", "r.svg", read.cost)).cost, cost);
        // --train-stack adds the train stack's cost output after the eval stack's.
        const train = stackCost(16, "on-demand", { onDemandPerChipHour: 2.7 }, [
            { chipHours: 16, slice: sliceHold({ chips: 16, upSince: 0, startedAt: 900, finishedAt: 4500 }) },
        ]);
        const both = formatPlainReport(report, "src", "r.svg", read.cost, train);
        assert.ok(
            both.includes(
                "; at USD 2.70/chip-hour (on-demand). The slice's time after its last run is in `npm run supervise`'s summary.\n\ntrain stack cost on 16 chips: 16 chip-hours of work (~USD 43.20); the runs held the slice 20 chip-hours (~USD 54.00), 4 of them idle (~USD 10.80);",
            ),
            both,
        );
        const json = JSON.parse(formatJsonReport(report, "src", "r.svg", read.cost, train));
        assert.deepStrictEqual([json.cost, json.trainCost], [cost, train]);
        assert.deepStrictEqual(parseStackCost({ cost: train }, "train.json"), train);
        assert.throws(
            () => parseStackCost({ runs: {} }, "train.json"),
            /^ReportInputError: train\.json: the outputs have no cost output \(has the stack been deployed with a version that reports its cost\?\)$/,
        );
        assert.strictEqual(parseReportOutputs(outputs, "fixture").cost, undefined);
        assert.throws(
            () => parseReportOutputs({ ...outputs, cost: { chips: 0 } }, "fixture"),
            (err: Error) =>
                err instanceof ReportInputError &&
                err.message.startsWith("fixture: the cost output does not have the expected shape (chips: "),
        );
    });
});
