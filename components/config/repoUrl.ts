/**
 * Which repository URLs reach `git clone`: https, ssh and scp-style git forms on GCP; the offline rehearsal
 * (target local) also clones from an absolute local path or a file:// URL. Nothing that git or a shell could read
 * as an option or a transport: no leading '-', no `<transport>::` form (ext:: runs a command), no control
 * characters, and no whitespace except inside a local path.
 */

export type RepoUrlKind = "https" | "ssh" | "scp" | "local";

export interface RepoUrlCheck {
    readonly kind?: RepoUrlKind;
    readonly problem?: string;
}

const HOST = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

export function classifyRepoUrl(url: string): RepoUrlCheck {
    if (url.length === 0) return { problem: "is empty" };
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(url)) return { problem: "contains a control character" };
    if (url.startsWith("-")) return { problem: "starts with '-', which git would read as an option" };
    if (/^[A-Za-z0-9][A-Za-z0-9+.-]*::/.test(url)) {
        return { problem: "uses a `<transport>::<address>` form (such as ext::), which can run commands" };
    }
    if (url.startsWith("/") || url.startsWith("file://")) {
        const path = url.startsWith("file://") ? url.slice("file://".length) : url;
        if (!path.startsWith("/"))
            return { problem: "a file:// URL must name an absolute path (file:///srv/repo.git)" };
        if (path.split("/").includes("..")) return { problem: "a local path must not contain '..'" };
        return { kind: "local" };
    }
    if (/\s/.test(url)) return { problem: "contains whitespace" };
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
    if (scheme) {
        const name = scheme[1].toLowerCase();
        if (name !== "https" && name !== "ssh") {
            return { problem: `uses ${name}://; only https://, ssh:// and scp-style user@host:path are accepted` };
        }
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            return { problem: `is not a valid ${name}:// URL` };
        }
        if (!HOST.test(parsed.hostname) && !/^\[[0-9a-fA-F:.]+\]$/.test(parsed.hostname)) {
            return { problem: "has no valid host name" };
        }
        if (parsed.pathname.length <= 1) return { problem: "names no repository path after the host" };
        if (name === "https" && (parsed.username || parsed.password)) {
            return {
                problem:
                    "embeds credentials, which would be stored in the Pulumi state and shown in logs; use a credential helper or a deploy key",
            };
        }
        if (parsed.password) return { problem: "embeds a password" };
        return { kind: name === "https" ? "https" : "ssh" };
    }
    const scp = /^(?:([A-Za-z0-9_][A-Za-z0-9_.-]*)@)?([^@:/]+):(.+)$/.exec(url);
    if (scp) {
        if (!HOST.test(scp[2])) return { problem: "has no valid host name before ':'" };
        if (scp[3].startsWith("-")) return { problem: "has a path that starts with '-'" };
        return { kind: "scp" };
    }
    return {
        problem:
            "is not a git URL this program accepts: https://host/path, ssh://[user@]host/path or user@host:path (and, for target local, an absolute path)",
    };
}
