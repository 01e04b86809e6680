/**
 * bootstrap: make a worker ready to run the workload (scripts/remote/bootstrap.sh): the pinned MLLM-JAX and
 * MiniOneRec checkouts, the Python environment, and the W&B key merged into ~/.env from stdin.
 */
import { z } from "zod";
import { assertCommit, assertNotOption, assertToolName } from "./inputChecks";
import { PythonEnvInputs, pythonEnv, stepCommand } from "./stepScript";

/** Miniconda, a conda env and the pip installs of the SOP; a hung download fails the step at this limit. */
export const BOOTSTRAP_LIMIT_SECONDS = 90 * 60;

export interface PinnedRepo {
    readonly url: string;
    readonly commit: string;
}

export interface BootstrapInputs extends PythonEnvInputs {
    readonly python: string;
    readonly jax: string;
    readonly libtpu: string;
    readonly minicondaUrl: string;
    readonly jaxReleasesUrl: string;
    readonly torchIndexUrl: string;
    readonly mllmJax: PinnedRepo;
    readonly miniOneRec: PinnedRepo;
    /** Whether the W&B key is sent on stdin (it never appears in the command text). */
    readonly wandbKeyOnStdin: boolean;
    readonly limitSeconds?: number;
}

export function bootstrapCommand(inputs: BootstrapInputs): string {
    return stepCommand(
        "bootstrap",
        {
            ...pythonEnv("bootstrap", inputs),
            PYTHON_VERSION: assertToolName("bootstrap.python", inputs.python),
            JAX_VERSION: assertToolName("bootstrap.jax", inputs.jax),
            LIBTPU_VERSION: assertToolName("bootstrap.libtpu", inputs.libtpu),
            MINICONDA_URL: assertNotOption("bootstrap.minicondaUrl", inputs.minicondaUrl),
            JAX_RELEASES_URL: assertNotOption("bootstrap.jaxReleasesUrl", inputs.jaxReleasesUrl),
            TORCH_INDEX_URL: assertNotOption("bootstrap.torchIndexUrl", inputs.torchIndexUrl),
            MLLM_URL: assertNotOption("bootstrap.mllmJax.url", inputs.mllmJax.url),
            MLLM_COMMIT: assertCommit("bootstrap.mllmJax.commit", inputs.mllmJax.commit),
            MINI_URL: assertNotOption("bootstrap.miniOneRec.url", inputs.miniOneRec.url),
            MINI_COMMIT: assertCommit("bootstrap.miniOneRec.commit", inputs.miniOneRec.commit),
            WANDB_KEY_ON_STDIN: inputs.wandbKeyOnStdin ? "1" : "0",
        },
        inputs.limitSeconds ?? BOOTSTRAP_LIMIT_SECONDS,
    );
}

const sha = z.string().regex(/^[0-9a-f]{40}$/);

export const bootstrapResult = z.object({
    host: z.string(),
    mllmJaxCommit: sha,
    miniOneRecCommit: sha,
    envMode: z.enum(["conda", "system-python"]),
    python: z.string(),
    envReused: z.boolean(),
});
export type BootstrapResult = z.infer<typeof bootstrapResult>;
