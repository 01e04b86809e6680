// The pure parts of tpu.reclaim after-eval: the eval record's schema and its parse errors, the eval run id from a
// handoff manifest entry (the same pick and the same id as the eval host's `handoff` step in `latest` mode), an eval
// run's status from its record and objects, the lifecycle output, and the record step's command and its quoting.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CheckpointRef } from "../components/checkpointRef";
import { EvalRunConfig } from "../components/config/schema";
import { evalRunId } from "../components/evalRun";
import { EvalRecordEntryInput, evalRecordUri, parseEvalRecord } from "../components/lifecycle/evalRecord";
import { ObjectStat, ObjectText } from "../components/lifecycle/handoffStatus";
import { latestEntry, Manifest, ManifestEntry } from "../components/lifecycle/manifest";
import { reclaimPlan } from "../components/lifecycle/reclaim";
import {
    evalLifecycleOutput,
    evalRecordStatus,
    EvalRecordLookup,
    programCheckpoint,
} from "../components/lifecycle/reclaimedEval";
import { evalRecordCommand } from "../components/steps/evalrecord";
import { handoffLatestResult } from "../components/steps/handoff";
import { stepShipment } from "../components/steps/stepScript";

const RUN: EvalRunConfig = {
    name: "office",
    trainRun: "office",
    checkpoint: "best",
    config: "projects/minionerec/sft/configs/office_eval.yaml",
    outputDir: "runs/office_eval",
    itemFile: "workdir/info/Office.txt",
    topk: [1, 3],
};
const IDENTITY = { slice: { acceleratorType: "v6e-8", vm: "eval-vm" }, repos: { a: 1 }, env: { b: 2 } };
const RECORD = evalRecordUri("b", "p", "office");
const HANDOFF = "gs://b/p/office/handoff.json";

function manifestEntry(runId: string, recordedAt: string, finishedAt: number, best?: CheckpointRef): ManifestEntry {
    return {
        run: "office",
        runId,
        commits: { mllmJax: "a", miniOneRec: "b" },
        config: "c.yaml",
        checkpoints: best ? { best } : { last: { uri: "gs://b/p/office/last", size: 1, crc32c: "AAAAAA==" } },
        exitCodes: [0],
        process0Worker: 0,
        acceleratorType: "v6e-16",
        chips: 16,
        startedAt: 1,
        finishedAt,
        chipHours: 1,
        recordedAt,
    };
}
const ckpt = (n: number): CheckpointRef => ({
    uri: `gs://b/p/office/ckpt${n}/sft_state_best.msgpack`,
    size: n,
    crc32c: "IcOvzQ==",
});

function recordEntry(runId: string, overrides: Partial<EvalRecordEntryInput> = {}): EvalRecordEntryInput {
    return {
        runId,
        n: 13,
        invalid: 0,
        k: [1, 3],
        hr: { "1": 0.0769230769, "3": 0.1538461538 },
        ndcg: { "1": 0.0769230769, "3": 0.12 },
        wandbUrl: "https://wandb.ai/e/p/runs/abc",
        checkpoint: ckpt(1),
        artifacts: { "eval.log": "gs://b/p/eval/office/eval.log" },
        agreement: { agree: true, maxAbsDiff: 0, sources: ["calc.py", "metrics.json", "typescript"], table: "t" },
        evalSeconds: 4000,
        commits: { mllmJax: "3be8272".padEnd(40, "0"), miniOneRec: "81b4ba9".padEnd(40, "0") },
        objects: { "eval.log": { uri: "gs://b/p/eval/office/eval.log", size: 5, crc32c: "AAAAAA==" } },
        ...overrides,
    };
}

function bucket(texts: Record<string, string>, stats: Record<string, { size: number; crc32c: string }>) {
    const text: ObjectText = async (uri) => texts[uri];
    const stat: ObjectStat = async (uri) => stats[uri];
    return { text, stat };
}
const record = (entries: Record<string, unknown>) => JSON.stringify({ schemaVersion: 1, run: "office", entries });
const manifest = (entries: ManifestEntry[]): Manifest => ({
    schemaVersion: 1,
    run: "office",
    entries: Object.fromEntries(entries.map((e) => [e.runId, e])),
});

describe("the eval record", () => {
    it("is uri gs://<bucket>/<prefix>/eval/<run>/result.json, schemaVersion 1, entries keyed by eval run id", () => {
        assert.strictEqual(RECORD, "gs://b/p/eval/office/result.json");
        const entry = { ...recordEntry("office-0123456789ab"), recordedAt: "2026-11-29T21:00:00Z" };
        const parsed = parseEvalRecord(RECORD, record({ [entry.runId]: entry }));
        assert.deepStrictEqual(parsed, { schemaVersion: 1, run: "office", entries: { [entry.runId]: entry } });
    });

    it("a document that is not one is an error naming the object and what is wrong", () => {
        assert.throws(
            () => parseEvalRecord(RECORD, "{"),
            /^Error: gs:\/\/b\/p\/eval\/office\/result\.json is not JSON \(/,
        );
        assert.throws(
            () => parseEvalRecord(RECORD, JSON.stringify({ schemaVersion: 2, run: "office", entries: {} })),
            /^Error: gs:\/\/b\/p\/eval\/office\/result\.json is not an eval record this program understands \(schemaVersion: /,
        );
        const noTime = recordEntry("office-0123456789ab");
        assert.throws(
            () => parseEvalRecord(RECORD, record({ [noTime.runId]: noTime })),
            /is not an eval record this program understands \(entries\.office-0123456789ab\.recordedAt: /,
        );
        const moved = { ...recordEntry("office-0123456789ab"), recordedAt: "x" };
        assert.throws(
            () => parseEvalRecord(RECORD, record({ "office-aaaaaaaaaaaa": moved })),
            /\(entries\.office-aaaaaaaaaaaa has runId office-0123456789ab\)/,
        );
    });
});

describe("the eval run id at program time", () => {
    it("picks the entry the handoff step's latest mode picks: the newest with the kind, then the later finish, then the first", () => {
        const older = manifestEntry("office-111111111111", "2026-11-29T10:00:00Z", 9, ckpt(1));
        const newer = manifestEntry("office-222222222222", "2026-11-29T11:00:00Z", 5, ckpt(2));
        const lastOnly = manifestEntry("office-333333333333", "2026-11-29T12:00:00Z", 5);
        assert.strictEqual(latestEntry(manifest([older, newer, lastOnly]), "best"), newer);
        assert.strictEqual(latestEntry(manifest([newer, older]), "best"), newer);
        const sameTime = manifestEntry("office-444444444444", "2026-11-29T11:00:00Z", 6, ckpt(3));
        assert.strictEqual(latestEntry(manifest([newer, sameTime]), "best"), sameTime);
        const twin = manifestEntry("office-555555555555", "2026-11-29T11:00:00Z", 5, ckpt(4));
        assert.strictEqual(latestEntry(manifest([newer, twin]), "best"), newer);
        assert.strictEqual(latestEntry(manifest([lastOnly]), "best"), undefined);
    });

    it("is the id the eval run gets from the step's result for that entry", async () => {
        const entry = manifestEntry("office-222222222222", "2026-11-29T11:00:00Z", 5, ckpt(2));
        const b = bucket({ [HANDOFF]: JSON.stringify(manifest([entry])) }, { [ckpt(2).uri]: ckpt(2) });
        const idOf = (cp: CheckpointRef) => evalRunId(RUN, IDENTITY, "online", cp);
        const status = await evalRecordStatus(
            { run: RUN, source: { handoffUri: HANDOFF }, recordUri: RECORD, idOf },
            b.stat,
            b.text,
        );
        // On the host: the `latest` step's result line, parsed as the eval run parses it.
        const onHost = handoffLatestResult.parse({ state: "complete", entry, reason: "" }).entry.checkpoints.best!;
        assert.deepStrictEqual(status, {
            state: "absent",
            runId: evalRunId(RUN, IDENTITY, "online", onHost),
            reason: `no eval record at ${RECORD}`,
        });
        assert.match(status.runId!, /^office-[0-9a-f]{12}$/);
        assert.notStrictEqual(status.runId, evalRunId(RUN, IDENTITY, "online", ckpt(1)));
        assert.notStrictEqual(status.runId, evalRunId(RUN, IDENTITY, "disabled", onHost));
    });

    it("says why when the manifest is missing, has no entry of the kind, or its newest entry's object changed", async () => {
        const none = bucket({}, {});
        assert.deepStrictEqual(await programCheckpoint(RUN, { handoffUri: HANDOFF }, none.stat, none.text), {
            state: "absent",
            reason: `no handoff manifest at ${HANDOFF}`,
        });
        const lastOnly = bucket(
            { [HANDOFF]: JSON.stringify(manifest([manifestEntry("office-333333333333", "t", 1)])) },
            {},
        );
        assert.deepStrictEqual(await programCheckpoint(RUN, { handoffUri: HANDOFF }, lastOnly.stat, lastOnly.text), {
            state: "absent",
            reason: `${HANDOFF} records no run with a 'best' checkpoint`,
        });
        const entry = manifestEntry("office-222222222222", "t", 5, ckpt(2));
        const changed = bucket({ [HANDOFF]: JSON.stringify(manifest([entry])) }, {});
        const picked = await programCheckpoint(RUN, { handoffUri: HANDOFF }, changed.stat, changed.text);
        assert.deepStrictEqual(picked, {
            state: "stale",
            reason: `the latest entry of ${HANDOFF} (office-222222222222) no longer matches the bucket: best checkpoint ${ckpt(2).uri} recorded size 2 crc32c IcOvzQ==, the bucket has no such object`,
        });
        // A known checkpoint is taken as it is: the download step verifies it.
        assert.deepStrictEqual(await programCheckpoint(RUN, ckpt(7), none.stat, none.text), { checkpoint: ckpt(7) });
    });
});

describe("an eval run's status from its record", () => {
    const id = evalRunId(RUN, IDENTITY, "online", ckpt(1));
    const lookup: EvalRecordLookup = {
        run: RUN,
        source: ckpt(1),
        recordUri: RECORD,
        idOf: (cp) => evalRunId(RUN, IDENTITY, "online", cp),
    };
    const entry = { ...recordEntry(id), recordedAt: "2026-11-29T21:00:00Z" };
    const log = { size: 5, crc32c: "AAAAAA==" };

    it("complete when the id has an entry whose artifacts still match", async () => {
        const b = bucket({ [RECORD]: record({ [id]: entry }) }, { "gs://b/p/eval/office/eval.log": log });
        const status = await evalRecordStatus(lookup, b.stat, b.text);
        assert.deepStrictEqual(status, {
            state: "complete",
            runId: id,
            entry,
            reason: `${id} recorded 2026-11-29T21:00:00Z, artifacts verified`,
        });
    });

    it("absent without a record or an entry for the id; stale when an artifact is gone or changed", async () => {
        const other = bucket({ [RECORD]: record({}) }, {});
        assert.deepStrictEqual(await evalRecordStatus(lookup, other.stat, other.text), {
            state: "absent",
            runId: id,
            reason: `${RECORD} has no entry for eval run id ${id}`,
        });
        const changed = bucket(
            { [RECORD]: record({ [id]: entry }) },
            { "gs://b/p/eval/office/eval.log": { size: 6, crc32c: "BBBBBB==" } },
        );
        assert.deepStrictEqual(await evalRecordStatus(lookup, changed.stat, changed.text), {
            state: "stale",
            runId: id,
            reason: "artifact eval.log gs://b/p/eval/office/eval.log: recorded size 5 crc32c AAAAAA==, the bucket has size 6 crc32c BBBBBB==",
        });
    });

    it("a record that is not one is an error naming the object (the stack then keeps its slice)", async () => {
        const bad = bucket({ [RECORD]: "[]" }, {});
        await assert.rejects(
            evalRecordStatus(lookup, bad.stat, bad.text),
            /gs:\/\/b\/p\/eval\/office\/result\.json is not an eval record/,
        );
    });
});

describe("the eval stack's lifecycle output", () => {
    const complete = (runId: string) => ({ state: "complete" as const, runId, entry: {} as never, reason: "ok" });
    const absent = (runId?: string) => ({ state: "absent" as const, runId, reason: "no eval record at x" });

    it("reclaimed when every eval run is recorded; pending while the slice is up and the ids are the ones just recorded", () => {
        const all = { office: complete("office-aaaaaaaaaaaa") };
        const gone = reclaimPlan("after-eval", all);
        assert.deepStrictEqual(evalLifecycleOutput("after-eval", gone, all, {}).slice, "reclaimed");
        const open = { office: absent("office-aaaaaaaaaaaa"), industrial: absent() };
        const up = reclaimPlan("after-eval", open);
        const out = evalLifecycleOutput("after-eval", up, open, {
            office: "office-aaaaaaaaaaaa",
            industrial: "industrial-bbbbbbbbbbbb",
        });
        assert.deepStrictEqual([out.slice, out.reclaimPending], ["up", true]);
        const keep = evalLifecycleOutput("keep", reclaimPlan("keep", {}), {}, { office: "office-aaaaaaaaaaaa" });
        assert.deepStrictEqual([keep.slice, keep.reclaimPending], ["up", false]);
        const error = { error: "could not load the default credentials" };
        const unread = evalLifecycleOutput("after-eval", reclaimPlan("after-eval", error), error, {});
        assert.deepStrictEqual([unread.slice, unread.reclaimPending], ["up", true]);
    });

    it("not pending when a run evaluated another id than the program now computes (a newer hand-off)", () => {
        const open = { office: absent("office-cccccccccccc") };
        const out = evalLifecycleOutput("after-eval", reclaimPlan("after-eval", open), open, {
            office: "office-aaaaaaaaaaaa",
        });
        assert.deepStrictEqual([out.slice, out.reclaimPending], ["up", false]);
        // A run may be named "error": its status is not taken for a read error.
        const named = { error: absent("error-cccccccccccc") };
        const live = { error: "error-aaaaaaaaaaaa" };
        assert.strictEqual(
            evalLifecycleOutput("after-eval", reclaimPlan("after-eval", named), named, live).reclaimPending,
            false,
        );
        assert.match(
            out.note,
            /eval run office evaluated office-aaaaaaaaaaaa, but its handoff manifest now has a newer entry \(eval run id office-cccccccccccc\)/,
        );
    });
});

describe("the evalrecord step's command", () => {
    const hostile = "https://wandb.ai/e/p/runs/x'; touch CANARY; echo '$(touch CANARY)`touch CANARY`\"\\ é";
    const entry = recordEntry("office-0123456789ab", {
        wandbUrl: hostile,
        agreement: {
            agree: true,
            maxAbsDiff: 0,
            sources: ["calc.py"],
            table: "metric  calc.py\nHR@1    0.07 'x' $HOME\n",
        },
    });

    it("passes the entry as one quoted value: the script receives it byte for byte and nothing in it runs", () => {
        const command = evalRecordCommand({
            uri: RECORD,
            run: "office",
            entry,
            storageEnv: { CLOUDSDK_CORE_PROJECT: "p'q" },
        });
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "evalrecord-quote-"));
        try {
            // A stand-in for the shipped script that prints what it was given.
            const script = path.join(home, stepShipment("evalrecord").script);
            fs.mkdirSync(path.dirname(script), { recursive: true });
            fs.writeFileSync(
                script,
                'printf "%s\\n%s\\n%s\\n%s" "$RECORD_URI" "$EVAL_RUN" "$CLOUDSDK_CORE_PROJECT" "$ENTRY_JSON"\n',
            );
            const out = execFileSync("sh", ["-c", command], {
                cwd: home,
                env: { PATH: process.env.PATH, HOME: home },
                encoding: "utf8",
            });
            const [uri, run, project, ...json] = out.split("\n");
            assert.deepStrictEqual([uri, run, project], [RECORD, "office", "p'q"]);
            assert.deepStrictEqual(JSON.parse(json.join("\n")), entry);
            assert.ok(!fs.existsSync(path.join(home, "CANARY")), "a quoted value ran as a command");
        } finally {
            fs.rmSync(home, { recursive: true, force: true });
        }
    });

    it("refuses a record URI outside <prefix>/eval/<run>/result.json, a bad run name, or another run's id", () => {
        assert.throws(
            () => evalRecordCommand({ uri: "gs://b/p/office/result.json", run: "office", entry, storageEnv: {} }),
            /^Error: evalrecord\.uri must be gs:\/\/<bucket>\/<prefix>\/eval\/office\/result\.json; got "gs:\/\/b\/p\/office\/result\.json"/,
        );
        assert.throws(
            () =>
                evalRecordCommand({
                    uri: "gs://b/p/eval/office/result.json ; x",
                    run: "office",
                    entry,
                    storageEnv: {},
                }),
            /evalrecord\.uri must be/,
        );
        assert.throws(
            () => evalRecordCommand({ uri: RECORD, run: "office; rm -rf /", entry, storageEnv: {} }),
            /^Error: evalrecord\.run must be an eval run name/,
        );
        assert.throws(
            () => evalRecordCommand({ uri: evalRecordUri("b", "p", "books"), run: "books", entry, storageEnv: {} }),
            /run id office-0123456789ab is not a run id of eval run books/,
        );
        assert.throws(
            () => evalRecordCommand({ uri: RECORD, run: "office", entry: { ...entry, runId: "x" }, storageEnv: {} }),
            /must be a run id/,
        );
    });
});
