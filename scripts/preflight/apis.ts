/**
 * Plain authenticated REST calls to the documented Google API endpoints, through google-auth-library's client
 * (application-default credentials). HTTP errors come back as a status and Google's JSON error, never thrown,
 * so each check decides what a 403 or 404 means. The API roots are injectable so tests serve recorded
 * responses from a local HTTP server.
 */
import { AuthClient, gaxios } from "google-auth-library";

/** The documented roots of the APIs preflight reads. */
export const API_ROOTS = {
    cloudresourcemanager: "https://cloudresourcemanager.googleapis.com",
    serviceusage: "https://serviceusage.googleapis.com",
    cloudquotas: "https://cloudquotas.googleapis.com",
    compute: "https://compute.googleapis.com",
    storage: "https://storage.googleapis.com",
    iam: "https://iam.googleapis.com",
} as const;

export type ApiName = keyof typeof API_ROOTS;

/** Every API under one root, as `<root>/<api name>` (the tests' local server); undefined keeps Google's roots. */
export function apiRoots(override?: string): Record<ApiName, string> {
    if (!override) return { ...API_ROOTS };
    const base = override.replace(/\/+$/, "");
    return Object.fromEntries(Object.keys(API_ROOTS).map((api) => [api, `${base}/${api}`])) as Record<ApiName, string>;
}

export interface ApiResponse {
    readonly status: number;
    readonly data: unknown;
}

/** What preflight needs from an auth client: google-auth-library's authenticated `request`. */
export type RequestClient = Pick<AuthClient, "request">;

export class GoogleApis {
    constructor(
        private readonly client: RequestClient,
        private readonly roots: Record<ApiName, string>,
    ) {}

    get(api: ApiName, path: string): Promise<ApiResponse> {
        return this.call("GET", api, path);
    }

    post(api: ApiName, path: string, body: unknown): Promise<ApiResponse> {
        return this.call("POST", api, path, body);
    }

    private async call(method: "GET" | "POST", api: ApiName, path: string, body?: unknown): Promise<ApiResponse> {
        try {
            const response = await this.client.request<unknown>({
                url: `${this.roots[api]}${path}`,
                method,
                data: body,
                responseType: "json",
                retry: false,
            });
            return { status: response.status, data: response.data };
        } catch (err) {
            if (err instanceof gaxios.GaxiosError && err.response) {
                return { status: err.response.status, data: err.response.data };
            }
            throw err;
        }
    }
}

/** Google's JSON error message (`{"error": {"message": ...}}`), or the HTTP status. */
export function apiError(response: ApiResponse): string {
    const data = response.data as { error?: { message?: unknown } } | undefined;
    const message = data && typeof data === "object" ? data.error?.message : undefined;
    return typeof message === "string" && message !== ""
        ? `${message} (HTTP ${response.status})`
        : `HTTP ${response.status}`;
}

/** The fix when Google refuses a user-credential call for want of a quota project. */
export function quotaProjectHint(response: ApiResponse, project: string): string | undefined {
    return /quota project/i.test(apiError(response))
        ? `gcloud auth application-default set-quota-project ${project}`
        : undefined;
}
