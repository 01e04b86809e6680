// fake-gcs-server as the rehearsal's bucket: served on the hosts' bridge address so gcloud on the hosts and
// @google-cloud/storage in the program reach the same objects.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface Emulator {
    readonly endpoint: string;
    readonly process: ChildProcess;
    stop(): Promise<void>;
}

export async function startEmulator(bin: string, address: string, port: number, root: string): Promise<Emulator> {
    fs.mkdirSync(root, { recursive: true });
    const endpoint = `http://${address}:${port}`;
    const log = fs.openSync(path.join(root, "..", "fake-gcs-server.log"), "a");
    const child = spawn(
        path.join(bin, "fake-gcs-server"),
        [
            "-scheme",
            "http",
            "-host",
            address,
            "-port",
            String(port),
            "-backend",
            "filesystem",
            "-filesystem-root",
            root,
            "-public-host",
            `${address}:${port}`,
            "-external-url",
            endpoint,
            "-log-level",
            "warn",
        ],
        { stdio: ["ignore", log, log] },
    );
    const deadline = Date.now() + 30000;
    for (;;) {
        try {
            const res = await fetch(`${endpoint}/storage/v1/b?project=rehearsal`);
            if (res.ok) break;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline || child.exitCode !== null) {
            throw new Error(
                `fake-gcs-server did not start on ${endpoint} (see ${path.join(root, "..", "fake-gcs-server.log")})`,
            );
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    return {
        endpoint,
        process: child,
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}

export async function createBucket(endpoint: string, name: string): Promise<void> {
    const res = await fetch(`${endpoint}/storage/v1/b?project=rehearsal`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name }),
    });
    if (!res.ok && res.status !== 409)
        throw new Error(`creating bucket ${name}: HTTP ${res.status} ${await res.text()}`);
}

export interface ObjectInfo {
    readonly name: string;
    readonly size: number;
    readonly crc32c: string;
}

export async function listObjects(endpoint: string, bucket: string): Promise<ObjectInfo[]> {
    const res = await fetch(`${endpoint}/storage/v1/b/${bucket}/o`);
    if (!res.ok) throw new Error(`listing gs://${bucket}: HTTP ${res.status}`);
    const body = (await res.json()) as { items?: { name: string; size: string; crc32c: string }[] };
    return (body.items ?? []).map((o) => ({ name: o.name, size: Number(o.size), crc32c: o.crc32c }));
}

export async function readObjectBytes(endpoint: string, bucket: string, name: string): Promise<Buffer> {
    const res = await fetch(`${endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`);
    if (!res.ok) throw new Error(`reading gs://${bucket}/${name}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
}

export async function readObjectText(endpoint: string, bucket: string, name: string): Promise<string> {
    return (await readObjectBytes(endpoint, bucket, name)).toString("utf8");
}

/** Writes an object directly, as someone replacing it in the bucket would. */
export async function putObject(endpoint: string, bucket: string, name: string, body: Buffer | string): Promise<void> {
    const res = await fetch(
        `${endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`,
        { method: "POST", body },
    );
    if (!res.ok) throw new Error(`writing gs://${bucket}/${name}: HTTP ${res.status}`);
}
