/**
 * crossCheck: the eval run's three-way metric check (components/metrics/bucketCrossCheck.ts), run by
 * scripts/crossCheck.ts on the machine that runs `pulumi up`, as a `local.Command` whose input carries the crc32c
 * of the predictions and item file. An unchanged run therefore reads nothing from the bucket: neither a preview
 * nor a no-op `pulumi up` runs it, and its recorded result is what the outputs are made of.
 */
import * as path from "path";
import { CrossCheckInput, crossCheckInput, crossCheckResult } from "../metrics/bucketCrossCheck";

export { crossCheckResult };
export type { CrossCheckInput };

/** The project's root, where scripts/crossCheck.ts and tsconfig.json are. */
const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** The command the step runs; its whole input travels in one environment variable, never in the command text. */
export const CROSS_CHECK_COMMAND = "node --require ts-node/register/transpile-only scripts/crossCheck.ts";

export function crossCheckStep(input: CrossCheckInput): {
    create: string;
    dir: string;
    environment: Record<string, string>;
} {
    return {
        create: CROSS_CHECK_COMMAND,
        dir: PROJECT_ROOT,
        environment: { TPU_SFT_CROSS_CHECK: JSON.stringify(crossCheckInput.parse(input)) },
    };
}
