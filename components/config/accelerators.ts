/**
 * What an accelerator type string means: its TPU generation and how many VM hosts (workers) it spans.
 * Multi-host JAX needs one process per host, so the host count drives the launch fan-out and
 * `REQUIRE_JAX_PROCESS_COUNT`.
 */

export type TpuGeneration = "v4" | "v5e" | "v5p" | "v6e";

export interface AcceleratorShape {
    /** The type as GCP spells it, e.g. `v6e-16`. */
    readonly type: string;
    readonly generation: TpuGeneration;
    readonly chips: number;
    /** VM hosts (TPU workers) in the slice: v6e-16 → 4, v6e-8 → 1. */
    readonly hosts: number;
}

interface GenerationRule {
    readonly pattern: RegExp;
    /** The number in the type string counts TensorCores (2 per chip) on v4 and v5p, chips on v5e and v6e. */
    readonly coresPerChip: 1 | 2;
    readonly sizes: readonly number[];
    /** Chips attached to one host VM in a multi-host slice. */
    readonly chipsPerHost: number;
    /** The largest slice that is still a single host. */
    readonly maxSingleHostChips: number;
}

const RULES: Readonly<Record<TpuGeneration, GenerationRule>> = {
    // Cloud TPU docs, "TPU v6e": v6e-1/4/8 are one VM (ct6e-standard-8t for v6e-8); larger slices use 4-chip VMs.
    v6e: {
        pattern: /^v6e-(\d+)$/,
        coresPerChip: 1,
        sizes: [1, 4, 8, 16, 32, 64, 128, 256],
        chipsPerHost: 4,
        maxSingleHostChips: 8,
    },
    v5e: {
        pattern: /^v5litepod-(\d+)$/,
        coresPerChip: 1,
        sizes: [1, 4, 8, 16, 32, 64, 128, 256],
        chipsPerHost: 4,
        maxSingleHostChips: 8,
    },
    v5p: {
        pattern: /^v5p-(\d+)$/,
        coresPerChip: 2,
        sizes: [8, 16, 32, 64, 128, 256, 512, 1024, 2048],
        chipsPerHost: 4,
        maxSingleHostChips: 4,
    },
    v4: {
        pattern: /^v4-(\d+)$/,
        coresPerChip: 2,
        sizes: [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
        chipsPerHost: 4,
        maxSingleHostChips: 4,
    },
};

/** Zones that offer each generation (Cloud TPU "Regions and zones" page); `tpu.skipZoneCheck` bypasses it. */
export const ZONES_BY_GENERATION: Readonly<Record<TpuGeneration, readonly string[]>> = {
    v6e: [
        "us-central1-b",
        "us-east1-d",
        "us-east5-a",
        "us-east5-b",
        "us-south1-a",
        "us-south1-b",
        "us-west1-c",
        "europe-west4-a",
        "asia-northeast1-b",
        "southamerica-east1-c",
    ],
    v5e: [
        "us-central1-a",
        "us-south1-a",
        "us-west1-c",
        "us-west4-a",
        "us-east1-c",
        "us-east5-a",
        "us-east5-b",
        "europe-west4-b",
        "asia-southeast1-b",
    ],
    v5p: ["us-central1-a", "us-east5-a", "europe-west4-b"],
    v4: ["us-central2-b"],
};

/**
 * Runtime (software) versions each generation accepts: the "TPU software versions" page (v6e → v2-alpha-tpuv6e,
 * v5p → v2-alpha-tpuv5, v5e → v2-alpha-tpuv5-lite, v4 and older → tpu-ubuntu2204-base), plus v6e-ubuntu-2404,
 * which the SOP's create_tpu_vm.sh uses for v6e, and v4's older tpu-vm-v4-base. The first entry is the suggestion.
 */
export const RUNTIMES_BY_GENERATION: Readonly<Record<TpuGeneration, readonly string[]>> = {
    v6e: ["v6e-ubuntu-2404", "v2-alpha-tpuv6e"],
    v5e: ["v2-alpha-tpuv5-lite", "tpu-ubuntu2204-base"],
    v5p: ["v2-alpha-tpuv5"],
    v4: ["tpu-ubuntu2204-base", "tpu-vm-v4-base"],
};

/** A zone as GCP spells it: `us-east5-b`, or an AI zone such as `us-central1-ai1a`. */
export const ZONE_PATTERN = /^[a-z]+-[a-z]+[0-9]+-([a-z]|ai[0-9]+[a-z]?)$/;

/** The region of a zone: `us-east5-b` → `us-east5`. */
export function regionOf(zone: string): string {
    return zone.replace(/-[a-z0-9]+$/, "");
}

/** Every region that offers some TPU generation in the table above. */
export const TPU_REGIONS: readonly string[] = [
    ...new Set(Object.values(ZONES_BY_GENERATION).flatMap((zones) => zones.map(regionOf))),
].sort();

/**
 * The type as GCP spells it when the input is a near miss: `V6E-16`, `v6e_16`, `v6e16` → `v6e-16`;
 * `v5e-8` → `v5litepod-8` (GCP's name for v5e slices). Undefined when nothing known is close.
 */
export function canonicalAcceleratorType(input: string): string | undefined {
    const folded = input
        .trim()
        .toLowerCase()
        .replace(/[_\s]+/g, "-");
    const match = /^(v6e|v5e|v5lite|v5litepod|v5p|v4)-?(\d+)$/.exec(folded);
    if (!match) {
        return undefined;
    }
    const family = match[1] === "v5e" || match[1] === "v5lite" ? "v5litepod" : match[1];
    const candidate = `${family}-${Number(match[2])}`;
    return parseAcceleratorType(candidate) && candidate !== input ? candidate : undefined;
}

export function knownAcceleratorTypes(): string[] {
    return (Object.keys(RULES) as TpuGeneration[]).flatMap((generation) => {
        const rule = RULES[generation];
        const prefix = rule.pattern.source.replace(/^\^/, "").replace(/\(\\d\+\)\$$/, "");
        return rule.sizes.map((size) => `${prefix}${size}`);
    });
}

/** Parses an accelerator type, or returns undefined when it is not a known type. */
export function parseAcceleratorType(type: string): AcceleratorShape | undefined {
    for (const generation of Object.keys(RULES) as TpuGeneration[]) {
        const rule = RULES[generation];
        const match = rule.pattern.exec(type);
        if (!match) {
            continue;
        }
        const size = Number(match[1]);
        if (!rule.sizes.includes(size)) {
            return undefined;
        }
        const chips = size / rule.coresPerChip;
        const hosts = chips <= rule.maxSingleHostChips ? 1 : chips / rule.chipsPerHost;
        return { type, generation, chips, hosts };
    }
    return undefined;
}
