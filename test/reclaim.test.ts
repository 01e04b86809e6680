// The pure parts of tpu.reclaim: a run's status from its manifest and objects, and the plan from the statuses.
import * as assert from "assert";
import {
    handoffStatus,
    HandoffLookup,
    ObjectStat,
    ObjectText,
    runStatuses,
} from "../components/lifecycle/handoffStatus";
import { lifecycleOutput, reclaimPlan } from "../components/lifecycle/reclaim";

const URI = "gs://b/p/office/handoff.json";
const CKPT = "gs://b/p/office/sft_state_best.msgpack";
const LOOKUP: HandoffLookup = { run: "office", runId: "office-0123456789ab", manifestUri: URI, kinds: ["best"] };
const ENTRY = {
    run: "office",
    runId: "office-0123456789ab",
    commits: { mllmJax: "a", miniOneRec: "b" },
    config: "c.yaml",
    checkpoints: { best: { uri: CKPT, size: 10, crc32c: "AAAAAA==" } },
    exitCodes: [0, 0],
    process0Worker: 1,
    acceleratorType: "v6e-16",
    chips: 16,
    startedAt: 1,
    finishedAt: 2,
    chipHours: 0.004444,
    recordedAt: "2026-11-29T00:00:00Z",
};
const manifest = (entries: Record<string, unknown>) => JSON.stringify({ schemaVersion: 1, run: "office", entries });

function bucket(texts: Record<string, string>, stats: Record<string, { size: number; crc32c: string }>) {
    const text: ObjectText = async (uri) => texts[uri];
    const stat: ObjectStat = async (uri) => stats[uri];
    return { text, stat };
}

describe("handoffStatus", () => {
    it("complete when the entry exists and its objects still match", async () => {
        const b = bucket({ [URI]: manifest({ [ENTRY.runId]: ENTRY }) }, { [CKPT]: { size: 10, crc32c: "AAAAAA==" } });
        const s = await handoffStatus(LOOKUP, b.stat, b.text);
        assert.strictEqual(s.state, "complete");
    });

    it("absent without a manifest, or without an entry for this run id", async () => {
        assert.strictEqual((await handoffStatus(LOOKUP, bucket({}, {}).stat, bucket({}, {}).text)).state, "absent");
        const other = bucket({ [URI]: manifest({}) }, {});
        const s = await handoffStatus(LOOKUP, other.stat, other.text);
        assert.deepStrictEqual([s.state, s.reason], ["absent", `${URI} has no entry for run id office-0123456789ab`]);
    });

    it("stale when an object is gone or changed, saying which and how", async () => {
        const gone = bucket({ [URI]: manifest({ [ENTRY.runId]: ENTRY }) }, {});
        assert.match((await handoffStatus(LOOKUP, gone.stat, gone.text)).reason, /the bucket has no such object/);
        const changed = bucket(
            { [URI]: manifest({ [ENTRY.runId]: ENTRY }) },
            { [CKPT]: { size: 10, crc32c: "BBBBBB==" } },
        );
        const s = await handoffStatus(LOOKUP, changed.stat, changed.text);
        assert.deepStrictEqual(
            [s.state, s.reason],
            [
                "stale",
                `best checkpoint ${CKPT}: recorded size 10 crc32c AAAAAA==, the bucket has size 10 crc32c BBBBBB==`,
            ],
        );
    });

    it("a manifest that is not one is an error naming the object", async () => {
        const bad = bucket({ [URI]: "{" }, {});
        await assert.rejects(
            handoffStatus(LOOKUP, bad.stat, bad.text),
            /gs:\/\/b\/p\/office\/handoff\.json is not JSON/,
        );
    });
});

describe("reclaimPlan and the lifecycle output", () => {
    const complete = { state: "complete" as const, entry: ENTRY, reason: "ok" };
    const absent = { state: "absent" as const, reason: "no manifest at x" };

    it("reclaims only when every run is complete and the policy reclaims", () => {
        assert.strictEqual(reclaimPlan("after-handoff", { office: complete, industrial: complete }).slice, "reclaimed");
        assert.strictEqual(reclaimPlan("keep", { office: complete }).slice, "declared");
        const open = reclaimPlan("after-handoff", { office: complete, industrial: absent });
        assert.deepStrictEqual(open, { slice: "declared", reason: "runs still to do: industrial (no manifest at x)" });
        assert.strictEqual(reclaimPlan("after-handoff", {}).slice, "declared");
    });

    it("keeps the slice when the bucket cannot be read", () => {
        const plan = reclaimPlan("after-handoff", { error: "could not load the default credentials" });
        assert.deepStrictEqual(plan.slice, "declared");
        assert.match(plan.reason, /could not load the default credentials.*the slice stays/);
    });

    it("a slice still up under a reclaiming policy is pending; under keep it is not", () => {
        const up = reclaimPlan("after-handoff", { office: absent });
        assert.strictEqual(lifecycleOutput("after-handoff", up).reclaimPending, true);
        assert.strictEqual(lifecycleOutput("keep", reclaimPlan("keep", {})).reclaimPending, false);
        const gone = reclaimPlan("after-handoff", { office: complete });
        assert.deepStrictEqual(
            [lifecycleOutput("after-handoff", gone).slice, lifecycleOutput("after-handoff", gone).reclaimPending],
            ["reclaimed", false],
        );
    });
});

describe("runStatuses: each run's status, or why the bucket could not be read", () => {
    // No request reaches this endpoint: the statuses below come from statusOf alone, or nothing is read at all.
    const reader = { apiEndpoint: "http://127.0.0.1:9", projectId: "p" };
    const runs = [{ name: "office" }, { name: "industrial" }];

    it("keyed by run name, as statusOf gives them", async () => {
        const statuses = await runStatuses(reader, runs, async (run) => `${run.name} looked up`);
        assert.deepStrictEqual(statuses, { office: "office looked up", industrial: "industrial looked up" });
    });

    it("reads nothing without a reader (the stack keeps its slice)", async () => {
        let asked = 0;
        assert.deepStrictEqual(await runStatuses(undefined, runs, async () => asked++), {});
        assert.strictEqual(asked, 0);
    });

    it("a failed read is the first line of its error, so the plan keeps the slice and says why", async () => {
        const statuses = await runStatuses(reader, runs, async () => {
            throw new Error("connect ECONNREFUSED 127.0.0.1:9\n    at TCPConnectWrap");
        });
        assert.deepStrictEqual(statuses, { error: "connect ECONNREFUSED 127.0.0.1:9" });
        assert.match(reclaimPlan("after-handoff", statuses).reason, /could not be read \(connect ECONNREFUSED/);
    });
});
