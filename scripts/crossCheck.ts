// The eval run's cross-check step (components/steps/crossCheck.ts runs it with `local.Command`): reads its input
// as JSON from TPU_SFT_CROSS_CHECK, prints one `TPU_SFT_RESULT {json}` line, or the side-by-side table on stderr
// and exit 1 when the computations disagree.
import { crossCheckInput, runCrossCheck } from "../components/metrics/bucketCrossCheck";
import { RESULT_MARKER } from "../components/steps/stepResult";

async function main(): Promise<number> {
    const raw = process.env.TPU_SFT_CROSS_CHECK;
    if (!raw) {
        process.stderr.write("crossCheck: TPU_SFT_CROSS_CHECK is not set (the eval run's cross-check step sets it)\n");
        return 2;
    }
    const input = crossCheckInput.parse(JSON.parse(raw));
    const result = await runCrossCheck(input);
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
    return 0;
}

main().then(
    (code) => process.exit(code),
    (err: Error) => {
        process.stderr.write(`${err.message}\n`);
        process.exit(1);
    },
);
