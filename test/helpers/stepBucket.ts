// One remote step run for real by bash, with the exact command strings the program sends, in a worker-like home,
// against a real GCS-compatible server (the rehearsal's fake-gcs-server, from the cached toolchain build) reached by
// the real gcloud through the same storage settings the local target uses. Registers the suite's before/after
// hooks; the suite is skipped when the toolchain has not been built (npm test builds it first).
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { StepName, stepShipment } from "../../components/steps/stepScript";
import { createBucket, Emulator, startEmulator } from "../rehearsal/emulator";
import { REPO_ROOT } from "./trainConfig";

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

export interface StepRun {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export interface StepBucket {
    /** The storage settings the step's command carries; filled in by the suite's `before`. */
    readonly storageEnv: Record<string, string>;
    /** The worker-like home the step runs in, with the step's shipment in place. */
    home(): string;
    /** The emulator's endpoint, for reading the bucket as the program does. */
    endpoint(): string;
    /** Runs a command as the provider would: `sh -c`, in the home, with only PATH, HOME and gcloud's config dir. */
    run(command: string): Promise<StepRun>;
    /** Puts `content` at gs://<bucket>/`name` with gcloud; returns its {uri, size, crc32c} as GCS reports them. */
    putObject(name: string, content: string): { uri: string; size: number; crc32c: string };
    readObject(uri: string): string;
}

export function useStepBucket(bucket: string, step: StepName): StepBucket {
    let work = "";
    let emulator: Emulator | undefined;
    const storageEnv: Record<string, string> = {};
    const home = () => path.join(work, "w0");
    const gcloudEnv = () => ({ ...process.env, ...storageEnv, CLOUDSDK_CONFIG: path.join(work, "gcloud") });

    before(async function () {
        let bin: string;
        try {
            // Only a toolchain already built (npm test builds it first); building it here would take minutes.
            bin = execFileSync("bash", [path.join(REPO_ROOT, "test/toolchain/build.sh"), "--installed"], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "ignore"],
            })
                .trim()
                .split("\n")
                .pop()!;
        } catch {
            this.skip();
        }
        if (!fs.existsSync(path.join(bin, "fake-gcs-server"))) this.skip();
        work = fs.mkdtempSync(path.join(os.tmpdir(), `${step}-step-`));
        emulator = await startEmulator(bin, "127.0.0.1", await freePort(), path.join(work, "gcs"));
        await createBucket(emulator.endpoint, bucket);
        Object.assign(storageEnv, {
            CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `${emulator.endpoint}/`,
            CLOUDSDK_AUTH_DISABLE_CREDENTIALS: "True",
            CLOUDSDK_CORE_PROJECT: "rehearsal",
            CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_ENABLED: "False",
            CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_THRESHOLD: "0",
        });
        for (const file of stepShipment(step).files) {
            fs.mkdirSync(path.dirname(path.join(home(), file.remote)), { recursive: true });
            fs.copyFileSync(file.local, path.join(home(), file.remote));
        }
    });

    after(async () => {
        await emulator?.stop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    return {
        storageEnv,
        home,
        endpoint: () => {
            if (!emulator) throw new Error("the emulator is not running (called outside the suite's tests)");
            return emulator.endpoint;
        },
        run: (command) =>
            new Promise((resolve) => {
                const child = spawn("sh", ["-c", command], {
                    env: { PATH: process.env.PATH, HOME: home(), CLOUDSDK_CONFIG: path.join(work, "gcloud") },
                    cwd: home(),
                });
                let stdout = "";
                let stderr = "";
                child.stdout.on("data", (d) => (stdout += d));
                child.stderr.on("data", (d) => (stderr += d));
                child.on("close", (code) => resolve({ code, stdout, stderr }));
            }),
        putObject(name, content) {
            const file = path.join(work, "upload.tmp");
            fs.writeFileSync(file, content);
            const uri = `gs://${bucket}/${name}`;
            execFileSync("gcloud", ["storage", "cp", file, uri], { env: gcloudEnv(), stdio: "ignore" });
            const [size, crc32c] = execFileSync(
                "gcloud",
                ["storage", "objects", "describe", uri, "--format=value(size,crc32c_hash)"],
                { env: gcloudEnv(), encoding: "utf8" },
            )
                .trim()
                .split("\t");
            return { uri, size: Number(size), crc32c };
        },
        readObject: (uri) => execFileSync("gcloud", ["storage", "cat", uri], { env: gcloudEnv(), encoding: "utf8" }),
    };
}
