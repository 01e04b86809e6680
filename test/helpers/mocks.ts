// Pulumi mocks for the cloud APIs we cannot reach: they record every resource and answer each remote step
// with the one result line its script would print, so the program's wiring and parsing run for real. The
// step scripts' copies (command:remote:CopyToRemote) are recorded and answer with their inputs.
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { crossCheckInput, runCrossCheck } from "../../components/metrics/bucketCrossCheck";
import { crc32cBase64, objects } from "./fakeStorage";
import { RESULT_MARKER } from "../../components/steps/stepResult";

/**
 * A value Pulumi hands the mocks: untyped JSON (resource inputs and state) that the tests read by known paths.
 * The one `any` of the mock tests, so each reading site stays short.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Untyped = any;

export interface Recorded {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, Untyped>;
    /** The ID passed with the `import` resource option (or to a `.get`), if any. */
    readonly id?: string;
}

export const FAKE_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForMockTestsOnly00000000000000000";
export const CRC = { best: "IcOvzQ==", last: "AAAAAA==" };
/** The SSH host key every mocked worker reports to the identify step. */
export const FAKE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfMockWorkers0000000000000000000";

/** Answers remote steps; the checkpoint holder is worker `holder` (process 0 on a non-zero worker, as on the SOP's v6e-16). */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded input was a Pulumi secret (mocks see secrets wrapped with the secret signature). */
export function isSecret(value: unknown): boolean {
    return (
        typeof value === "object" &&
        value !== null &&
        (value as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === SECRET_SIG
    );
}

/** The plain value of a recorded input, secret or not. */
export function plain<T = Untyped>(value: unknown): T {
    return (isSecret(value) ? (value as Record<string, unknown>).value : value) as T;
}

/** What the eval-side steps answer; defaults come from a calc.py reference case (upstream's own numbers). */
export interface EvalAnswers {
    /** calc.py's stdout tail. */
    calcTail: string;
    /** eval_predictions.metrics.json as the evaluator writes it. */
    metrics: Record<string, unknown>;
    wandbUrl: string;
}

export class StackMocks implements pulumi.runtime.Mocks {
    readonly resources: Recorded[] = [];
    /** The manifest entries the handoff steps were asked to record, in order. */
    readonly handoffEntries: Untyped[] = [];
    /** The eval record entries the evalrecord steps were asked to write, in order. */
    readonly evalRecordEntries: Untyped[] = [];
    /**
     * When true, the evalrecord step also writes its record into the in-memory bucket (helpers/fakeStorage), as
     * scripts/remote/evalrecord.sh does into the real one, so a later evaluation of the stack finds it.
     */
    writeEvalRecords = false;
    /** Manifest entries the recall step finds complete, by run id (none by default: every run is new). */
    recallEntries: Record<string, Untyped> = {};
    /** Eval record entries the eval side's recall step finds complete, by eval run id (none by default). */
    evalRecallEntries: Record<string, Untyped> = {};
    /** The newest manifest entry the eval side's handoff step finds, by manifest URI. */
    latestEntries: Record<string, Untyped> = {};
    /** Outputs of the train stack a StackReference reads; undefined makes the reference fail like a missing stack. */
    trainStackOutputs: Record<string, unknown> | undefined;
    evalAnswers: EvalAnswers | undefined;
    /** The hostname worker i reports to identify; a TPU VM worker's name by default. */
    hostnameOf: (worker: number) => string = (worker) => `t1v-n-mock-w-${worker}`;
    /** The TPU node's state in the stack's stored state (what the last update or refresh saw). */
    vmState = "READY";
    /** The TPU node's state as a read now returns it (`V2Vm.get`); vmState when unset. */
    liveVmState: string | undefined;
    /** Reads of existing cloud objects (`Resource.get`), apart from the resources the program manages. */
    readonly reads: Recorded[] = [];
    constructor(
        private readonly holder = 2,
        private readonly workers = 4,
    ) {}

    newResource(
        args: pulumi.runtime.MockResourceArgs,
    ): { id: string; state: Record<string, Untyped> } | Promise<{ id: string; state: Record<string, Untyped> }> {
        if (args.type === "command:local:Command" && args.name.endsWith("-cross-check")) {
            return this.crossCheck(args);
        }
        // A `get` sends an id and no inputs (an import sends both).
        const read = Boolean(args.id) && Object.keys(args.inputs).length === 0;
        (read ? this.reads : this.resources).push({
            type: args.type,
            name: args.name,
            inputs: args.inputs,
            id: args.id || undefined,
        });
        const state: Record<string, Untyped> = { ...args.inputs };
        switch (args.type) {
            case "gcp:serviceaccount/account:Account":
                state.email = `${args.inputs.accountId}@${args.inputs.project}.iam.gserviceaccount.com`;
                break;
            case "gcp:tpu/v2Vm:V2Vm":
                state.state = read ? (this.liveVmState ?? this.vmState) : this.vmState;
                state.networkEndpoints = Array.from({ length: this.workers }, (_, i) => ({
                    ipAddress: `10.0.0.${i + 2}`,
                    port: 8470,
                    accessConfigs: [{ externalIp: `34.1.2.${i + 10}` }],
                }));
                break;
            case "command:local:Command":
                state.stdout = JSON.stringify({
                    privateKey: "-----BEGIN PRIVATE KEY-----\nMOCK\n-----END PRIVATE KEY-----\n",
                    publicKey: FAKE_PUBLIC_KEY,
                });
                break;
            case "pulumi:pulumi:StackReference":
                if (!this.trainStackOutputs) {
                    throw new Error(`unknown stack "${args.inputs.name}"`);
                }
                state.outputs = this.trainStackOutputs;
                break;
            case "command:remote:Command":
                state.stdout = this.remoteStdout(args.inputs);
                state.stderr = "";
                break;
        }
        return { id: `${args.name}-id`, state };
    }

    /**
     * The cross-check step runs the product's own check, in this process, against whatever @google-cloud/storage
     * serves here (the in-memory stand-in in the eval tests); a disagreement fails the resource as the step would.
     */
    private async crossCheck(
        args: pulumi.runtime.MockResourceArgs,
    ): Promise<{ id: string; state: Record<string, Untyped> }> {
        this.resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        if (args.inputs.create.startsWith("echo ")) {
            // A recalled eval run's check (components/lifecycle/recordedEval.ts) only says it does not run again.
            return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "", stderr: "" } };
        }
        const input = crossCheckInput.parse(JSON.parse(args.inputs.environment.TPU_SFT_CROSS_CHECK));
        const result = await runCrossCheck(input);
        return {
            id: `${args.name}-id`,
            state: { ...args.inputs, stdout: `${RESULT_MARKER}${JSON.stringify(result)}`, stderr: "" },
        };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, Untyped> {
        throw new Error(`Mock call not implemented: ${args.token}`);
    }

    private remoteStdout(inputs: Record<string, Untyped>): string {
        const create: string = inputs.create;
        if (create.startsWith("echo ")) {
            // A recorded result (components/lifecycle/recorded.ts): the command only prints; run it as it is.
            return execFileSync("sh", ["-c", create], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        }
        const step = /\/([a-z]+)\.sh"$/.exec(create)?.[1] ?? create.split(" ").pop();
        const worker = this.workerOf(plain(inputs.connection)?.host ?? "");
        const host = this.hostnameOf(worker);
        const env = (name: string) => {
            const m = new RegExp(`(?:^| )${name}=('[^']*'|\\S+)`).exec(create);
            return m ? m[1].replace(/^'|'$/g, "") : "";
        };
        const result = (value: unknown) => `some log line\nTPU_SFT_RESULT ${JSON.stringify(value)}`;
        switch (step) {
            case "identify":
                return result({ host, hostKey: FAKE_HOST_KEY, bootedAt: 900 + worker });
            case "bootstrap":
                return result({
                    host,
                    mllmJaxCommit: "03455fc".padEnd(40, "0"),
                    miniOneRecCommit: "81b4ba9".padEnd(40, "0"),
                    envMode: "conda",
                    python: "3.12.12",
                    envReused: false,
                });
            case "launch":
                return result({ host, state: "none", runDir: `/root/tpu-sft-runs/${env("RUN_ID")}` });
            case "wait": {
                // The industrial run comes second on its slice (train and eval): its job runs 5000 s later.
                const later = env("RUN_ID").startsWith("industrial-") ? 5000 : 0;
                return result({
                    host,
                    exitCode: 0,
                    attempt: 1,
                    processIndex: (worker - this.holder + this.workers) % this.workers,
                    startedAt: 1000 + later + worker,
                    finishedAt: 5000 + later + worker,
                    logUri: env("LOG_URI"),
                });
            }
            case "locate": {
                const files: Record<string, unknown> = {};
                if (worker === this.holder) {
                    for (const kind of env("KINDS").split(",")) {
                        files[kind] = {
                            path: `/root/MLLM-JAX/${env("OUTPUT_DIR")}/sft_state_${kind}.msgpack`,
                            size: 3_560_000_000,
                            crc32c: CRC[kind as "best" | "last"],
                            fresh: true,
                        };
                    }
                }
                return result({ host, processIndex: worker === this.holder ? 0 : null, files });
            }
            case "upload":
                return result({
                    uri: env("DEST_URI"),
                    size: Number(env("EXPECT_SIZE")),
                    crc32c: env("EXPECT_CRC32C"),
                    skipped: false,
                });
            case "handoff":
                if (env("MODE") === "latest") {
                    const entry = this.latestEntries[env("HANDOFF_URI")];
                    if (!entry) throw new Error(`mock: no handoff manifest at ${env("HANDOFF_URI")}`);
                    return result({ state: "complete", entry, reason: "" });
                }
                if (env("MODE") === "recall") {
                    const entry = this.recallEntries[env("RUN_ID")];
                    return result(
                        entry ? { state: "complete", entry, reason: "" } : { state: "absent", entry: null, reason: "" },
                    );
                }
                this.handoffEntries.push(JSON.parse(env("ENTRY_JSON")));
                return result({ uri: env("HANDOFF_URI"), entries: 1, size: 1234, crc32c: "AAAAAA==" });
            case "download":
                return result({
                    path: `/root/MLLM-JAX/runs/x/sft_state_${env("KIND")}.msgpack`,
                    size: Number(env("EXPECT_SIZE")),
                    crc32c: env("EXPECT_CRC32C"),
                    skipped: false,
                });
            case "evalreport":
                return result({
                    host,
                    wandbUrl: this.eval().wandbUrl,
                    predictionsPath: `/root/MLLM-JAX/${env("OUTPUT_DIR")}/eval_predictions.json`,
                    metrics: this.eval().metrics,
                });
            case "calc":
                return result({
                    host,
                    stdoutPath: "/root/tpu-sft-runs/x/calc.stdout",
                    stdoutLines: 5,
                    tail: this.eval().calcTail,
                });
            case "artifacts": {
                const prefix = env("DEST_PREFIX");
                // An object already in the in-memory bucket is reported as it is there (the step verifies its copy).
                const entry = (file: string) => {
                    const held = objects.get(`${prefix}/${file}`);
                    return held
                        ? { uri: `${prefix}/${file}`, size: held.length, crc32c: crc32cBase64(held) }
                        : { uri: `${prefix}/${file}`, size: 10, crc32c: "AAAAAA==" };
                };
                return result(
                    Object.fromEntries(
                        [
                            "eval_predictions.json",
                            "eval_predictions.metrics.json",
                            "eval.log",
                            "calc.stdout",
                            "items.txt",
                        ].map((f) => [f, entry(f)]),
                    ),
                );
            }
            case "evalrecord": {
                if (env("MODE") === "recall") {
                    const recorded = this.evalRecallEntries[env("RUN_ID")];
                    return result(
                        recorded
                            ? { state: "complete", entry: recorded, reason: "" }
                            : { state: "absent", entry: null, reason: "" },
                    );
                }
                const entry = { ...JSON.parse(env("ENTRY_JSON")), recordedAt: "2026-11-29T21:00:00Z" };
                this.evalRecordEntries.push(entry);
                const uri = env("RECORD_URI");
                if (this.writeEvalRecords) {
                    const current = objects.get(uri);
                    const doc = current
                        ? JSON.parse(current.toString("utf8"))
                        : { schemaVersion: 1, run: env("EVAL_RUN"), entries: {} };
                    doc.entries[entry.runId] = entry;
                    objects.set(uri, Buffer.from(JSON.stringify(doc)));
                }
                return result({ uri, entries: 1, size: 1234, crc32c: "AAAAAA==", recordedAt: entry.recordedAt });
            }
            default:
                throw new Error(`mock: unknown step ${step}`);
        }
    }

    private eval(): EvalAnswers {
        if (!this.evalAnswers) throw new Error("mock: evalAnswers not set");
        return this.evalAnswers;
    }

    private workerOf(host: string): number {
        const m = /\.(\d+)$/.exec(host);
        if (!m) return 0;
        const last = Number(m[1]);
        return last >= 10 ? last - 10 : last - 2;
    }

    ofType(type: string): Recorded[] {
        return this.resources.filter((r) => r.type === type);
    }
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) =>
        output.apply((v) => {
            resolve(v);
            return v;
        }),
    );
}
