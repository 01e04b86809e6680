// The supervisor's loop and its adapters. The Pulumi stack is played by ScriptedStack, a test double of the
// Automation API (the StackDriver interface scripts/supervise.ts implements with LocalWorkspace): it answers each
// `up` from a script and records what the loop asked for. The loop, decide() and the cost arithmetic are real.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { engineParallelism, parseArgs } from "../scripts/supervise";
import { SliceState } from "../scripts/supervise/decide";
import {
    formatSummary,
    LoopSettings,
    StackDriver,
    supervise,
    UpFailure,
    workChipHoursOf,
} from "../scripts/supervise/loop";
import {
    CommandResult,
    GcpSliceStateReader,
    LocalSliceStateReader,
    parseTpuDescribe,
    parseTwinState,
    SliceStateReader,
} from "../scripts/supervise/sliceState";
import { sliceHold } from "../components/lifecycle/sliceHold";
import { stackCost } from "../components/lifecycle/stackCost";

const CAPACITY = fs.readFileSync(path.join(__dirname, "fixtures", "gcp-errors", "capacity-v2vm.txt"), "utf8");
const PERMISSION = fs.readFileSync(
    path.join(__dirname, "fixtures", "gcp-errors", "permission-tpu-nodes-get.txt"),
    "utf8",
);
const SLICE_URN = "urn:pulumi:train::tpu-sft::gcp:tpu/v2Vm:V2Vm::slice";
const DIAL = "error: after 40 failed attempts: dial tcp 10.130.0.7:22: i/o timeout";
const JOB_FAILED = "worker w-2: the train job exited with code 1 (attempt 1, log x).";

interface Step {
    /** The update's error text, or its outputs on success. */
    readonly fail?: string;
    readonly outputs?: Record<string, unknown>;
    /** The slice state the reader reports after this update. */
    readonly state?: SliceState;
    /** Seconds the update takes on the fake clock. */
    readonly seconds: number;
}

class ScriptedStack implements StackDriver {
    readonly ups: (readonly string[])[] = [];
    readonly zones: string[] = [];
    state: SliceState = "READY";
    constructor(
        private readonly steps: Step[],
        private readonly clock: { ms: number },
    ) {}
    async up(replace: readonly string[]): Promise<Record<string, unknown>> {
        const step = this.steps[this.ups.length];
        if (!step) throw new Error(`ScriptedStack: no step ${this.ups.length + 1} in the script`);
        this.ups.push(replace);
        this.clock.ms += step.seconds * 1000;
        this.state = step.state ?? "READY";
        if (step.fail !== undefined) throw new UpFailure(step.fail);
        return step.outputs ?? {};
    }
    async sliceUrn(type: string): Promise<string | undefined> {
        return type === "gcp:tpu/v2Vm:V2Vm" ? SLICE_URN : undefined;
    }
    async setActiveZone(zone: string): Promise<void> {
        this.zones.push(zone);
    }
}

function run(steps: Step[], overrides: Partial<LoopSettings> = {}) {
    const clock = { ms: Date.UTC(2026, 10, 29, 12, 0, 0) };
    const stack = new ScriptedStack(steps, clock);
    const lines: string[] = [];
    const slept: number[] = [];
    const reader = (zone: string): SliceStateReader => ({
        describe: `scripted reader (${zone})`,
        resourceType: "gcp:tpu/v2Vm:V2Vm",
        read: async () => stack.state,
    });
    const settings: LoopSettings = {
        stack: "train",
        limits: { maxRecoveries: 4, maxAttempts: 2, backoffSeconds: 30, maxBackoffSeconds: 100 },
        zones: ["us-east5-b", "us-east1-d"],
        zone: "us-east5-b",
        readerFor: reader,
        chips: 16,
        provisioning: "spot",
        prices: { onDemandPerChipHour: 2.7, spotPerChipHour: 1 },
        log: (line) => lines.push(line),
        sleep: async (seconds) => {
            slept.push(seconds);
            clock.ms += seconds * 1000;
        },
        now: () => clock.ms,
        ...overrides,
    };
    return supervise(stack, settings).then((summary) => ({ summary, stack, lines, slept }));
}

const TRAINED = { runs: { office: { chipHours: 16, recalled: false }, industrial: { chipHours: 8, recalled: true } } };

describe("supervisor loop (scripted stack)", () => {
    it("reclaims a finished slice with one more update, and measures how long it stood idle after the work", async () => {
        const pending = { ...TRAINED, lifecycle: { reclaim: "after-handoff", slice: "up", reclaimPending: true } };
        const gone = { ...TRAINED, lifecycle: { reclaim: "after-handoff", slice: "reclaimed", reclaimPending: false } };
        const { summary, stack, lines } = await run([
            { outputs: pending, seconds: 3600 },
            { outputs: gone, seconds: 45 },
        ]);
        assert.strictEqual(stack.ups.length, 2);
        assert.deepStrictEqual([summary.exitCode, summary.reason], [0, "done; the slice is reclaimed"]);
        // 16 chips × 45 s.
        assert.deepStrictEqual(summary.slice, {
            fate: "reclaimed",
            idleAfterWorkSeconds: 45,
            idleAfterWorkChipHours: 0.2,
        });
        assert.ok(lines.some((l) => /decision reclaim: every run is done/.test(l)));
        assert.match(
            formatSummary(summary, "spot"),
            /slice: reclaimed 45 s after the work ended \(idle after work: 0\.2 chip-hours\)/,
        );
    });

    it("the summary gives the runs' own records (the stack's cost output) beside this session's estimate", async () => {
        const cost = stackCost(16, "spot", { onDemandPerChipHour: 2.7, spotPerChipHour: 1 }, [
            { chipHours: 16, slice: sliceHold({ chips: 16, upSince: 0, startedAt: 450, finishedAt: 4050 }) },
            { chipHours: 8 },
        ]);
        const { summary } = await run([{ outputs: { ...TRAINED, cost }, seconds: 4100 }]);
        assert.deepStrictEqual(summary.recorded, cost);
        assert.match(
            formatSummary(summary, "spot"),
            /\n {2}recorded by the runs \(cost output\): work 24 chip-hours, their share of the slice 18, of it idle 2 \(1 run\(s\) recorded without it\)\n {2}slice: kept/,
        );
        // A stack without a cost output in that shape: no such line.
        const { summary: bare } = await run([{ outputs: { ...TRAINED, cost: { chips: 0 } }, seconds: 60 }]);
        assert.strictEqual(bare.recorded, undefined);
        assert.doesNotMatch(formatSummary(bare, "spot"), /recorded by the runs/);
    });

    it("a failed reclaim ends with exit 4: the work is done but the slice still bills", async () => {
        const pending = { ...TRAINED, lifecycle: { reclaim: "after-handoff", slice: "up", reclaimPending: true } };
        const { summary } = await run([
            { outputs: pending, seconds: 60 },
            { fail: "error: hosts.sh: slice-down failed", seconds: 5 },
        ]);
        assert.deepStrictEqual([summary.exitCode, summary.slice.fate], [4, "reclaim-failed"]);
        assert.match(summary.reason, /still bills: run `pulumi up` again, or `pulumi destroy`/);
    });

    it("a reclaiming update that leaves the slice up ends with exit 4, saying why", async () => {
        const note = "the records in the bucket could not be read (no credentials), so the slice stays";
        const pending = { ...TRAINED, lifecycle: { reclaim: "after-eval", slice: "up", reclaimPending: true } };
        const still = { ...TRAINED, lifecycle: { reclaim: "after-eval", slice: "up", reclaimPending: true, note } };
        const { summary, lines } = await run([
            { outputs: pending, seconds: 60 },
            { outputs: still, seconds: 5 },
        ]);
        assert.deepStrictEqual([summary.exitCode, summary.slice.fate], [4, "reclaim-failed"]);
        assert.match(summary.reason, /left the slice up \(the records in the bucket could not be read/);
        assert.ok(lines.some((l) => l.includes(`the reclaiming update left the slice up: ${note}`)));
    });

    it("an update that finds every run recorded deletes the slice itself: reclaimed, with no second update", async () => {
        const gone = { ...TRAINED, lifecycle: { reclaim: "after-eval", slice: "reclaimed", reclaimPending: false } };
        const { summary, stack } = await run([{ outputs: gone, seconds: 10 }]);
        assert.deepStrictEqual([stack.ups.length, summary.exitCode, summary.slice.fate], [1, 0, "reclaimed"]);
        assert.match(
            formatSummary(summary, "spot"),
            /slice: reclaimed by the update itself \(every run was already recorded\)/,
        );
    });

    it("a reclaiming stack whose slice must stay up says why in its summary", async () => {
        const note = "eval run office evaluated office-aaaaaaaaaaaa, but its handoff manifest now has a newer entry";
        const up = { ...TRAINED, lifecycle: { reclaim: "after-eval", slice: "up", reclaimPending: false, note } };
        const { summary } = await run([{ outputs: up, seconds: 10 }]);
        assert.deepStrictEqual([summary.exitCode, summary.slice.fate], [0, "kept"]);
        assert.match(formatSummary(summary, "spot"), new RegExp(`slice: kept: ${note}; it bills until`));
    });

    it("a stack that keeps its slice is done after one update", async () => {
        const kept = { ...TRAINED, lifecycle: { reclaim: "keep", slice: "up", reclaimPending: false } };
        const { summary, stack } = await run([{ outputs: kept, seconds: 60 }]);
        assert.deepStrictEqual([stack.ups.length, summary.exitCode, summary.slice.fate], [1, 0, "kept"]);
    });

    it("no capacity in the first zone: sets activeZone to the next, and the stack comes up there", async () => {
        const { summary, stack, lines, slept } = await run([
            { fail: CAPACITY, state: "MISSING", seconds: 60 },
            { outputs: TRAINED, seconds: 3600 },
        ]);
        assert.deepStrictEqual(stack.zones, ["us-east1-d"]);
        assert.deepStrictEqual(slept, [30]);
        assert.strictEqual(summary.exitCode, 0);
        assert.deepStrictEqual(summary.zonesTried, ["us-east5-b", "us-east1-d"]);
        assert.strictEqual(summary.attempts, 2);
        assert.strictEqual(summary.recoveries, 1);
        // Only the run trained in this session counts; the failed create billed nothing; 16 chips × 1 h of uptime.
        assert.deepStrictEqual(summary.cost, {
            workChipHours: 16,
            uptimeChipHours: 16,
            idleChipHours: 0,
            pricePerChipHour: 1,
            estimatedUsd: 16,
            idleUsd: 0,
        });
        assert.strictEqual(
            lines[1],
            "[2026-11-29T12:01:00.000Z] supervise train: decision next-zone: no capacity for the slice in us-east5-b: moving to us-east1-d (tpu-sft:activeZone), the bucket stays where it is\n" +
                `    evidence: capacity: ${CAPACITY.trim()}; slice state MISSING\n` +
                "    slice state from: scripted reader (us-east5-b)",
        );
    });

    it("a preempted slice is replaced by URN on the next up, and counted as a preemption", async () => {
        const { summary, stack } = await run([
            { fail: DIAL, state: "PREEMPTED", seconds: 600 },
            { outputs: TRAINED, seconds: 1800 },
        ]);
        assert.deepStrictEqual(stack.ups, [[], [SLICE_URN]]);
        assert.strictEqual(summary.preemptions, 1);
        assert.strictEqual(summary.exitCode, 0);
        // 16 chips × (600 + 1800) s = 10.666667 chip-hours up, 16 of work reported: idle never below 0.
        assert.strictEqual(summary.cost.uptimeChipHours, 10.666667);
        assert.strictEqual(summary.cost.idleChipHours, 0);
    });

    it("a workload that fails train.maxAttempts times stops with exit 1", async () => {
        const { summary, stack } = await run([
            { fail: JOB_FAILED, seconds: 100 },
            { fail: JOB_FAILED, seconds: 100 },
        ]);
        assert.strictEqual(stack.ups.length, 2);
        assert.strictEqual(summary.exitCode, 1);
        assert.strictEqual(summary.workloadFailures, 2);
        assert.strictEqual(
            summary.reason,
            "the workload failed 2 time(s) (train.maxAttempts = 2); see the log named above",
        );
    });

    it("a permission error stops at once with exit 2", async () => {
        const { summary, stack } = await run([{ fail: PERMISSION, state: "MISSING", seconds: 5 }]);
        assert.strictEqual(stack.ups.length, 1);
        assert.strictEqual(summary.exitCode, 2);
    });

    it("gives up after supervisor.maxRecoveries with exit 3, backoff capped, and prints the summary", async () => {
        const steps = Array.from({ length: 5 }, () => ({ fail: "error: something nobody has seen", seconds: 360 }));
        const { summary, stack, slept } = await run(steps);
        assert.strictEqual(stack.ups.length, 5);
        assert.deepStrictEqual(slept, [30, 60, 100, 100]);
        assert.strictEqual(summary.exitCode, 3);
        assert.strictEqual(
            formatSummary(summary, "spot"),
            [
                "supervise train: stopped (exit 3): gave up after 4 recoveries (supervisor.maxRecoveries = 4)",
                "  attempts 5, recoveries 4, preemptions 0, workload failures 0",
                "  zones tried: us-east5-b",
                "  chip-hours: work 0, slice uptime (estimated) 8, idle 8",
                "  slice: the work did not finish",
                "  cost: at USD 1.00/chip-hour (spot): ~USD 8.00, of it idle ~USD 8.00",
            ].join("\n"),
        );
    });

    it("without a spot price the summary says there is no estimate", async () => {
        const { summary } = await run([{ outputs: TRAINED, seconds: 3600 }], {
            prices: { onDemandPerChipHour: 2.7 },
        });
        assert.strictEqual(summary.price, undefined);
        assert.match(
            formatSummary(summary, "spot"),
            /\n {2}cost: no spot price set \(tpu\.prices\.spotPerChipHour\): no cost estimate$/,
        );
    });

    it("work chip-hours count only runs that ran a job in this update", () => {
        assert.strictEqual(workChipHoursOf(TRAINED, 16), 16);
        assert.strictEqual(workChipHoursOf({}, 16), 0);
        // Eval runs: their evalSeconds on the slice's chips; a recalled one evaluated nothing in this update.
        const evaluated = {
            evalRuns: { office: { evalSeconds: 900 }, industrial: { evalSeconds: 450, recalled: true } },
        };
        assert.strictEqual(workChipHoursOf(evaluated, 8), 2);
    });
});

describe("supervisor: reading a slice's state", () => {
    const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: "" });
    it("gcp: the node's state from tpu-vm describe; NOT_FOUND is MISSING; other failures UNKNOWN", () => {
        assert.strictEqual(
            parseTpuDescribe(ok('{"name":"projects/p/locations/z/nodes/n","state":"PREEMPTED"}')),
            "PREEMPTED",
        );
        assert.strictEqual(parseTpuDescribe(ok('{"state":"READY"}')), "READY");
        assert.strictEqual(parseTpuDescribe(ok('{"state":"SOMETHING_NEW"}')), "UNKNOWN");
        assert.strictEqual(
            parseTpuDescribe({
                code: 1,
                stdout: "",
                stderr: "ERROR: (gcloud.compute.tpus.tpu-vm.describe) NOT_FOUND: Resource 'projects/p/locations/us-east5-b/nodes/n' was not found",
            }),
            "MISSING",
        );
        assert.strictEqual(parseTpuDescribe({ code: 1, stdout: "", stderr: "PERMISSION_DENIED" }), "UNKNOWN");
    });

    it("gcp: the reader runs gcloud with the node, zone and project, without a shell", async () => {
        const calls: [string, readonly string[]][] = [];
        const reader = new GcpSliceStateReader("my-proj", "us-east5-b", "mllm-jax-v6e-16-train", async (file, args) => {
            calls.push([file, args]);
            return ok('{"state":"TERMINATED"}');
        });
        assert.strictEqual(await reader.read(), "TERMINATED");
        assert.deepStrictEqual(calls, [
            [
                "gcloud",
                [
                    "compute",
                    "tpus",
                    "tpu-vm",
                    "describe",
                    "mllm-jax-v6e-16-train",
                    "--zone=us-east5-b",
                    "--project=my-proj",
                    "--format=json",
                ],
            ],
        ]);
    });

    it("local: the twin's one-word answer, read with hosts.sh slice-state <world> <slice>", async () => {
        assert.strictEqual(parseTwinState(ok("PREEMPTED\n")), "PREEMPTED");
        assert.strictEqual(parseTwinState(ok("missing\n")), "MISSING");
        assert.strictEqual(parseTwinState(ok("NOT_FOUND\n")), "MISSING");
        assert.strictEqual(parseTwinState({ code: 2, stdout: "", stderr: "no world" }), "UNKNOWN");
        const calls: [string, readonly string[]][] = [];
        const reader = new LocalSliceStateReader(
            "/p/test/rehearsal/hosts.sh",
            "/tmp/world",
            "slice-a",
            "x:y:Slice",
            async (file, args) => {
                calls.push([file, args]);
                return ok("READY\n");
            },
        );
        assert.strictEqual(await reader.read(), "READY");
        assert.deepStrictEqual(calls, [
            ["bash", ["/p/test/rehearsal/hosts.sh", "slice-state", "/tmp/world", "slice-a"]],
        ]);
        assert.strictEqual(reader.resourceType, "x:y:Slice");
    });
});

describe("supervise CLI arguments", () => {
    it("takes --stack or --pipeline (train then eval), and --dir", () => {
        assert.deepStrictEqual(parseArgs(["--stack", "train"], "/p"), { stacks: ["train"], dir: "/p" });
        assert.deepStrictEqual(parseArgs(["--pipeline", "--dir=/q"], "/p"), { stacks: ["train", "eval"], dir: "/q" });
        assert.throws(() => parseArgs([], "/p"), /^Error: give --stack or --pipeline \(one of them\); usage:/);
        assert.throws(() => parseArgs(["--stack", "train", "--pipeline"], "/p"), /give --stack or --pipeline/);
        assert.throws(() => parseArgs(["--force"], "/p"), /^Error: unexpected argument "--force"; usage:/);
        assert.deepStrictEqual(parseArgs(["--stack", "org/p/train", "--config-file", "/w/Pulumi.x.yaml"], "/p"), {
            stacks: ["org/p/train"],
            dir: "/p",
            configFile: "/w/Pulumi.x.yaml",
        });
        assert.throws(() => parseArgs(["--pipeline", "--config-file=/w/f.yaml"], "/p"), /use it with --stack/);
    });
});

describe("supervise: the engine's parallelism", () => {
    it("runs every worker's wait at once: at least twice the hosts, never below 16", () => {
        assert.deepStrictEqual([1, 4, 8, 16].map(engineParallelism), [16, 16, 16, 32]);
    });
});
