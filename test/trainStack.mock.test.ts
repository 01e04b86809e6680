// Builds the train stack from the checked-in Pulumi.train.yaml under Pulumi mocks. Proves the resource
// graph, inputs and outputs; it does not prove that a TPU or sshd accepts them (the script tests and the
// rehearsal do that part).
import * as assert from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { asPulumiConfig, stackFileValues, withUserSettings } from "./helpers/trainConfig";
import { CRC, FAKE_HOST_KEY, isSecret, plain, promiseOf, StackMocks, Untyped } from "./helpers/mocks";
import { stepShipment } from "../components/steps/stepScript";
import { laidOut } from "./helpers/copies";
import { installFakeStorage } from "./helpers/fakeStorage";

const WANDB_CANARY = "wandbcanary0123456789abcdef0123456789abcd";

async function buildTrainStack(
    mutate?: (values: Record<string, Untyped>) => void,
    prepare?: (mocks: StackMocks) => void,
) {
    const mocks = new StackMocks();
    prepare?.(mocks);
    // The program reads its handoff manifests: from an in-memory bucket here (empty: nothing trained yet).
    installFakeStorage();
    await pulumi.runtime.setMocks(mocks, "tpu-sft", "train", false);
    const values = withUserSettings(stackFileValues("train"));
    mutate?.(values);
    pulumi.runtime.setAllConfig(
        { ...asPulumiConfig(values), "gcp:project": "my-proj", "tpu-sft:wandbApiKey": WANDB_CANARY },
        ["tpu-sft:wandbApiKey"],
    );
    const { readStackConfig } = await import("../components/config/readStackConfig");
    const { trainStack } = await import("../components/trainStack");
    const { config, secrets } = readStackConfig();
    assert.ok(config.role === "train");
    const outputs = await trainStack(config, secrets);
    const resolved = await promiseOf(pulumi.output(outputs));
    return { mocks, outputs: resolved as Untyped };
}

describe("train stack under mocks (Pulumi.train.yaml)", function () {
    this.timeout(30000);
    let built: Awaited<ReturnType<typeof buildTrainStack>>;
    before(async () => {
        built = await buildTrainStack();
    });

    it("creates one v6e-16 TPU VM with the SOP's zone, runtime, spot scheduling and the SSH key in metadata", () => {
        const vms = built.mocks.ofType("gcp:tpu/v2Vm:V2Vm");
        assert.strictEqual(vms.length, 1);
        const vm = vms[0].inputs;
        assert.strictEqual(vm.name, "mllm-jax-v6e-16-sft");
        assert.strictEqual(vm.acceleratorType, "v6e-16");
        assert.strictEqual(vm.zone, "us-east5-b");
        assert.strictEqual(vm.project, "my-proj");
        assert.strictEqual(vm.runtimeVersion, "v6e-ubuntu-2404");
        assert.deepStrictEqual(vm.schedulingConfig, { spot: true, reserved: false });
        assert.deepStrictEqual(vm.networkConfig, { network: "default", enableExternalIps: true });
        assert.match(vm.metadata["ssh-keys"], /^root:ssh-ed25519 \S+ root$/);
    });

    it("creates the bucket with uniform access, public access prevention and versioning, in the train region", () => {
        const buckets = built.mocks.ofType("gcp:storage/bucket:Bucket");
        assert.strictEqual(buckets.length, 1);
        const b = buckets[0].inputs;
        assert.strictEqual(b.name, "my-proj-mllm-jax-artifacts");
        assert.strictEqual(b.location, "US-EAST5");
        assert.strictEqual(b.uniformBucketLevelAccess, true);
        assert.strictEqual(b.publicAccessPrevention, "enforced");
        assert.deepStrictEqual(b.versioning, { enabled: true });
        assert.strictEqual(b.forceDestroy, false);
    });

    it("bootstraps and launches on four distinct workers, per run, with the W&B key only on stdin", () => {
        const commands = built.mocks.ofType("command:remote:Command");
        const byName = (re: RegExp) => commands.filter((c) => re.test(c.name));
        const bootstraps = byName(/^bootstrap-w\d$/);
        assert.strictEqual(bootstraps.length, 4);
        assert.deepStrictEqual(new Set(bootstraps.map((c) => plain(c.inputs.connection).host)).size, 4);
        for (const run of ["office", "industrial"]) {
            const launches = byName(new RegExp(`^${run}-launch-w\\d$`));
            assert.strictEqual(launches.length, 4, run);
            assert.deepStrictEqual(launches.map((l) => plain(l.inputs.connection).host).sort(), [
                "34.1.2.10",
                "34.1.2.11",
                "34.1.2.12",
                "34.1.2.13",
            ]);
            for (const l of launches) {
                assert.match(l.inputs.create, / PROCESS_COUNT=4 /);
                assert.match(l.inputs.create, / JOB_MODE=train /);
                assert.strictEqual(plain(l.inputs.connection).user, "root");
            }
            assert.strictEqual(byName(new RegExp(`^${run}-wait-w\\d$`)).length, 4);
            assert.strictEqual(byName(new RegExp(`^${run}-locate-w\\d$`)).length, 4);
        }
        assert.deepStrictEqual(
            byName(/-upload-/)
                .map((c) => c.name)
                .sort(),
            ["industrial-upload-last", "office-upload-best"],
        );
        for (const c of commands) {
            assert.ok(!c.inputs.create.includes(WANDB_CANARY), `${c.name} carries the W&B key in its command text`);
        }
        assert.ok(isSecret(bootstraps[0].inputs.stdin), "stdin carrying the W&B key must be a secret");
        assert.strictEqual(plain(bootstraps[0].inputs.stdin), `${WANDB_CANARY}\n`);
        for (const c of commands) {
            assert.ok(
                isSecret(c.inputs.connection),
                `${c.name}: the connection carries the private key and must be a secret`,
            );
        }
    });

    it("identifies each worker over a connection without a host key; bootstrap and every later step pin the identified key", () => {
        const commands = built.mocks.ofType("command:remote:Command");
        const identifies = commands.filter((c) => /^bootstrap-identify-w\d$/.test(c.name));
        assert.strictEqual(identifies.length, 4);
        for (const c of identifies) {
            assert.strictEqual(plain(c.inputs.connection).hostKey, undefined, c.name);
            assert.strictEqual(c.inputs.stdin, undefined, `${c.name} is sent nothing`);
        }
        const pinned = commands.filter((c) => !/^bootstrap-identify-/.test(c.name));
        // bootstrap on 4 workers; per run: launch, wait, locate on 4 workers, one upload, handoff recall and record.
        assert.strictEqual(pinned.length, 4 + 2 * 4 * 3 + 2 + 2 * 2);
        for (const c of pinned) assert.strictEqual(plain(c.inputs.connection).hostKey, FAKE_HOST_KEY, c.name);
    });

    it("ships each worker's step scripts in two copies, identify's without a pinned key and the rest with it; each step command runs its own digest-named copy", async () => {
        const copies = built.mocks.ofType("command:remote:CopyToRemote");
        const steps = ["identify", "bootstrap", "launch", "wait", "locate", "upload", "handoff"] as const;
        assert.deepStrictEqual(
            copies.map((c) => c.name).sort(),
            [0, 1, 2, 3].flatMap((w) => [`bootstrap-copy-identify-w${w}`, `bootstrap-copy-steps-w${w}`]).sort(),
        );
        // Per host: each home-relative file the copies put there, and which copy did.
        const onHost = new Map<string, Map<string, string>>();
        for (const c of copies) {
            const [, kind] = /^bootstrap-copy-(identify|steps)-w\d$/.exec(c.name)!;
            assert.strictEqual(
                plain(c.inputs.connection).hostKey,
                kind === "identify" ? undefined : FAKE_HOST_KEY,
                c.name,
            );
            // Exactly the shipments of its steps (lib.sh and the script in `.tpu-sft/steps/<step>-<digest>/`),
            // byte for byte, and nothing else.
            const shipped = steps.filter((s) => (kind === "identify") === (s === "identify"));
            const files = await laidOut(c);
            const expected = shipped.flatMap((s) => stepShipment(s).files);
            assert.deepStrictEqual([...files.keys()].sort(), expected.map((f) => f.remote).sort(), c.name);
            for (const f of expected) assert.ok(files.get(f.remote)!.equals(fs.readFileSync(f.local)), f.remote);
            const host = plain(c.inputs.connection).host;
            const held = onHost.get(host) ?? new Map<string, string>();
            for (const file of files.keys()) held.set(file, kind);
            onHost.set(host, held);
        }
        assert.strictEqual(onHost.size, 4);
        const commands = built.mocks.ofType("command:remote:Command");
        for (const c of commands) {
            const step = c.name.startsWith("bootstrap-identify")
                ? "identify"
                : c.name.startsWith("bootstrap")
                  ? "bootstrap"
                  : /-(launch|wait|locate|upload|handoff|recall)(-|$)/.exec(c.name)![1].replace("recall", "handoff");
            const script = stepShipment(step as (typeof steps)[number]).script;
            assert.ok(c.inputs.create.endsWith(` bash "$HOME/${script}"`), c.name);
            // Its script is on its own host, put there by identify's copy (before the key is pinned) or by the
            // pinned copy of every later step.
            assert.strictEqual(
                onHost.get(plain(c.inputs.connection).host)?.get(script),
                step === "identify" ? "identify" : "steps",
                c.name,
            );
            assert.match(c.inputs.create, / STEP_LIMIT_SECONDS=\d+ /);
        }
    });

    it("uploads from the worker that holds process 0's checkpoint (worker 2 here)", () => {
        const uploads = built.mocks.ofType("command:remote:Command").filter((c) => /-upload-/.test(c.name));
        for (const u of uploads) {
            assert.strictEqual(plain(u.inputs.connection).host, "34.1.2.12", u.name);
        }
        const office = uploads.find((u) => u.name === "office-upload-best");
        assert.match(
            office!.inputs.create,
            /(^| )DEST_URI=gs:\/\/my-proj-mllm-jax-artifacts\/sft_match_official\/office\/sft_state_best\.msgpack /,
        );
        assert.match(
            office!.inputs.create,
            / FILE=\/root\/MLLM-JAX\/runs\/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32\/sft_state_best\.msgpack /,
        );
    });

    it("outputs checkpoint URIs, sizes and crc32c per run and kind, exit codes, process-0 worker, commits, wall time", () => {
        const { outputs } = built;
        assert.deepStrictEqual(outputs.tpu, {
            name: "mllm-jax-v6e-16-sft",
            zone: "us-east5-b",
            acceleratorType: "v6e-16",
            hosts: 4,
        });
        assert.strictEqual(outputs.bucket, "my-proj-mllm-jax-artifacts");
        assert.deepStrictEqual(outputs.commits, {
            mllmJax: "03455fc".padEnd(40, "0"),
            miniOneRec: "81b4ba9".padEnd(40, "0"),
        });
        assert.deepStrictEqual(Object.keys(outputs.runs).sort(), ["industrial", "office"]);
        assert.deepStrictEqual(outputs.runs.office.checkpoints, {
            best: {
                uri: "gs://my-proj-mllm-jax-artifacts/sft_match_official/office/sft_state_best.msgpack",
                size: 3_560_000_000,
                crc32c: CRC.best,
            },
        });
        assert.deepStrictEqual(outputs.runs.industrial.checkpoints, {
            last: {
                uri: "gs://my-proj-mllm-jax-artifacts/sft_match_official/industrial/sft_state_last.msgpack",
                size: 3_560_000_000,
                crc32c: CRC.last,
            },
        });
        assert.deepStrictEqual(outputs.runs.office.exitCodes, [0, 0, 0, 0]);
        assert.strictEqual(outputs.runs.office.process0Worker, 2);
        assert.strictEqual(outputs.runs.office.trainSeconds, 5003 - 1000);
        assert.match(outputs.runs.office.runId, /^office-[0-9a-f]{12}$/);
        assert.strictEqual(outputs.runs.office.logUris.length, 4);
        assert.match(outputs.sshPublicKey, /^ssh-ed25519 /);
        // The slice came up at 900 (the earliest worker's boot, from identify). Office held it from then to its
        // job's end (5003); industrial from office's end to its own (10003), after a 1000 s gap before its launch.
        assert.deepStrictEqual(outputs.runs.office.slice, {
            upSince: 900,
            heldFrom: 900,
            heldUntil: 5003,
            sliceChipHours: 18.235556, // 16 × 4103 s
            idleChipHours: 0.444445, // 16 × 100 s before the job
        });
        assert.deepStrictEqual(outputs.runs.industrial.slice, {
            upSince: 900,
            heldFrom: 5003,
            heldUntil: 10003,
            sliceChipHours: 22.222222, // 16 × 5000 s
            idleChipHours: 4.431111, // 16 × 997 s
        });
        // Spot (the SOP's provisioning) has no default price: chip-hours without an estimate.
        assert.deepStrictEqual(outputs.cost, {
            chips: 16,
            provisioning: "spot",
            pricePerChipHour: null,
            workChipHours: Math.round(2 * outputs.runs.office.chipHours * 1e6) / 1e6,
            workUsd: null,
            sliceChipHours: 40.457778,
            idleChipHours: 4.875556,
            sliceUsd: null,
            idleUsd: null,
            unmeasuredRuns: 0,
        });
    });

    it("records each run in its handoff manifest, on the checkpoints' worker, after its uploads", () => {
        const { outputs, mocks } = built;
        const office = outputs.runs.office;
        assert.strictEqual(office.handoffUri, "gs://my-proj-mllm-jax-artifacts/sft_match_official/office/handoff.json");
        // 16 chips from the first start (1000) to the last exit (5003).
        assert.strictEqual(office.chipHours, Math.round((16 * 4003 * 1e6) / 3600) / 1e6);
        const record = mocks.ofType("command:remote:Command").find((c) => c.name === "office-handoff");
        assert.ok(record);
        assert.strictEqual(plain(record.inputs.connection).host, "34.1.2.12", "worker 2 holds the checkpoints");
        assert.deepStrictEqual(
            mocks.handoffEntries.find((e) => e.run === "office"),
            {
                run: "office",
                runId: office.runId,
                commits: { mllmJax: "03455fc".padEnd(40, "0"), miniOneRec: "81b4ba9".padEnd(40, "0") },
                config: "projects/minionerec/sft/configs/sid_sft_jax_qwen25_1p5b_base_office_v6e16_full_best_rightpad_mu_fp32.yaml",
                checkpoints: { best: office.checkpoints.best },
                exitCodes: [0, 0, 0, 0],
                process0Worker: 2,
                acceleratorType: "v6e-16",
                chips: 16,
                startedAt: 1000,
                finishedAt: 5003,
                chipHours: office.chipHours,
                slice: office.slice,
            },
        );
    });

    it("a run already complete in its manifest runs no job: its steps return the recorded values", async () => {
        const office = built.outputs.runs.office;
        const entry = {
            ...built.mocks.handoffEntries.find((e) => e.run === "office"),
            recordedAt: "2026-11-29T10:00:00Z",
        };
        const again = await buildTrainStack(undefined, (m) => (m.recallEntries = { [office.runId]: entry }));
        const commands = again.mocks.ofType("command:remote:Command");
        const officeSteps = commands.filter((c) => /^office-(launch|wait|locate|upload)/.test(c.name));
        assert.strictEqual(officeSteps.length, 4 + 4 + 4 + 1);
        for (const c of officeSteps) {
            assert.match(
                c.inputs.create,
                new RegExp(
                    `^echo '[a-z]+: run ${office.runId} is complete \\(recorded 2026-11-29T10:00:00Z in its handoff manifest, checkpoints verified\\); not running it again' >&2; printf`,
                ),
                c.name,
            );
        }
        // The other run is new: it launches for real.
        const industrialLaunch = commands.find((c) => c.name === "industrial-launch-w0");
        assert.ok(industrialLaunch?.inputs.create.endsWith(`bash "$HOME/${stepShipment("launch").script}"`));
        const recalled = again.outputs.runs.office;
        assert.strictEqual(recalled.recalled, true);
        assert.strictEqual(again.outputs.runs.industrial.recalled, false);
        assert.deepStrictEqual(recalled.checkpoints, office.checkpoints);
        assert.deepStrictEqual(recalled.exitCodes, [0, 0, 0, 0]);
        assert.strictEqual(recalled.process0Worker, 2);
        assert.strictEqual(recalled.trainSeconds, 5003 - 1000);
        assert.strictEqual(recalled.chipHours, office.chipHours);
        assert.deepStrictEqual(recalled.logUris, office.logUris);
        // Recording it again gives the same entry (the step keeps its first recordedAt).
        const { recordedAt, ...recorded } = entry;
        assert.ok(recordedAt);
        assert.deepStrictEqual(
            again.mocks.handoffEntries.find((e) => e.run === "office"),
            recorded,
        );
    });

    it("gives identical command inputs on a second evaluation of unchanged config (nothing re-runs)", async () => {
        const again = await buildTrainStack();
        const creates = (m: StackMocks) => m.ofType("command:remote:Command").map((c) => [c.name, c.inputs.create]);
        assert.deepStrictEqual(creates(again.mocks), creates(built.mocks));
    });

    it("moving the slice to another zone (a stockout) keeps every run id, so handed-off runs are not retrained", async () => {
        const moved = await buildTrainStack((v) => (v.tpu.zone = "us-east1-d"));
        const runIds = (m: StackMocks) =>
            m
                .ofType("command:remote:Command")
                .map((c) => /RUN_ID=(\S+)/.exec(c.inputs.create)?.[1])
                .filter((id): id is string => id !== undefined)
                .sort();
        assert.ok(runIds(built.mocks).length > 0);
        assert.deepStrictEqual(runIds(moved.mocks), runIds(built.mocks));
        assert.strictEqual(moved.mocks.ofType("gcp:tpu/v2Vm:V2Vm")[0].inputs.zone, "us-east1-d");
    });

    it("changing one run's config changes only that run's commands", async () => {
        const changed = await buildTrainStack(
            (v) => (v.train.runs[1].config = v.train.runs[1].config.replace("full_best", "full_last")),
        );
        const before = new Map(built.mocks.ofType("command:remote:Command").map((c) => [c.name, c.inputs.create]));
        const differing = changed.mocks
            .ofType("command:remote:Command")
            .filter((c) => before.get(c.name) !== c.inputs.create)
            .map((c) => c.name.replace(/-w\d$/, "-w*"));
        assert.deepStrictEqual([...new Set(differing)].sort(), [
            "industrial-handoff",
            "industrial-launch-w*",
            "industrial-locate-w*",
            "industrial-recall",
            "industrial-wait-w*",
        ]);
    });
});

/** The checked-in train stack's slice alone (machines, identify, bootstrap), under `mocks`. */
async function provisionTrainSlice(mocks: StackMocks) {
    await pulumi.runtime.setMocks(mocks, "tpu-sft", "train", false);
    pulumi.runtime.setAllConfig(
        {
            ...asPulumiConfig(stackFileValues("train")),
            "gcp:project": "my-proj",
            "tpu-sft:wandbApiKey": WANDB_CANARY,
        },
        ["tpu-sft:wandbApiKey"],
    );
    const { readStackConfig } = await import("../components/config/readStackConfig");
    const { provisionSlice } = await import("../components/slice");
    const { config, secrets } = readStackConfig();
    return provisionSlice(config, secrets);
}

describe("train stack under mocks, when a worker's address leads to another machine", function () {
    this.timeout(30000);

    it("is refused before bootstrap: no command carries the W&B key and no step script is copied there", async () => {
        const mocks = new StackMocks();
        mocks.hostnameOf = (worker) => (worker === 1 ? "mail-server" : `t1v-n-mock-w-${worker}`);
        const slice = await provisionTrainSlice(mocks);
        const identities = slice.bootstrap.identities as unknown as { promise(): Promise<unknown> };
        await assert.rejects(
            identities.promise(),
            /^Error: bootstrap: the hosts at the slice's addresses are not its workers, so nothing secret is sent to them: worker 1 answers as host 'mail-server', not t1v-n-<id>-w-1\. .* Fix: run `pulumi up --refresh`/,
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepStrictEqual(
            mocks
                .ofType("command:remote:Command")
                .map((c) => c.name)
                .sort(),
            [0, 1, 2, 3].map((w) => `bootstrap-identify-w${w}`),
        );
        assert.deepStrictEqual(
            [...new Set(mocks.ofType("command:remote:CopyToRemote").map((c) => c.name.replace(/-w\d$/, "")))].sort(),
            ["bootstrap-copy-identify"],
        );
    });
});

describe("train stack under mocks, when the TPU VM was preempted", function () {
    this.timeout(30000);

    it("fails before any step dials a worker, saying so and naming the recovery commands", async () => {
        const mocks = new StackMocks();
        // The stored state still says READY (no refresh since): the read of the node made on every deployment
        // is what finds it preempted.
        mocks.vmState = "READY";
        mocks.liveVmState = "PREEMPTED";
        const slice = await provisionTrainSlice(mocks);
        const addresses = slice.hosts.addresses as unknown as { promise(): Promise<unknown> };
        await assert.rejects(
            addresses.promise(),
            /^Error: slice mllm-jax-v6e-16-sft was preempted: its hosts are gone and it cannot be restarted, only replaced\. Recover with `npm run supervise -- --stack train` \(replaces the slice, bootstraps the fresh hosts and relaunches unfinished runs\), or by hand: `pulumi up --replace 'urn:pulumi:train::tpu-sft::tpu-sft:tpu:TpuVm\$gcp:tpu\/v2Vm:V2Vm::tpu-vm' --stack train`\.$/,
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepStrictEqual(mocks.ofType("command:remote:Command"), []);
        assert.deepStrictEqual(
            mocks.reads.map((r) => [r.type, r.name, r.id]),
            [["gcp:tpu/v2Vm:V2Vm", "tpu-live", "tpu-vm-id"]],
        );
    });
});
