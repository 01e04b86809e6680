// The slice's start from identify, and the rehearsal's check of the slice accounting: it passes on a sound
// account and names each way one can be wrong.
import * as assert from "assert";
import { sliceHold } from "../components/lifecycle/sliceHold";
import { stackCost } from "../components/lifecycle/stackCost";
import { sliceUpSince } from "../components/steps/identify";
import { sliceShareDetail, sliceShareProblems, SliceShareInput } from "./rehearsal/sliceShares";

const KEY = "ssh-ed25519 AAAA";

function account(): SliceShareInput {
    const office = sliceHold({ chips: 16, upSince: 100, startedAt: 160, finishedAt: 460 });
    const industrial = sliceHold({ chips: 16, upSince: 100, previousEnd: 460, startedAt: 500, finishedAt: 820 });
    const prices = { onDemandPerChipHour: 2.7 };
    const cost = stackCost(16, "spot", prices, [
        { chipHours: (16 * 300) / 3600, slice: office },
        { chipHours: (16 * 320) / 3600, slice: industrial },
    ]);
    return {
        runs: { industrial: { slice: industrial }, office: { slice: office } },
        cost,
        recorded: { office, industrial },
    };
}

describe("slice uptime: the slice's start and the rehearsal's check of the shares", () => {
    it("the slice is up since its earliest worker's boot; unknown when a worker did not say", () => {
        const at = (bootedAt?: number) => ({ host: "h", hostKey: KEY, ...(bootedAt ? { bootedAt } : {}) });
        assert.strictEqual(sliceUpSince([at(120), at(100), at(130)]), 100);
        assert.strictEqual(sliceUpSince([at(120), at()]), undefined);
        assert.strictEqual(sliceUpSince([]), undefined);
    });

    it("a sound account passes, whatever order the outputs list the runs in", () => {
        assert.deepStrictEqual(sliceShareProblems(account()), []);
        // A record parsed against its schema lists the fields in another order than the outputs: still the same share.
        const a = account();
        const reordered = Object.fromEntries(
            Object.entries(a.recorded).map(([run, hold]) => [run, Object.fromEntries(Object.entries(hold!).reverse())]),
        ) as SliceShareInput["recorded"];
        assert.deepStrictEqual(sliceShareProblems({ ...a, recorded: reordered }), []);
        assert.strictEqual(sliceShareDetail(account()), "work 2.755556, slice 3.2, idle 0.444445 chip-hours");
    });

    it("names a missing share, a record that differs, a gap, and a cost output that does not add up", () => {
        const a = account();
        const office = a.runs.office.slice!;
        const gap = { ...a.runs.industrial.slice!, heldFrom: office.heldUntil + 10 };
        const broken: SliceShareInput = {
            runs: { office: {}, industrial: { slice: gap } },
            cost: { ...a.cost, sliceChipHours: 1, unmeasuredRuns: 1 },
            recorded: { industrial: a.runs.industrial.slice },
        };
        assert.deepStrictEqual(sliceShareProblems(broken), [
            "run office has no slice share",
            `run industrial: the bucket records ${JSON.stringify(a.runs.industrial.slice)}, the outputs ${JSON.stringify(gap)}`,
            `run industrial's share starts at ${gap.heldFrom}, not 100`,
            "the cost output counts 1 unmeasured run(s)",
            "the cost output's sliceChipHours 1 is not the runs' sum",
            "the cost output's idleChipHours 0.444445 is not the runs' sum",
            "the slice was held 1 chip-hours, less than the 2.755556 of work",
        ]);
        const afterGap = {
            ...a,
            runs: { ...a.runs, industrial: { slice: gap } },
            recorded: { ...a.recorded, industrial: gap },
        };
        assert.match(sliceShareProblems(afterGap).join("; "), /run industrial's share starts at 470, not 460/);
    });
});
