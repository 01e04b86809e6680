/**
 * The stack configuration as one zod schema. Pulumi hands structured config over as JSON, but a value set
 * with `pulumi config set --path a.b 30` arrives as the string "30", so numbers and booleans accept strings.
 */
import { z } from "zod";
import { crc32cSchema } from "../checkpointRef";

const boolish = z.preprocess((value) => {
    if (value === "true") return true;
    if (value === "false") return false;
    return value;
}, z.boolean());

const intish = (min: number, max: number) =>
    z.preprocess(
        (value) => (typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value),
        z.number().int().min(min).max(max),
    );

/** A git commit pinned by SHA; a branch follows its head and breaks reproducibility (see seed-repo-facts §7). */
export const commitSha = z
    .string()
    .regex(/^[0-9a-f]{7,40}$/, "must be a commit SHA (7 to 40 hex digits), not a branch or tag");

export const repoSchema = z.object({
    /** Clone URL; any URL `git clone` accepts (https, ssh or a local path in the rehearsal). */
    url: z.string().min(1),
    /** The commit checked out, detached. */
    commit: commitSha,
});

export const tpuSchema = z.object({
    /** VM name; defaults to `mllm-jax-<type>-<stack>`. */
    name: z
        .string()
        .regex(
            /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/,
            "must be 1-63 lowercase letters, digits or '-', starting with a letter",
        )
        .optional(),
    /** Adopt an existing VM by name instead of creating one; an adopted VM is never deleted by this stack. */
    adopt: boolish.default(false),
    zone: z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, "must be a zone such as us-east5-b"),
    acceleratorType: z.string(),
    runtimeVersion: z.string(),
    /** spot (the SOP's default), on-demand, or reserved (consumes a reservation). */
    provisioning: z.enum(["spot", "on-demand", "reserved"]).default("spot"),
    network: z.string().default("default"),
    subnetwork: z.string().optional(),
    enableExternalIps: boolish.default(true),
    serviceAccount: z
        .object({
            email: z.string().email().optional(),
            /** Create a service account for this stack; defaults to true when no email is given. */
            create: boolish.optional(),
            scopes: z.array(z.string().min(1)).min(1).default(["https://www.googleapis.com/auth/cloud-platform"]),
        })
        .default({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] }),
    /** Log in with OS Login instead of the `ssh-keys` metadata (per-instance `enable-oslogin`). */
    osLogin: boolish.default(false),
    /** A firewall rule admitting tcp:22 to the slice's network tag from these ranges, or none (create false). */
    firewall: z
        .object({
            create: boolish.default(true),
            sourceRanges: z.array(z.string().min(1)).default([]),
        })
        .default({ create: true, sourceRanges: [] }),
    labels: z
        .record(
            z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, "label keys: lowercase letters, digits, _ or -"),
            z.string().regex(/^[a-z0-9_-]{0,63}$/, "label values: lowercase letters, digits, _ or -"),
        )
        .default({}),
    /** Skip the zone-offers-this-generation check, for zones newer than the table in accelerators.ts. */
    skipZoneCheck: boolish.default(false),
});

export const sshSchema = z
    .object({
        /** Login user; the SOP works as root, so paths default to /root. */
        user: z
            .string()
            .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name")
            .default("root"),
        /** OpenSSH public key matching the `sshPrivateKey` secret; both or neither. */
        publicKey: z
            .string()
            .regex(
                /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( \S+)?$/,
                "must be one OpenSSH public key line",
            )
            .optional(),
        /** How many SSH dial failures to tolerate (fresh TPU VMs take minutes to start sshd). */
        dialErrorLimit: intish(1, 1000).default(40),
        perDialTimeoutSeconds: intish(1, 300).default(15),
    })
    .default({ user: "root", dialErrorLimit: 40, perDialTimeoutSeconds: 15 });

export const envSchema = z.object({
    /** conda: Miniconda + env as in the SOP; system-python: use the host's python3 (the offline rehearsal). */
    mode: z.enum(["conda", "system-python"]).default("conda"),
    condaEnv: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/, "must be a conda env name")
        .default("mllm-jax"),
    python: z
        .string()
        .regex(/^3\.\d+$/, "must be a Python minor version such as 3.12")
        .default("3.12"),
    jax: z
        .string()
        .regex(/^\d+\.\d+\.\d+$/, "must be an exact version such as 0.9.0")
        .default("0.9.0"),
    libtpu: z
        .string()
        .regex(/^\d+\.\d+\.\d+$/, "must be an exact version such as 0.0.34")
        .default("0.0.34"),
    minicondaUrl: z.string().url().default("https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh"),
    jaxReleasesUrl: z.string().url().default("https://storage.googleapis.com/jax-releases/libtpu_releases.html"),
    torchIndexUrl: z.string().url().default("https://download.pytorch.org/whl/cpu"),
});

export const bucketSchema = z.object({
    /** Create the bucket (kept on destroy), or use an existing one by name. */
    create: boolish.default(true),
    /** Defaults to `<gcp project>-mllm-jax-artifacts`. */
    name: z.string().optional(),
    /** Defaults to the train zone's region, to keep checkpoint traffic in-region. */
    location: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, "must be a GCS location such as US-EAST5")
        .optional(),
    prefix: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, "must be object-name segments without leading or trailing '/'")
        .default("sft_match_official"),
    /** Delete noncurrent object versions after this many days. */
    noncurrentVersionDays: intish(0, 3650).default(7),
    /** Import the existing bucket into this stack (after `pulumi destroy` retained it) instead of creating it. */
    adopt: boolish.default(false),
});

export const wandbSchema = z
    .object({ mode: z.enum(["online", "offline", "disabled"]).default("online") })
    .default({ mode: "online" });

export const checkpointKind = z.enum(["best", "last"]);
export type CheckpointKind = z.infer<typeof checkpointKind>;

const runName = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, "must be 1-31 lowercase letters, digits or '-', starting with a letter");
const repoRelativePath = z
    .string()
    .regex(
        /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
        "must be a path relative to the MLLM-JAX checkout, without '..' tricks",
    )
    .refine((p) => !p.split("/").includes(".."), "must not contain '..'");

export const trainRunSchema = z.object({
    name: runName,
    /** Train YAML, relative to the MLLM-JAX checkout. */
    config: repoRelativePath.refine((p) => /\.ya?ml$/.test(p), "must name a .yaml file"),
    /** The YAML's output_dir (where process 0 writes sft_state_*.msgpack). */
    outputDir: repoRelativePath,
    /** Which checkpoints to hand off through the bucket. */
    checkpoints: z
        .array(checkpointKind)
        .min(1)
        .refine((k) => new Set(k).size === k.length, "must not repeat a kind"),
});
export type TrainRunConfig = z.infer<typeof trainRunSchema>;

export const trainSchema = z.object({
    runs: z.array(trainRunSchema).min(1),
    timeLimitMinutes: intish(1, 7 * 24 * 60).default(720),
    pollSeconds: intish(1, 3600).default(60),
    /** A progress line at least this often while waiting, so `pulumi up` shows the run is alive. */
    progressSeconds: intish(1, 3600).default(180),
    /** Extra seconds after a poll before a vanished process without an exit file is called dead. */
    graceSeconds: intish(0, 3600).default(30),
});

/** A checkpoint made elsewhere, named explicitly instead of through the train stack. */
export const explicitCheckpointSchema = z.object({
    uri: z
        .string()
        .regex(/^gs:\/\/[a-z0-9][a-z0-9_.-]*[a-z0-9]\/.+\.msgpack$/, "must be a gs:// URI of a .msgpack checkpoint"),
    crc32c: crc32cSchema,
    size: intish(1, Number.MAX_SAFE_INTEGER),
});

export const evalRunSchema = z.object({
    name: runName,
    /** The train run (a key of the train stack's `runs` output, or of eval.checkpoints) whose checkpoint to evaluate. */
    trainRun: runName,
    checkpoint: checkpointKind,
    /** Eval YAML, relative to the MLLM-JAX checkout; its train.resume_from_checkpoint decides where the checkpoint goes. */
    config: repoRelativePath.refine((p) => /\.ya?ml$/.test(p), "must name a .yaml file"),
    /** The eval YAML's output_dir (where eval_predictions*.json are written). */
    outputDir: repoRelativePath,
    /** MiniOneRec info file for calc.py, relative to the MLLM-JAX checkout. */
    itemFile: repoRelativePath,
    topk: z
        .array(intish(1, 1000))
        .min(1)
        .refine(
            (k) => k.every((v, i) => i === 0 || v > k[i - 1]),
            "must be strictly increasing, e.g. [1, 3, 5, 10, 20, 50]",
        )
        .default([1, 3, 5, 10, 20, 50]),
});
export type EvalRunConfig = z.infer<typeof evalRunSchema>;

export const evalSchema = z.object({
    /** Full name of the train stack to read checkpoints from, e.g. organization/tpu-sft/train. */
    trainStack: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/, "must be a stack name such as organization/tpu-sft/train")
        .optional(),
    /** Or explicit checkpoints: run name → kind → {uri, crc32c, size}. */
    checkpoints: z
        .record(
            runName,
            z.object({ best: explicitCheckpointSchema.optional(), last: explicitCheckpointSchema.optional() }),
        )
        .optional(),
    runs: z.array(evalRunSchema).min(1),
    /** Fail the stack when any computation counts an invalid prediction (the SOP expects 0). */
    requireZeroInvalid: boolish.default(true),
    timeLimitMinutes: intish(1, 7 * 24 * 60).default(240),
    pollSeconds: intish(1, 3600).default(30),
    progressSeconds: intish(1, 3600).default(120),
    graceSeconds: intish(0, 3600).default(30),
});

export const projectSchema = z
    .object({
        /** Enable the TPU, Compute, IAM and Storage APIs (never disabled on destroy). */
        enableServices: boolish.default(true),
    })
    .default({ enableServices: true });

export const localTargetSchema = z.object({
    /** One entry per worker, in worker order. */
    hosts: z.array(z.object({ host: z.string().min(1), port: intish(1, 65535).default(22) })).min(1),
    /** The GCS-compatible endpoint the hosts and this program use instead of storage.googleapis.com. */
    storageEndpoint: z.string().url(),
});

export const stackSchema = z.object({
    role: z.enum(["train", "eval"]),
    /** gcp: real TPU VMs and bucket; local: static SSH hosts and a GCS emulator (the rehearsal). */
    target: z.enum(["gcp", "local"]).default("gcp"),
    tpu: tpuSchema,
    ssh: sshSchema,
    repos: z.object({ mllmJax: repoSchema, miniOneRec: repoSchema }),
    env: envSchema.default(envSchema.parse({})),
    bucket: bucketSchema.default(bucketSchema.parse({})),
    project: projectSchema,
    wandb: wandbSchema,
    train: trainSchema.optional(),
    eval: evalSchema.optional(),
    local: localTargetSchema.optional(),
});
export type StackSchemaOutput = z.infer<typeof stackSchema>;
