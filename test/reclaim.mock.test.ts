// tpu.reclaim under Pulumi mocks, from the checked-in Pulumi.train.yaml: once every run is complete in its handoff
// manifest (in the in-memory bucket), the train stack declares no TPU VM and no step, and its outputs are the
// manifest's; a stale object, or tpu.reclaim keep, keeps the slice.
import * as assert from "assert";
import { objects } from "./helpers/fakeStorage";
import { seedHandoff } from "./helpers/handoffSeed";
import { BUCKET, buildStack } from "./helpers/stacks";
import { StackValues } from "./helpers/trainConfig";

type Outputs = StackValues & {
    runs: Record<string, { runId: string; checkpoints: Record<string, unknown>; recalled: boolean }>;
    lifecycle: { slice: string; reclaimPending: boolean; reclaim: string; note: string };
};

/** Handoff manifests for the given run ids, with real objects behind their checkpoints. */
/** Every run handed off; the first `unmeasured` of them recorded before slice shares were measured. */
function handOff(runIds: Record<string, { id: string; kind: string }>, unmeasured = 0): void {
    Object.entries(runIds).forEach(([run, { id, kind }], i) => {
        seedHandoff({
            bucket: BUCKET,
            run,
            runId: id,
            kind,
            content: `checkpoint of ${id}`,
            measured: i >= unmeasured,
        });
    });
}

describe("tpu.reclaim: the train stack without its slice once every run is handed off (mocks)", function () {
    this.timeout(60000);
    let fresh: { outputs: Outputs };
    let ids: Record<string, { id: string; kind: string }>;
    before(async () => {
        objects.clear();
        fresh = (await buildStack("train")) as unknown as { outputs: Outputs };
        ids = Object.fromEntries(
            Object.entries(fresh.outputs.runs).map(([run, r]) => [
                run,
                { id: r.runId, kind: Object.keys(r.checkpoints)[0] },
            ]),
        );
    });
    after(() => objects.clear());

    it("with nothing handed off, declares the slice and says the next up reclaims it", () => {
        assert.strictEqual(fresh.outputs.lifecycle.reclaim, "after-handoff");
        assert.strictEqual(fresh.outputs.lifecycle.slice, "up");
        assert.strictEqual(fresh.outputs.lifecycle.reclaimPending, true);
        assert.match(fresh.outputs.lifecycle.note, /pulumi up.*again/);
    });

    it("with every run verified in its manifest, declares no VM and no step; the outputs are the manifest's", async () => {
        handOff(ids);
        const { mocks, outputs } = (await buildStack("train")) as unknown as {
            mocks: Awaited<ReturnType<typeof buildStack>>["mocks"];
            outputs: Outputs;
        };
        assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 0);
        assert.strictEqual(mocks.ofType("command:remote:Command").length, 0);
        assert.strictEqual(mocks.ofType("command:remote:CopyToRemote").length, 0);
        // The bucket, the VMs' identity with its grants, and the firewall rule stay for the next slice.
        assert.strictEqual(mocks.ofType("gcp:storage/bucket:Bucket").length, 1);
        assert.strictEqual(mocks.ofType("gcp:serviceaccount/account:Account").length, 1);
        assert.strictEqual(mocks.ofType("gcp:compute/firewall:Firewall").length, 1);
        assert.strictEqual(outputs.lifecycle.slice, "reclaimed");
        assert.strictEqual(outputs.lifecycle.reclaimPending, false);
        for (const [run, { id, kind }] of Object.entries(ids)) {
            const r = outputs.runs[run] as unknown as Record<string, unknown>;
            assert.strictEqual(r.runId, id);
            assert.strictEqual(r.recalled, true);
            assert.deepStrictEqual(Object.keys(r.checkpoints as object), [kind]);
            assert.deepStrictEqual(r.exitCodes, [0, 0, 0, 0]);
            assert.strictEqual(r.trainSeconds, 900);
            assert.strictEqual(r.chipHours, 4);
            assert.strictEqual(r.handoffUri, `gs://${BUCKET}/sft_match_official/${run}/handoff.json`);
            assert.strictEqual((r.slice as { sliceChipHours: number }).sliceChipHours, 5.333333);
        }
        // The cost comes from the entries: the jobs' work, and each run's recorded share of its slice.
        const cost = outputs.cost as unknown as Record<string, unknown>;
        assert.deepStrictEqual(
            [cost.workChipHours, cost.sliceChipHours, cost.idleChipHours, cost.unmeasuredRuns],
            [8, 10.666666, 2.666666, 0],
        );
    });

    it("an entry recorded before slice shares were measured still reclaims; its run counts as work only", async () => {
        handOff(ids, 1);
        const { outputs } = (await buildStack("train")) as unknown as { outputs: Outputs };
        assert.strictEqual(outputs.lifecycle.slice, "reclaimed");
        const cost = outputs.cost as unknown as Record<string, unknown>;
        assert.deepStrictEqual(
            [cost.workChipHours, cost.sliceChipHours, cost.idleChipHours, cost.unmeasuredRuns],
            [8, 5.333333, 1.333333, 1],
        );
    });

    it("keeps the slice when one checkpoint object no longer matches its entry", async () => {
        handOff(ids);
        const [run, { kind }] = Object.entries(ids)[0];
        objects.set(`gs://${BUCKET}/sft_match_official/${run}/sft_state_${kind}.msgpack`, Buffer.from("replaced"));
        const { mocks, outputs } = await buildStack("train");
        assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
        assert.strictEqual((outputs as unknown as Outputs).lifecycle.slice, "up");
    });

    it("keeps the slice with tpu.reclaim keep, even with every run handed off", async () => {
        handOff(ids);
        const { mocks, outputs } = await buildStack("train", (v) => {
            (v.tpu as Record<string, unknown>).reclaim = "keep";
        });
        assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
        const lifecycle = (outputs as unknown as Outputs).lifecycle;
        assert.deepStrictEqual([lifecycle.slice, lifecycle.reclaimPending], ["up", false]);
    });
});
