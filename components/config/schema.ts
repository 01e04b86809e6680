/**
 * The stack configuration as zod schemas, one per top-level key. Every object is strict (an unknown key is an
 * error), every identifier is checked as the tool or cloud that receives it checks it, and every number is a
 * finite whole number within bounds. Values arrive as the Pulumi engine gives them: `pulumi config set --path`
 * stores "true"/"false" as booleans and digit strings as integers, so text fields that may be all digits (a
 * commit, a label value) accept a safe integer, and number fields accept digit strings.
 */
import { z } from "zod";
import { crc32cSchema } from "../checkpointRef";
import { RUN_NAME_PATTERN } from "../runIdentity";
import { canonicalAcceleratorType, knownAcceleratorTypes, parseAcceleratorType, ZONE_PATTERN } from "./accelerators";
import {
    checkBucketLocation,
    checkBucketName,
    checkCidr,
    checkHost,
    checkLabelKey,
    checkLabelValue,
    checkNetwork,
    checkResourceName,
    checkServiceAccountEmail,
    checkSubnetwork,
} from "./identifiers";
import { classifyRepoUrl } from "./repoUrl";
import { normalizeRepoPath } from "./repoPath";

type Check = (value: string) => string | undefined;

/** Text, checked by `check`; a safe integer is taken as its digits when `digitsAsText` (see the file comment). */
function text(check?: Check, options: { digitsAsText?: boolean } = {}) {
    const base = z.string().superRefine((value, ctx) => {
        const problem = check?.(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
    if (!options.digitsAsText) return base;
    return z.preprocess((v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : v), base);
}

/** Text matching `pattern`, else `message`. */
function matching(pattern: RegExp, message: string) {
    return text((value) => (pattern.test(value) ? undefined : message));
}

const boolish = z.preprocess((value) => {
    if (value === "true") return true;
    if (value === "false") return false;
    return value;
}, z.boolean());

/** A finite whole number in [min, max]; digit strings count (see the file comment). */
export function intish(min: number, max: number) {
    const message = `must be a whole number from ${min} to ${max}`;
    return z.preprocess(
        (value) => (typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value.trim()) : value),
        z.number({ error: message }).superRefine((n, ctx) => {
            if (!Number.isInteger(n) || n < min || n > max) ctx.addIssue({ code: "custom", message });
        }),
    );
}

/** A price in USD per chip-hour: a positive decimal up to 1000; decimal strings count (see the file comment). */
const usdPerHour = z.preprocess(
    (value) => (typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value.trim()) : value),
    z.number({ error: "must be a price in USD per chip-hour, e.g. 2.7" }).superRefine((n, ctx) => {
        if (!Number.isFinite(n) || n <= 0 || n > 1000) {
            ctx.addIssue({ code: "custom", message: "must be a price in USD per chip-hour above 0 and at most 1000" });
        }
    }),
);

/** A list whose items must not repeat; a repeat is reported at its index. */
function uniqueList<T extends z.ZodType>(item: T, what: string) {
    return z.array(item).superRefine((items, ctx) => {
        items.forEach((value, index) => {
            const first = items.findIndex((other) => JSON.stringify(other) === JSON.stringify(value));
            if (first < index) ctx.addIssue({ code: "custom", message: `repeats ${what}[${first}]`, path: [index] });
        });
    });
}

/** A path inside the MLLM-JAX checkout, normalized (`a/./b/` → `a/b`); `suffix` restricts the file type. */
function repoPath(suffix?: { pattern: RegExp; message: string }) {
    return text((value) => {
        const result = normalizeRepoPath(value);
        if ("problem" in result) return result.problem;
        return suffix && !suffix.pattern.test(result.path) ? suffix.message : undefined;
    }).transform((value) => {
        const result = normalizeRepoPath(value);
        return "path" in result ? result.path : value;
    });
}

/** A URL fetched by a tool on the host (Miniconda installer, pip indexes): https only, nothing a shell could split. */
const httpsUrl = text((value) => {
    // eslint-disable-next-line no-control-regex
    if (/[\s\u0000-\u001f\u007f"'`\\]/.test(value)) return "must not contain whitespace, quotes or backslashes";
    if (!URL.canParse(value)) return "must be an https:// URL";
    const url = new URL(value);
    if (url.protocol !== "https:") return "must be an https:// URL";
    if (url.username || url.password) return "must not embed credentials";
    return undefined;
});

/** A git commit pinned by SHA; a branch follows its head and breaks reproducibility (see seed-repo-facts §7). */
export const commitSha = text(
    (value) =>
        /^[0-9a-f]{7,40}$/.test(value) ? undefined : "must be a commit SHA (7 to 40 hex digits), not a branch or tag",
    { digitsAsText: true },
);

export const repoSchema = z.strictObject({
    /** Clone URL: https, ssh or scp-style; an absolute path or file:// only with target local (the rehearsal). */
    url: text((value) => classifyRepoUrl(value).problem),
    /** The commit checked out, detached. */
    commit: commitSha,
});

const zone = matching(ZONE_PATTERN, "must be a zone such as us-east5-b");

const acceleratorType = text((value) => {
    if (parseAcceleratorType(value)) return undefined;
    const canonical = canonicalAcceleratorType(value);
    if (canonical) return `is not spelled as GCP spells it (did you mean ${canonical}?)`;
    return `is not a known TPU accelerator type (known: ${knownAcceleratorTypes().join(", ")})`;
});

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** The firewall rule that admits tcp:22 to the slice's network tag from `sourceRanges` (IPv4/IPv6 CIDRs). */
export const firewallSchema = z.strictObject({
    create: boolish.default(true),
    sourceRanges: uniqueList(text(checkCidr), "tpu.firewall.sourceRanges").default([]),
});

/** The VMs' identity: a dedicated account created per stack, or an existing one by email. */
export const serviceAccountSchema = z.strictObject({
    email: text(checkServiceAccountEmail).optional(),
    /** Defaults to true without an email, false with one. */
    create: boolish.optional(),
    scopes: uniqueList(
        matching(
            /^https:\/\/www\.googleapis\.com\/auth\/[a-z0-9._-]+$/,
            "must be an OAuth scope URL such as " + CLOUD_PLATFORM_SCOPE,
        ),
        "tpu.serviceAccount.scopes",
    )
        .min(1, "must list at least one scope")
        .default([CLOUD_PLATFORM_SCOPE]),
});

export const tpuFields = {
    /** VM name; defaults to `mllm-jax-<type>-<stack>`. */
    name: text((value) => checkResourceName(value, "TPU node name")).optional(),
    /** Adopt an existing VM by name instead of creating one; an adopted VM is never deleted by this stack. */
    adopt: boolish.default(false),
    /** The zone; or `zones` instead: exactly one of them. */
    zone: zone.optional(),
    /** Zones in fallback order for stockouts (first = preferred); the active one is `tpu-sft:activeZone`. */
    zones: uniqueList(zone, "tpu.zones").min(1, "must list at least one zone").optional(),
    acceleratorType,
    runtimeVersion: matching(/^[a-z0-9][a-z0-9.-]{0,62}$/, "must be a TPU runtime version such as v2-alpha-tpuv6e"),
    /** spot (the SOP's default), on-demand, or reserved (consumes a reservation). */
    provisioning: z.enum(["spot", "on-demand", "reserved"]).default("spot"),
    network: text(checkNetwork).default("default"),
    subnetwork: text(checkSubnetwork).optional(),
    enableExternalIps: boolish.default(true),
    /** Log in through OS Login; false (the default) sets the VM's metadata enable-oslogin=FALSE. */
    osLogin: boolish.default(false),
    /** The firewall rule that admits tcp:22 to the slice's network tag from `sourceRanges`. */
    firewall: firewallSchema.prefault({}),
    /** The VMs' identity: a dedicated account created per stack, or an existing one by email. */
    serviceAccount: serviceAccountSchema.prefault({}),
    labels: z
        .record(z.string(), text(checkLabelValue, { digitsAsText: true }))
        .superRefine((labels, ctx) => {
            for (const key of Object.keys(labels)) {
                const problem = checkLabelKey(key);
                if (problem) ctx.addIssue({ code: "custom", message: problem, path: [key] });
            }
        })
        .prefault({}),
    /**
     * When the slice is deleted while every output stays: `after-handoff` (train's default: once every run is in the
     * handoff manifest), `after-eval` (eval's default: once every eval run is in its eval record,
     * <prefix>/eval/<run>/result.json), or `keep` (the SOP kept its VMs for reuse; an adopted VM is always kept).
     */
    reclaim: z.enum(["after-handoff", "after-eval", "keep"]).optional(),
    /** Skip the zone-offers-this-generation check, for zones newer than the table in accelerators.ts. */
    skipZoneCheck: boolish.default(false),
    /** USD per chip-hour, for the cost estimates in the outputs, the supervisor's summary and `npm run report`. */
    prices: z
        .strictObject({
            /**
             * On demand (also used for reserved). Default: Google's list price for v6e (Trillium), USD 2.70 per
             * chip-hour, cloud.google.com/tpu/pricing as published at v6e GA (2024-12); not re-read on 2026-11-29
             * (the stored copy of that page lacks the v6e rows): check it for your region.
             */
            onDemandPerChipHour: usdPerHour.default(2.7),
            /** Spot: it varies by region and over time, so no default; the estimate says so while it is unset. */
            spotPerChipHour: usdPerHour.optional(),
        })
        .prefault({}),
};
export const tpuSchema = z.strictObject(tpuFields);

export const sshFields = {
    /** Login user; the SOP works as root, so paths default to /root. */
    user: matching(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name (lowercase letter or '_' first)").default(
        "root",
    ),
    /** OpenSSH public key matching the `sshPrivateKey` secret; both or neither. */
    publicKey: matching(
        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\s]+)?$/,
        "must be one OpenSSH public key line (type, base64 key, optional comment)",
    ).optional(),
    /** How many SSH dial failures to tolerate (fresh TPU VMs take minutes to start sshd). */
    dialErrorLimit: intish(1, 1000).default(40),
    perDialTimeoutSeconds: intish(1, 300).default(15),
};
export const sshSchema = z.strictObject(sshFields);

const version = matching(/^\d+\.\d+\.\d+(\.dev\d+|rc\d+)?$/, "must be an exact version such as 0.9.0 (no range)");

export const envFields = {
    /** conda: Miniconda + env as in the SOP; system-python: use the host's python3 (the offline rehearsal). */
    mode: z.enum(["conda", "system-python"]).default("conda"),
    condaEnv: text(
        (value) =>
            /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(value) && value !== "base"
                ? undefined
                : "must be a conda env name: 1-64 letters, digits, '_', '.' or '-', not starting with '-' or '.', and not base",
        { digitsAsText: true },
    ).default("mllm-jax"),
    python: matching(/^3\.\d{1,2}$/, "must be a Python minor version such as 3.12").default("3.12"),
    jax: version.default("0.9.0"),
    libtpu: version.default("0.0.34"),
    minicondaUrl: httpsUrl.default("https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh"),
    jaxReleasesUrl: httpsUrl.default("https://storage.googleapis.com/jax-releases/libtpu_releases.html"),
    torchIndexUrl: httpsUrl.default("https://download.pytorch.org/whl/cpu"),
};
export const envSchema = z.strictObject(envFields);

export const bucketFields = {
    /** Create the bucket (kept on destroy), or use an existing one by name. */
    create: boolish.default(true),
    /** Defaults to `<gcp project>-mllm-jax-artifacts`. */
    name: text(checkBucketName, { digitsAsText: true }).optional(),
    /** Defaults to the region of the first train zone, to keep checkpoint traffic in-region. */
    location: text(checkBucketLocation).optional(),
    prefix: matching(
        /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
        "must be object-name segments without leading, trailing or repeated '/'",
    )
        .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), "must not contain '.' or '..' segments")
        .default("sft_match_official"),
    /** Days a replaced or deleted object version is kept before the lifecycle rule removes it. */
    noncurrentVersionDays: intish(1, 3650).default(7),
    /** Import the existing bucket into this stack (after `pulumi destroy` retained it) instead of creating it. */
    adopt: boolish.default(false),
};
export const bucketSchema = z.strictObject(bucketFields);

export const wandbSchema = z.strictObject({ mode: z.enum(["online", "offline", "disabled"]).default("online") });

export const projectSchema = z.strictObject({
    /** Enable the TPU, Compute, IAM and Storage APIs (never disabled on destroy). */
    enableServices: boolish.default(true),
});

export const checkpointKind = z.enum(["best", "last"]);
export type CheckpointKind = z.infer<typeof checkpointKind>;

export const runName = matching(
    RUN_NAME_PATTERN,
    "must be 1-31 lowercase letters, digits or '-', starting with a letter and not ending with '-'",
);
const yamlFile = { pattern: /\.ya?ml$/, message: "must name a .yaml file" };

const timing = (limit: number, poll: number, progress: number) => ({
    timeLimitMinutes: intish(1, 7 * 24 * 60).default(limit),
    pollSeconds: intish(1, 3600).default(poll),
    /** A progress line at least this often while waiting, so `pulumi up` shows the run is alive. */
    progressSeconds: intish(1, 3600).default(progress),
    /** Extra seconds after a poll before a vanished process without an exit file is called dead. */
    graceSeconds: intish(0, 3600).default(30),
});

export const trainRunSchema = z.strictObject({
    name: runName,
    /** Train YAML, relative to the MLLM-JAX checkout. */
    config: repoPath(yamlFile),
    /** The YAML's output_dir (where process 0 writes sft_state_*.msgpack). */
    outputDir: repoPath(),
    /** Which checkpoints to hand off through the bucket. */
    checkpoints: uniqueList(checkpointKind, "checkpoints").min(1, "must list at least one of best, last"),
});
export type TrainRunConfig = z.infer<typeof trainRunSchema>;

/** How many times the supervisor runs a failing job (the first attempt included) before it stops with exit 1. */
const maxAttempts = (n: number) => intish(1, 20).default(n);

export const trainFields = {
    runs: z.array(trainRunSchema).min(1, "must list at least one run"),
    maxAttempts: maxAttempts(2),
    ...timing(720, 60, 180),
};
export const trainSchema = z.strictObject(trainFields);

/** A checkpoint made elsewhere, named explicitly instead of through the train stack. */
export const explicitCheckpointSchema = z.strictObject({
    uri: text((value) => {
        const match = /^gs:\/\/([^/]+)\/(.+\.msgpack)$/.exec(value);
        if (!match) return "must be a gs:// URI of a .msgpack checkpoint";
        const bucket = checkBucketName(match[1]);
        // eslint-disable-next-line no-control-regex
        if (/[\s\u0000-\u001f\u007f]/.test(match[2])) return "must not contain whitespace in the object name";
        return bucket ? `names a bucket that ${bucket}` : undefined;
    }),
    crc32c: crc32cSchema,
    size: intish(1, Number.MAX_SAFE_INTEGER),
});

/** calc.py's `topk_list`: it prints the prefix of this list whose K are at most the beam count (calc-spec §4.1). */
export const CALC_TOPK_LIST: readonly number[] = [1, 3, 5, 10, 20, 50];

export const evalRunSchema = z.strictObject({
    name: runName,
    /** The train run (a key of the train stack's `runs` output, or of eval.checkpoints) whose checkpoint to evaluate. */
    trainRun: runName,
    checkpoint: checkpointKind,
    /** Eval YAML, relative to the MLLM-JAX checkout; its train.resume_from_checkpoint decides where the checkpoint goes. */
    config: repoPath(yamlFile),
    /** The eval YAML's output_dir (where eval_predictions*.json are written). */
    outputDir: repoPath(),
    /** MiniOneRec info file for calc.py; calc.py opens `<path without .txt>.txt`, so it must end in .txt. */
    itemFile: repoPath({
        pattern: /\.txt$/,
        message:
            "must name a .txt file (calc.py cuts a trailing .txt and opens <path>.txt, so any other name is a different file)",
    }),
    /** The K list calc.py prints: a prefix of [1, 3, 5, 10, 20, 50], as long as the beam count allows. */
    topk: z
        .array(intish(1, 50))
        .superRefine((k, ctx) => {
            const isPrefix = k.length >= 1 && k.every((v, i) => v === CALC_TOPK_LIST[i]);
            if (!isPrefix) {
                ctx.addIssue({
                    code: "custom",
                    message: `is not a K list calc.py prints: calc.py prints a non-empty prefix of [${CALC_TOPK_LIST.join(", ")}] (every K up to the beam count)`,
                });
            }
        })
        .default([...CALC_TOPK_LIST]),
});
export type EvalRunConfig = z.infer<typeof evalRunSchema>;

export const evalFields = {
    /** Full name of the train stack to read checkpoints from, e.g. organization/tpu-sft/train. */
    trainStack: matching(
        /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*){0,2}$/,
        "must be a stack name such as organization/tpu-sft/train",
    ).optional(),
    /**
     * Or the handoff manifests the train stack writes (the default when neither trainStack nor checkpoints is set):
     * gs://<bucket>/<prefix>/<trainRun>/handoff.json. bucket defaults to this stack's bucket name (the same
     * <project>-mllm-jax-artifacts rule as the train stack's), prefix to bucket.prefix.
     */
    handoff: z
        .strictObject({
            bucket: text(checkBucketName).optional(),
            prefix: text((value) =>
                value === "" || value.split("/").some((p) => p === "" || p === "." || p === "..")
                    ? "must be an object prefix such as sft_match_official (no empty, '.' or '..' parts)"
                    : undefined,
            ).optional(),
        })
        .optional(),
    /** Or explicit checkpoints: run name → kind → {uri, crc32c, size}. */
    checkpoints: z
        .record(
            z.string(),
            z.strictObject({ best: explicitCheckpointSchema.optional(), last: explicitCheckpointSchema.optional() }),
        )
        .superRefine((record, ctx) => {
            for (const key of Object.keys(record)) {
                const problem = runName.safeParse(key).success
                    ? undefined
                    : "a run name must be 1-31 lowercase letters, digits or '-', starting with a letter";
                if (problem) ctx.addIssue({ code: "custom", message: problem, path: [key] });
            }
        })
        .optional(),
    runs: z.array(evalRunSchema).min(1, "must list at least one run"),
    /** Fail the stack when any computation counts an invalid prediction (the SOP expects 0). */
    requireZeroInvalid: boolish.default(true),
    maxAttempts: maxAttempts(2),
    ...timing(240, 30, 120),
};
export const evalSchema = z.strictObject(evalFields);

/** An absolute path without shell-special characters (the rehearsal's control plane and its state dir). */
const absolutePath = text((value) =>
    /^\/[A-Za-z0-9._/-]*$/.test(value) ? undefined : "must be an absolute path of letters, digits and . _ / -",
);

export const localSchema = z.strictObject({
    /**
     * Fixed hosts, one entry per worker, in worker order (nothing is created or deleted). Either this or `slice`.
     */
    hosts: z
        .array(z.strictObject({ host: text(checkHost), port: intish(1, 65535).default(22) }))
        .min(1, "must list at least one host")
        .optional(),
    /**
     * The twin of the TPU control plane (the rehearsal): the slice is created and deleted by `<control> slice-up|
     * slice-down <stateDir> <name> <hosts> <zone>`, which start and stop namespaced hosts with a fresh /root.
     */
    slice: z.strictObject({ control: absolutePath, stateDir: absolutePath }).optional(),
    /** The GCS-compatible endpoint the hosts and this program use instead of storage.googleapis.com. */
    storageEndpoint: text((value) => {
        if (!URL.canParse(value)) return "must be an http:// or https:// URL";
        const url = new URL(value);
        if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http:// or https:// URL";
        // eslint-disable-next-line no-control-regex
        if (/[\s\u0000-\u001f\u007f"'`\\]/.test(value)) return "must not contain whitespace, quotes or backslashes";
        return undefined;
    }),
});

/** `npm run supervise`: how far it goes to recover a failed `pulumi up` (scripts/supervise.ts). */
export const supervisorSchema = z.strictObject({
    /** Recoveries (slice replaced, zone moved, transient retry) before it gives up with exit 3. */
    maxRecoveries: intish(0, 100).default(6),
    /** The first wait before a recovery; it doubles after each one, up to maxBackoffSeconds. */
    backoffSeconds: intish(0, 3600).default(30),
    maxBackoffSeconds: intish(0, 86400).default(900),
});

export const ROLES = ["train", "eval"] as const;
export const TARGETS = ["gcp", "local"] as const;

/** Every top-level `tpu-sft:` key (secrets aside), in the order problems are reported. */
export const SECTIONS = {
    role: z.enum(ROLES),
    /** gcp: real TPU VMs and bucket; local: static SSH hosts and a GCS emulator (the rehearsal). */
    target: z.enum(TARGETS).default("gcp"),
    /** The zone of tpu.zones the slice runs in now; unset or "" means the first. */
    activeZone: z.preprocess((v) => (v === "" ? undefined : v), zone.optional()),
    tpu: tpuSchema,
    ssh: sshSchema.prefault({}),
    repos: z.strictObject({ mllmJax: repoSchema, miniOneRec: repoSchema }),
    env: envSchema.prefault({}),
    bucket: bucketSchema.prefault({}),
    wandb: wandbSchema.prefault({}),
    project: projectSchema.prefault({}),
    supervisor: supervisorSchema.prefault({}),
    train: trainSchema.optional(),
    eval: evalSchema.optional(),
    local: localSchema.optional(),
};
export type SectionName = keyof typeof SECTIONS;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];
/** Keys whose engine value is the JSON text of an object (the others are plain strings). */
export const OBJECT_SECTIONS: readonly SectionName[] = [
    "tpu",
    "ssh",
    "repos",
    "env",
    "bucket",
    "wandb",
    "project",
    "supervisor",
    "train",
    "eval",
    "local",
];
/** The only keys that may (and must) be Pulumi secrets. */
export const SECRET_KEYS = ["wandbApiKey", "sshPrivateKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export type Sections = { [K in SectionName]: z.output<(typeof SECTIONS)[K]> };
