// The supervisor's decision logic on recorded GCP error texts (test/fixtures/gcp-errors, sources in SOURCES.md)
// and on this program's own failure messages.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    backoffSeconds,
    classifyFailure,
    decide,
    Decision,
    Evidence,
    SupervisorHistory,
    SupervisorLimits,
} from "../scripts/supervise/decide";

const FIXTURES = path.join(__dirname, "fixtures", "gcp-errors");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");
const LIMITS: SupervisorLimits = { maxRecoveries: 5, maxAttempts: 2, backoffSeconds: 30, maxBackoffSeconds: 600 };
const HISTORY: SupervisorHistory = {
    recoveries: 0,
    workloadFailures: 0,
    zone: "us-east5-b",
    zones: ["us-east5-b", "us-east1-d", "europe-west4-a"],
    zonesTried: [],
};
const upFailure = (inner: string) =>
    `Updating (train):\n  +  gcp:tpu:V2Vm slice creating (0s)\n  +  gcp:tpu:V2Vm slice creating failed error: ${inner}\nResources:\n    3 unchanged\n`;

describe("supervisor: classifying recorded GCP error texts", () => {
    const expected: Record<string, string> = {
        "capacity-v2vm.txt": "capacity",
        "capacity-v2vm-queued-hint.txt": "capacity",
        "capacity-reserved.txt": "capacity",
        "quota-v6e-preemptible-region.txt": "quota",
        "quota-v4-exhausted.txt": "quota",
        "permission-tpu-nodes-get.txt": "permission",
        "permission-read-project.txt": "permission",
        "billing-free-trial.txt": "bad-config",
        "failed-precondition-node-denied.txt": "bad-config",
    };
    it("has a recorded text for every fixture file, and every one is classified as expected", () => {
        const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".txt"));
        assert.deepStrictEqual(files.sort(), Object.keys(expected).sort());
        for (const [file, kind] of Object.entries(expected)) {
            assert.strictEqual(classifyFailure(upFailure(fixture(file))).kind, kind, file);
        }
    });

    it("names the line that decided, as evidence", () => {
        assert.strictEqual(
            classifyFailure(upFailure(fixture("capacity-v2vm.txt"))).evidence,
            `+  gcp:tpu:V2Vm slice creating failed error: ${fixture("capacity-v2vm.txt").trim()}`,
        );
    });

    it("classifies this program's own failures: a config error, a failed job, a dead worker, a dial timeout", () => {
        assert.strictEqual(
            classifyFailure(
                'error: invalid configuration for stack "train" (1 problem):\n  - tpu-sft:role = "serve": must be one of train, eval.\n    Fix: pulumi config set role train --stack train',
            ).kind,
            "bad-config",
        );
        assert.strictEqual(
            classifyFailure(
                "[wait t1v-n-1-w-2] ERROR: worker t1v-n-1-w-2: the train job exited with code 1 (attempt 1, log /root/tpu-sft-runs/office-0123456789ab/train.log). Fix the cause and run `pulumi up` again to relaunch.",
            ).kind,
            "workload",
        );
        assert.strictEqual(
            classifyFailure(
                "worker w-0: the train process 4242 is gone without an exit code: it died or the VM was preempted (log x). Run `pulumi up` again to relaunch.",
            ).kind,
            "workload",
        );
        assert.strictEqual(
            classifyFailure("error: after 40 failed attempts: dial tcp 10.130.0.7:22: i/o timeout").kind,
            "unreachable",
        );
        assert.strictEqual(classifyFailure("error: something nobody has seen").kind, "unknown");
    });
});

describe("supervisor: decisions", () => {
    const evidence = (failure: string, sliceState: Evidence["sliceState"] = "READY"): Evidence => ({
        failure,
        sliceState,
    });
    const act = (d: Decision) => (d.action === "stop" ? `stop ${d.exitCode}` : d.action);

    it("no capacity or quota in the zone: the next zone of tpu.zones not yet tried, with backoff", () => {
        const d = decide(evidence(upFailure(fixture("capacity-v2vm.txt")), "MISSING"), HISTORY, LIMITS);
        assert.deepStrictEqual(d, {
            action: "next-zone",
            zone: "us-east1-d",
            reason: "no capacity for the slice in us-east5-b: moving to us-east1-d (tpu-sft:activeZone), the bucket stays where it is",
            evidence: `capacity: +  gcp:tpu:V2Vm slice creating failed error: ${fixture("capacity-v2vm.txt").trim()}; slice state MISSING`,
            waitSeconds: 30,
        });
        const quota = decide(
            evidence(upFailure(fixture("quota-v6e-preemptible-region.txt")), "MISSING"),
            { ...HISTORY, zone: "us-east1-d", zonesTried: ["us-east5-b"], recoveries: 1 },
            LIMITS,
        );
        assert.strictEqual(quota.action, "next-zone");
        assert.strictEqual(quota.action === "next-zone" && quota.zone, "europe-west4-a");
        assert.strictEqual(quota.action === "next-zone" && quota.waitSeconds, 60);
    });

    it("every zone tried: gives up with exit 3", () => {
        const d = decide(
            evidence(fixture("capacity-reserved.txt"), "MISSING"),
            { ...HISTORY, zone: "europe-west4-a", zonesTried: ["us-east5-b", "us-east1-d"], recoveries: 2 },
            LIMITS,
        );
        assert.strictEqual(act(d), "stop 3");
        assert.strictEqual(
            d.reason,
            "no capacity in europe-west4-a, and every zone of tpu.zones (us-east5-b, us-east1-d, europe-west4-a) has been tried; add zones to tpu.zones or try again later",
        );
    });

    it("a preempted, terminated or missing slice is replaced; a healthy one is not", () => {
        const dial = "error: after 40 failed attempts: dial tcp 10.130.0.7:22: i/o timeout";
        for (const state of ["PREEMPTED", "TERMINATED", "MISSING"] as const) {
            const d = decide(evidence(dial, state), HISTORY, LIMITS);
            assert.strictEqual(d.action, "replace-slice", state);
            assert.strictEqual(
                d.reason,
                `the slice is ${state}: replacing it (fresh hosts are bootstrapped; runs already in the handoff manifest are not trained again)`,
            );
        }
        assert.strictEqual(act(decide(evidence(dial, "READY"), HISTORY, LIMITS)), "retry");
    });

    it("a dead worker on a preempted slice is a preemption, not a workload failure", () => {
        const gone = "the train process 4242 is gone without an exit code: it died or the VM was preempted";
        assert.strictEqual(act(decide(evidence(gone, "PREEMPTED"), HISTORY, LIMITS)), "replace-slice");
        assert.strictEqual(act(decide(evidence(gone, "READY"), HISTORY, LIMITS)), "retry");
    });

    it("the workload failed: retried until train.maxAttempts, then exit 1", () => {
        const failed = "worker w-2: the train job exited with code 1 (attempt 1, log x).";
        assert.strictEqual(act(decide(evidence(failed), HISTORY, LIMITS)), "retry");
        const last = decide(evidence(failed), { ...HISTORY, workloadFailures: 1, recoveries: 1 }, LIMITS);
        assert.deepStrictEqual(last, {
            action: "stop",
            exitCode: 1,
            reason: "the workload failed 2 time(s) (train.maxAttempts = 2); see the log named above",
            evidence: `workload: ${failed}; slice state READY`,
        });
    });

    it("bad config, credentials or permissions stop at once with exit 2, even with recoveries left", () => {
        for (const file of ["permission-tpu-nodes-get.txt", "permission-read-project.txt", "billing-free-trial.txt"]) {
            assert.strictEqual(act(decide(evidence(fixture(file), "MISSING"), HISTORY, LIMITS)), "stop 2", file);
        }
    });

    it("bounded: after supervisor.maxRecoveries it gives up with exit 3, whatever the evidence", () => {
        const d = decide(
            evidence("error: after 40 failed attempts: dial tcp 10.0.0.2:22: i/o timeout", "PREEMPTED"),
            { ...HISTORY, recoveries: 5 },
            LIMITS,
        );
        assert.deepStrictEqual(act(d), "stop 3");
        assert.strictEqual(d.reason, "gave up after 5 recoveries (supervisor.maxRecoveries = 5)");
    });

    it("backoff doubles per recovery and is capped", () => {
        assert.deepStrictEqual(
            [0, 1, 2, 3, 4, 5, 40].map((n) => backoffSeconds(LIMITS, n)),
            [30, 60, 120, 240, 480, 600, 600],
        );
    });
});
