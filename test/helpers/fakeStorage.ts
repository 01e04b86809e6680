// A stand-in for the Cloud Storage API as @google-cloud/storage presents it: objects served from memory.
// Mock tests install it so the eval stack's bucket reads run without a network; the rehearsal uses a real
// GCS-compatible server instead.
import * as path from "path";

export const objects = new Map<string, Buffer>();

class FakeFile {
    constructor(
        private readonly bucket: string,
        private readonly name: string,
    ) {}
    private data(): Buffer {
        const data = objects.get(`gs://${this.bucket}/${this.name}`);
        // As the library reports a missing object: an ApiError with code 404.
        if (!data) throw Object.assign(new Error(`No such object: ${this.bucket}/${this.name}`), { code: 404 });
        return data;
    }
    async download(): Promise<[Buffer]> {
        return [this.data()];
    }
    async getMetadata(): Promise<[{ size: string; crc32c: string }]> {
        const data = this.data();
        return [{ size: String(data.length), crc32c: crc32cBase64(data) }];
    }
}

/** crc32c (Castagnoli) as GCS reports it: the big-endian 4 bytes in base64. */
export function crc32cBase64(data: Buffer): string {
    let crc = 0xffffffff;
    for (const byte of data) {
        crc ^= byte;
        for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
    const out = Buffer.alloc(4);
    out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
    return out.toString("base64");
}

class FakeStorage {
    bucket(name: string) {
        return { file: (object: string) => new FakeFile(name, object) };
    }
}

const storageId = () => require.resolve("@google-cloud/storage", { paths: [path.resolve(__dirname, "..", "..")] });

/** Makes `require("@google-cloud/storage")` return the in-memory stand-in in this process, until removed. */
export function installFakeStorage(): void {
    const id = storageId();
    require.cache[id] = { id, filename: id, loaded: true, exports: { Storage: FakeStorage } } as unknown as NodeModule;
}

export function fakeStorageInstalled(): boolean {
    return require.cache[storageId()]?.exports?.Storage === FakeStorage;
}

export function removeFakeStorage(): void {
    delete require.cache[storageId()];
}
