/**
 * The labels the program itself puts on what it creates (TPU VM, bucket). A user label with one of these keys
 * would be overwritten, and these count towards GCP's limit of 64 labels per resource.
 */

/** Set by this program on every labelled resource; components merge them with `withProgramLabels`. */
export const PROGRAM_LABELS: Readonly<Record<string, string>> = { "managed-by": "pulumi-tpu-sft" };

/**
 * Added by @pulumi/gcp v8+ to every labelled resource (its `pulumiLabels`), unless the provider setting
 * `gcp:addPulumiAttributionLabel` is false; counted either way, so a config never depends on that setting.
 */
export const PROVIDER_LABEL_KEYS: readonly string[] = ["goog-pulumi-provisioned"];

/** Every label key the user must not set. */
export const RESERVED_LABEL_KEYS: readonly string[] = [...Object.keys(PROGRAM_LABELS), ...PROVIDER_LABEL_KEYS];

/** The user's labels plus the program's (the program's win, which loadConfig makes sure never matters). */
export function withProgramLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
    return { ...labels, ...PROGRAM_LABELS };
}
