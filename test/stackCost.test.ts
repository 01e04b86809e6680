// Chip-hours and their estimated price: the arithmetic, the stacks' `cost` output, and how `npm run report` shows it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { costSummary, pricePerChipHour } from "../components/lifecycle/cost";
import { chipHours } from "../components/lifecycle/manifest";
import { formatStackCost, stackCost } from "../components/lifecycle/stackCost";
import { buildReport } from "../scripts/report/compare";
import { parseReportOutputs, ReportInputError } from "../scripts/report/outputs";
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

    it("a stack's cost output, with and without a price", () => {
        assert.deepStrictEqual(stackCost(16, "on-demand", { onDemandPerChipHour: 2.7 }, [16, 8.5]), {
            chips: 16,
            provisioning: "on-demand",
            pricePerChipHour: 2.7,
            workChipHours: 24.5,
            workUsd: 66.15,
        });
        const spot = stackCost(16, "spot", { onDemandPerChipHour: 2.7 }, [16]);
        assert.deepStrictEqual(spot, {
            chips: 16,
            provisioning: "spot",
            pricePerChipHour: null,
            workChipHours: 16,
            workUsd: null,
        });
        assert.strictEqual(
            formatStackCost(spot),
            "cost: 16 chip-hours of work on 16 chips, no spot price set (tpu.prices), no estimate; slice uptime and idle chip-hours: see `npm run supervise`'s summary",
        );
    });

    it("npm run report shows the eval stack's cost output after the tables, and in --json", () => {
        const outputs = JSON.parse(fs.readFileSync(FIXTURE, "utf8"));
        const cost = stackCost(8, "on-demand", { onDemandPerChipHour: 2.7 }, [2, 2.5]);
        const read = parseReportOutputs({ ...outputs, cost }, "fixture");
        assert.deepStrictEqual(read.cost, cost);
        const report = buildReport(read.runs, loadObserved());
        const plain = formatPlainReport(report, "src", "r.svg", read.cost);
        assert.ok(
            plain.endsWith(
                "\n\ncost: 4.5 chip-hours of work on 8 chips, ~USD 12.15 at USD 2.70/chip-hour (on-demand); slice uptime and idle chip-hours: see `npm run supervise`'s summary\n\nSVG chart written to r.svg\n",
            ),
            plain,
        );
        assert.strictEqual(formatPlainReport(report, "src", "r.svg"), plain.replace(/\n\ncost: [^\n]*/, ""));
        assert.deepStrictEqual(JSON.parse(formatJsonReport(report, "src", "r.svg", read.cost)).cost, cost);
        assert.strictEqual(parseReportOutputs(outputs, "fixture").cost, undefined);
        assert.throws(
            () => parseReportOutputs({ ...outputs, cost: { chips: 0 } }, "fixture"),
            (err: Error) =>
                err instanceof ReportInputError &&
                err.message.startsWith("fixture: the cost output does not have the expected shape (chips: "),
        );
    });
});
