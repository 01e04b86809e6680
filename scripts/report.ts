/**
 * HR@K and NDCG@K of the eval stack's runs beside the figures the SOP observed, as a table and an SVG chart:
 *
 *   npm run --silent report -- --stack eval [--train-stack train] [--json] [--svg <path>] [--outputs <file.json>]
 *
 * The runs come from `pulumi stack output --stack <stack> --json`, or from --outputs (a file holding that JSON, for
 * tests and offline use; --stack is then optional). --train-stack (or --train-outputs <file.json>) adds the train
 * stack's cost output beside the eval stack's. The SVG goes to --svg, by default report-<stack>.svg in the
 * current directory. Plain mode prints a header and a table per run, then the SVG path; --json prints one line.
 * Bad arguments or input print one line on stderr and exit with 2. All logic lives in scripts/report/; this file only
 * parses arguments and does I/O.
 */
import * as fs from "fs";

import { buildReport } from "./report/compare";
import {
    loadOutputsFile,
    parseStackCost,
    readOutputsFile,
    readStackCost,
    readStackOutputs,
    ReportInputError,
} from "./report/outputs";
import { loadObserved } from "./report/reference";
import { renderSvg } from "./report/svg";
import { formatJsonReport, formatPlainReport } from "./report/table";

const USAGE =
    "usage: report --stack <stack> [--train-stack <stack>] [--json] [--svg <path>] [--outputs <file.json>] [--train-outputs <file.json>]";
const EXIT_BAD_INPUT = 2;
const EXIT_WRITE_FAILED = 1;

interface CliOptions {
    stack?: string;
    outputs?: string;
    trainStack?: string;
    trainOutputs?: string;
    svg?: string;
    json: boolean;
}

/** The flags that take a value, and the option each sets. */
const OPTION_OF_FLAG = {
    stack: "stack",
    outputs: "outputs",
    svg: "svg",
    "train-stack": "trainStack",
    "train-outputs": "trainOutputs",
} as const;

/** Accepts `--flag value` and `--flag=value`. */
export function parseArgs(argv: readonly string[]): CliOptions {
    const options: CliOptions = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "--json") {
            options.json = true;
            continue;
        }
        const match = /^--(stack|outputs|svg|train-stack|train-outputs)(?:=(.*))?$/s.exec(arg);
        if (match === null) throw new ReportInputError(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
        const flag = match[1] as keyof typeof OPTION_OF_FLAG;
        let value = match[2];
        if (value === undefined) {
            value = argv[++i];
            if (value === undefined) throw new ReportInputError(`--${flag} needs a value; ${USAGE}`);
        }
        if (value === "") throw new ReportInputError(`--${flag} must not be empty; ${USAGE}`);
        options[OPTION_OF_FLAG[flag]] = value;
    }
    if (options.stack === undefined && options.outputs === undefined) {
        throw new ReportInputError(`missing --stack (or --outputs <file.json>); ${USAGE}`);
    }
    return options;
}

/** report-<stack>.svg, with characters other than letters, digits, '.', '_' and '-' (e.g. the '/' of org/project/stack) as '_'. */
export function defaultSvgPath(stack: string | undefined): string {
    return stack === undefined ? "report.svg" : `report-${stack.replace(/[^A-Za-z0-9._-]/g, "_")}.svg`;
}

class WriteError extends Error {}

function main(): void {
    try {
        const options = parseArgs(process.argv.slice(2));
        const { runs, cost } =
            options.outputs !== undefined
                ? loadOutputsFile(options.outputs)
                : readStackOutputs(options.stack as string);
        const trainCost =
            options.trainOutputs !== undefined
                ? parseStackCost(readOutputsFile(options.trainOutputs), options.trainOutputs)
                : options.trainStack !== undefined
                  ? readStackCost(options.trainStack)
                  : undefined;
        const observed = loadObserved();
        const report = buildReport(runs, observed);
        const svgPath = options.svg ?? defaultSvgPath(options.stack);
        const title =
            options.stack !== undefined
                ? `Eval runs of stack ${options.stack}: HR@K and NDCG@K`
                : "Eval runs: HR@K and NDCG@K";
        const svg = renderSvg(report, { title, referenceLabel: `SOP observed (${observed.date})` });
        try {
            fs.writeFileSync(svgPath, svg);
        } catch (err) {
            throw new WriteError(
                `cannot write the SVG to ${svgPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
            );
        }
        process.stdout.write(
            options.json
                ? formatJsonReport(report, observed.source, svgPath, cost, trainCost)
                : formatPlainReport(report, observed.source, svgPath, cost, trainCost),
        );
    } catch (err) {
        if (!(err instanceof ReportInputError) && !(err instanceof WriteError)) throw err;
        // Exactly one line, even if an underlying message has line breaks.
        process.stderr.write(`report: error: ${err.message.replace(/\s*\n\s*/g, " ")}\n`);
        process.exitCode = err instanceof ReportInputError ? EXIT_BAD_INPUT : EXIT_WRITE_FAILED;
    }
}

if (require.main === module) main();
