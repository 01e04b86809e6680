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
    async download(): Promise<[Buffer]> {
        const data = objects.get(`gs://${this.bucket}/${this.name}`);
        if (!data) throw new Error(`No such object: ${this.bucket}/${this.name}`);
        return [data];
    }
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

export function removeFakeStorage(): void {
    delete require.cache[storageId()];
}
