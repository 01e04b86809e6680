// tpu.reclaim after-eval under Pulumi mocks, from the checked-in Pulumi.eval.yaml: each eval run whose cross-check
// passes is recorded (the mocked evalrecord step writes its record into the in-memory bucket, as the script does into
// the real one); once every eval run's id has a record whose artifacts still match, the eval stack declares no TPU
// VM and no step, and its outputs are the records', equal to the live update's. A missing or stale record, or
// tpu.reclaim keep, keeps the slice.
import * as assert from "assert";
import { crc32cBase64, installFakeStorage, objects, removeFakeStorage } from "./helpers/fakeStorage";
import { manifestUriOf, seedHandoff } from "./helpers/handoffSeed";
import { StackMocks, Untyped } from "./helpers/mocks";
import { BUCKET, buildStack, seedEvalArtifacts } from "./helpers/stacks";

const EVAL = `gs://${BUCKET}/sft_match_official/eval`;
const recordUri = (run: string) => `${EVAL}/${run}/result.json`;

type Built = { mocks: StackMocks; outputs: Untyped };

const writing = (mocks: StackMocks) => {
    mocks.writeEvalRecords = true;
};

async function build(mutate?: (v: Untyped) => void, prepare: (mocks: StackMocks) => void = writing): Promise<Built> {
    return (await buildStack("eval", mutate, prepare)) as Built;
}

const crossChecks = (mocks: StackMocks) =>
    mocks.ofType("command:local:Command").filter((c) => c.name.endsWith("-cross-check"));

describe("tpu.reclaim after-eval: the eval stack without its slice once every eval run is recorded (mocks)", function () {
    this.timeout(60000);
    let live: Built;
    before(async () => {
        installFakeStorage();
        objects.clear();
        seedEvalArtifacts(BUCKET, true);
        live = await build();
    });
    after(() => {
        objects.clear();
        removeFakeStorage();
    });

    it("with nothing recorded, declares the slice, records each run after its cross-check, and says the next up reclaims it", () => {
        assert.strictEqual(live.mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
        assert.deepStrictEqual(live.outputs.lifecycle, {
            reclaim: "after-eval",
            slice: "up",
            reclaimPending: true,
            note: "every run is done: run `pulumi up` again (npm run supervise does it at once) to delete the slice; the outputs stay",
        });
        const records = live.mocks.ofType("command:remote:Command").filter((c) => c.name.endsWith("-record"));
        assert.deepStrictEqual(
            records.map((c) => c.name),
            ["office-record", "industrial-record"],
        );
        assert.match(records[0].inputs.create, / EVAL_RUN=office /);
        assert.match(records[0].inputs.create, new RegExp(` RECORD_URI=${recordUri("office").replace(/\./g, "\\.")} `));
        assert.match(
            records[0].inputs.create,
            /bash "\$HOME\/\.tpu-sft\/steps\/evalrecord-[0-9a-f]{12}\/evalrecord\.sh"$/,
        );
        // Each entry is the run's outputs, its id, the host's commits and every artifact with its size and crc32c.
        const [office] = live.mocks.evalRecordEntries;
        const { runId, commits, objects: artifacts, recordedAt, ...outputs } = office;
        assert.match(runId, /^office-[0-9a-f]{12}$/);
        assert.ok(recordedAt);
        assert.deepStrictEqual({ ...outputs, recalled: false }, live.outputs.evalRuns.office);
        assert.deepStrictEqual(commits, live.outputs.commits);
        assert.deepStrictEqual(
            Object.keys(artifacts).sort(),
            Object.keys(live.outputs.evalRuns.office.artifacts).sort(),
        );
        const predictions = objects.get(`${EVAL}/office/eval_predictions.json`)!;
        assert.deepStrictEqual(artifacts["eval_predictions.json"], {
            uri: `${EVAL}/office/eval_predictions.json`,
            size: predictions.length,
            crc32c: crc32cBase64(predictions),
        });
    });

    it("with every eval run recorded and its artifacts verified, declares no VM and no step; the outputs are the live update's", async () => {
        const { mocks, outputs } = await build();
        assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 0);
        assert.strictEqual(mocks.ofType("command:remote:Command").length, 0);
        assert.strictEqual(mocks.ofType("command:remote:CopyToRemote").length, 0);
        assert.strictEqual(crossChecks(mocks).length, 0);
        // The VMs' identity with its grants and the firewall rule stay for the next slice; the bucket is not eval's.
        assert.strictEqual(mocks.ofType("gcp:serviceaccount/account:Account").length, 1);
        assert.strictEqual(mocks.ofType("gcp:compute/firewall:Firewall").length, 1);
        assert.strictEqual(mocks.ofType("gcp:storage/bucket:Bucket").length, 0);
        assert.deepStrictEqual(outputs.lifecycle.slice, "reclaimed");
        assert.deepStrictEqual(outputs.lifecycle.reclaimPending, false);
        assert.match(outputs.lifecycle.note, /every run \(office, industrial\) is recorded in the bucket/);
        const { lifecycle: _reclaimed, ...rest } = outputs;
        const { lifecycle: _up, ...before } = live.outputs;
        // The same outputs, each run now recalled from its record.
        const recalled = Object.fromEntries(
            Object.entries(before.evalRuns as Record<string, object>).map(([run, r]) => [
                run,
                { ...r, recalled: true },
            ]),
        );
        assert.deepStrictEqual(rest, { ...before, evalRuns: recalled });
        assert.deepStrictEqual(Object.keys(outputs).sort(), Object.keys(live.outputs).sort());
    });

    it("keeps the slice when an artifact no longer matches its record", async () => {
        const uri = `${EVAL}/industrial/eval.log`;
        const kept = objects.get(uri)!;
        objects.set(uri, Buffer.from("replaced"));
        try {
            const { mocks, outputs } = await build(undefined, () => undefined);
            assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
            assert.strictEqual(outputs.lifecycle.slice, "up");
        } finally {
            objects.set(uri, kept);
        }
    });

    it("keeps the slice when one eval run has no record, or a record without its id", async () => {
        const saved = objects.get(recordUri("office"))!;
        try {
            objects.delete(recordUri("office"));
            const missing = await build(undefined, () => undefined);
            assert.strictEqual(missing.mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
            const other = JSON.parse(saved.toString("utf8"));
            other.entries = Object.fromEntries(
                Object.values(other.entries).map((e: Untyped) => [
                    "office-0123456789ab",
                    { ...e, runId: "office-0123456789ab" },
                ]),
            );
            objects.set(recordUri("office"), Buffer.from(JSON.stringify(other)));
            const elsewhere = await build(undefined, () => undefined);
            assert.strictEqual(elsewhere.mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
        } finally {
            objects.set(recordUri("office"), saved);
        }
    });

    it("keeps the slice when a record cannot be read (it is not an eval record)", async () => {
        const saved = objects.get(recordUri("industrial"))!;
        try {
            objects.set(recordUri("industrial"), Buffer.from("{"));
            const { mocks, outputs } = await build(undefined, () => undefined);
            assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
            assert.strictEqual(outputs.lifecycle.slice, "up");
        } finally {
            objects.set(recordUri("industrial"), saved);
        }
    });

    it("keeps the slice with tpu.reclaim keep, even with every eval run recorded", async () => {
        const { mocks, outputs } = await build(
            (v) => (v.tpu.reclaim = "keep"),
            () => undefined,
        );
        assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
        assert.deepStrictEqual(
            [outputs.lifecycle.reclaim, outputs.lifecycle.slice, outputs.lifecycle.reclaimPending],
            ["keep", "up", false],
        );
    });
});

describe("tpu.reclaim after-eval with checkpoints from the handoff manifests (mocks)", function () {
    this.timeout(60000);
    const manifestUri = (run: string) => manifestUriOf(BUCKET, run);

    /** A verified manifest entry for `run` with a `kind` checkpoint whose bytes are `content`. */
    const handOff = (run: string, kind: "best" | "last", id: string, content: string, recordedAt: string) =>
        seedHandoff({
            bucket: BUCKET,
            run,
            runId: id,
            kind,
            content,
            objectUri: `gs://${BUCKET}/sft_match_official/${run}/${id}/sft_state_${kind}.msgpack`,
            recordedAt,
        });

    const fromManifests = (v: Untyped) => delete v.eval.trainStack;
    let latest: Record<string, Untyped>;
    const answering = (mocks: StackMocks) => {
        mocks.writeEvalRecords = true;
        mocks.trainStackOutputs = undefined;
        mocks.latestEntries = latest;
    };

    before(() => {
        installFakeStorage();
        objects.clear();
        seedEvalArtifacts(BUCKET, true);
        // Office: an older and a newer entry with best; the eval uses the newer, on the host and at program time.
        handOff("office", "best", "office-111111111111", "office one", "2026-11-29T10:00:00Z");
        const office = handOff("office", "best", "office-222222222222", "office two", "2026-11-29T11:00:00Z");
        const industrial = handOff(
            "industrial",
            "last",
            "industrial-333333333333",
            "industrial",
            "2026-11-29T12:00:00Z",
        );
        latest = { [manifestUri("office")]: office, [manifestUri("industrial")]: industrial };
    });
    after(() => {
        objects.clear();
        removeFakeStorage();
    });

    it("computes each eval run's id at program time from the newest verified entry, as the host picks it, and reclaims once recorded", async () => {
        const first = await build(fromManifests, answering);
        assert.strictEqual(first.mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
        assert.strictEqual(first.outputs.lifecycle.reclaimPending, true);
        assert.strictEqual(
            first.outputs.evalRuns.office.checkpoint.uri,
            latest[manifestUri("office")].checkpoints.best.uri,
        );
        const second = await build(fromManifests, answering);
        assert.strictEqual(second.mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 0);
        assert.strictEqual(second.mocks.ofType("command:remote:Command").length, 0);
        assert.strictEqual(second.mocks.ofType("pulumi:pulumi:StackReference").length, 0);
        // The same outputs, now recalled from the records.
        for (const run of ["office", "industrial"]) {
            assert.deepStrictEqual(second.outputs.evalRuns[run], { ...first.outputs.evalRuns[run], recalled: true });
        }
        assert.strictEqual(second.outputs.lifecycle.slice, "reclaimed");
    });

    it("a newer hand-off after the records: the slice is declared again for it", async () => {
        const newer = handOff("office", "best", "office-444444444444", "office three", "2026-11-29T13:00:00Z");
        try {
            // The host's handoff step still holds the entry it picked when it was created (a kept step): the update
            // evaluates nothing new, and the next update would not reclaim, so nothing is pending; the note says why.
            const kept = await build(fromManifests, answering);
            assert.strictEqual(kept.mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
            assert.strictEqual(kept.outputs.lifecycle.reclaimPending, false);
            assert.match(
                kept.outputs.lifecycle.note,
                /eval run office evaluated office-[0-9a-f]{12}, but its handoff manifest now has a newer entry \(eval run id office-[0-9a-f]{12}\), not evaluated yet: the slice stays up\. To evaluate it, replace the run's handoff step \(pulumi up --replace <urn of office-handoff>\)/,
            );
            // A fresh handoff step picks the newer entry: evaluated and recorded, the next update reclaims.
            const fresh = await build(fromManifests, (mocks) => {
                answering(mocks);
                mocks.latestEntries = { ...latest, [manifestUri("office")]: newer };
            });
            assert.strictEqual(fresh.outputs.lifecycle.reclaimPending, true);
            assert.strictEqual(fresh.outputs.evalRuns.office.checkpoint.uri, newer.checkpoints.best.uri);
            const after = await build(fromManifests, answering);
            assert.strictEqual(after.mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 0);
            assert.strictEqual(after.outputs.evalRuns.office.checkpoint.uri, newer.checkpoints.best.uri);
        } finally {
            // Leave the manifests as the first test found them.
            const doc = JSON.parse(objects.get(manifestUri("office"))!.toString("utf8"));
            delete doc.entries["office-444444444444"];
            objects.set(manifestUri("office"), Buffer.from(JSON.stringify(doc)));
        }
    });

    it("keeps the slice when the newest entry's checkpoint no longer matches the bucket", async () => {
        const uri = latest[manifestUri("industrial")].checkpoints.last.uri;
        const saved = objects.get(uri)!;
        objects.set(uri, Buffer.from("replaced"));
        try {
            const { mocks } = await build(fromManifests, (m) => {
                answering(m);
                m.writeEvalRecords = false;
            });
            assert.strictEqual(mocks.ofType("gcp:tpu/v2Vm:V2Vm").length, 1);
        } finally {
            objects.set(uri, saved);
        }
    });
});
