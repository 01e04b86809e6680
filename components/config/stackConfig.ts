/**
 * The loaded stack config's type: the sections as validated, the values derived from them, and a union on `role`
 * (train or eval section present) and `target` (local section present), so code never asks "is it there?".
 */
import { AcceleratorShape } from "./accelerators";
import { Sections } from "./schema";

export interface RawConfig {
    readonly stack: string;
    /** `gcp:project`, or undefined when unset. */
    readonly gcpProject: string | undefined;
    /**
     * Every `tpu-sft:*` key but the secrets, without the namespace, decoded as the engine encodes them: objects
     * parsed from their JSON text, strings as they are. A dotted key such as `tpu.zone` is a key of its own.
     */
    readonly values: Readonly<Record<string, unknown>>;
    /** Which secrets are set; their values stay Pulumi secrets and never pass through here. */
    readonly secretsSet: { readonly wandbApiKey: boolean; readonly sshPrivateKey: boolean };
    /** Keys (without the namespace) the engine marks as secret; undefined means exactly the secrets that are set. */
    readonly secretKeys?: readonly string[];
}

type Tpu = Sections["tpu"];

/** tpu as the program uses it: the zone list resolved, the active zone, the service account decided. */
export interface TpuConfig extends Omit<Tpu, "zone" | "zones" | "serviceAccount" | "reclaim"> {
    /** tpu.reclaim, or the role's default (train after-handoff, eval after-eval; an adopted VM keep). */
    readonly reclaim: "after-handoff" | "after-eval" | "keep";
    /** The zone the slice runs in: `tpu-sft:activeZone` when set, else zones[0]. */
    readonly zone: string;
    /** The zones in fallback order, first = preferred (tpu.zone alone gives a list of one). */
    readonly zones: readonly string[];
    readonly serviceAccount: {
        readonly email?: string;
        /** Create a dedicated account (named serviceAccountId); false when an email is given. */
        readonly create: boolean;
        readonly scopes: readonly string[];
    };
}

export interface CommonConfig {
    readonly stack: string;
    readonly gcpProject: string;
    readonly tpu: TpuConfig;
    readonly ssh: Sections["ssh"];
    readonly repos: Sections["repos"];
    readonly env: Sections["env"];
    readonly bucket: Sections["bucket"];
    readonly wandb: Sections["wandb"];
    readonly project: Sections["project"];
    /** How `npm run supervise` recovers (read by scripts/supervise.ts only). */
    readonly supervisor: Sections["supervisor"];
    readonly shape: AcceleratorShape;
    /** The active zone's region. */
    readonly region: string;
    readonly vmName: string;
    readonly bucketName: string;
    /** bucket.location, or the region of tpu.zones[0] (upper case). */
    readonly bucketLocation: string;
    /** The account ID the program creates when tpu.serviceAccount.create on target gcp: `tpu-sft-<stack>`. */
    readonly serviceAccountId?: string;
    /** True when the program must generate the SSH key pair. */
    readonly generateSshKey: boolean;
}

export type TrainConfig = NonNullable<Sections["train"]>;

export type EvalConfig = NonNullable<Sections["eval"]>;

export type LocalConfig = NonNullable<Sections["local"]>;

export type RoleConfig =
    | { readonly role: "train"; readonly train: TrainConfig; readonly eval?: undefined }
    | { readonly role: "eval"; readonly eval: EvalConfig; readonly train?: undefined };

export type TargetConfig =
    { readonly target: "gcp"; readonly local?: undefined } | { readonly target: "local"; readonly local: LocalConfig };

/** The loaded config: `role` decides whether `train` or `eval` is there, `target` whether `local` is. */
export type StackConfig = CommonConfig & RoleConfig & TargetConfig;

export type TrainStackConfig = Extract<StackConfig, { role: "train" }>;

export type EvalStackConfig = Extract<StackConfig, { role: "eval" }>;
