/**
 * Reads eval artifacts back from the bucket with @google-cloud/storage, so the TypeScript metrics are
 * computed from what is stored, not from what a host claims. On the local target the client talks to the
 * emulator named in config; on GCP it uses application-default credentials.
 */
import type { Storage as StorageClient } from "@google-cloud/storage";

export interface BucketReaderOptions {
    /** The GCS-compatible endpoint (the rehearsal's emulator); undefined for real GCS. */
    readonly apiEndpoint?: string;
    readonly projectId: string;
}

export function parseGcsUri(uri: string): { bucket: string; object: string } {
    const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!match) throw new Error(`not a gs:// object URI: ${uri}`);
    return { bucket: match[1], object: match[2] };
}

export async function readObject(uri: string, options: BucketReaderOptions): Promise<Buffer> {
    // Loaded on first use: only an eval stack reads the bucket, and the client library is large.
    const { Storage } = (await import("@google-cloud/storage")) as { Storage: typeof StorageClient };
    const storage = new Storage(
        options.apiEndpoint
            ? { apiEndpoint: options.apiEndpoint, projectId: options.projectId }
            : { projectId: options.projectId },
    );
    const { bucket, object } = parseGcsUri(uri);
    try {
        const [contents] = await storage.bucket(bucket).file(object).download();
        return contents;
    } catch (err) {
        throw new Error(
            `could not read ${uri}${options.apiEndpoint ? ` from ${options.apiEndpoint}` : ""}: ${(err as Error).message}`,
            { cause: err },
        );
    }
}
