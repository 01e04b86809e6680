// One evaluation of the train stack under Pulumi mocks, as the benchmark's child process. Prints one
// JSON line: wall time from process start and peak RSS. BENCH_GCP=whole makes the program's
// `@pulumi/gcp/<module>` imports resolve through the whole `@pulumi/gcp` package instead.
import * as pulumi from "@pulumi/pulumi";
import { asPulumiConfig, stackFileValues } from "../helpers/trainConfig";
import { StackMocks } from "../helpers/mocks";
import { installFakeStorage } from "../helpers/fakeStorage";

async function main(): Promise<void> {
    if (process.env.BENCH_GCP === "whole") {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const gcp = require("@pulumi/gcp");
        for (const sub of ["tpu", "storage"]) {
            const id = require.resolve(`@pulumi/gcp/${sub}`);
            require.cache[id] = { id, filename: id, loaded: true, exports: gcp[sub] } as unknown as NodeModule;
        }
    }
    // The program reads its handoff manifests: from an in-memory bucket here (empty: nothing trained yet).
    installFakeStorage();
    await pulumi.runtime.setMocks(new StackMocks(), "tpu-sft", "train", false);
    pulumi.runtime.setAllConfig(
        { ...asPulumiConfig(stackFileValues("train")), "gcp:project": "bench-proj", "tpu-sft:wandbApiKey": "benchkey" },
        ["tpu-sft:wandbApiKey"],
    );
    const { readStackConfig } = await import("../../components/config/readStackConfig");
    const { trainStack } = await import("../../components/trainStack");
    const { config, secrets } = readStackConfig();
    if (config.role !== "train") throw new Error("Pulumi.train.yaml must have role train");
    const outputs = await trainStack(config, secrets);
    await new Promise<void>((resolve) => pulumi.output(outputs).apply(() => resolve()));
    const ms = performance.now();
    process.stdout.write(`${JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
