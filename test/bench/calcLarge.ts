// `npm run bench:calc`: a predictions file of about 1 GiB (more than the longest string V8 can build, so it has to be
// streamed) through the calc CLI, in a temp directory that is removed afterwards. It prints the wall time and peak
// memory of each run, from /usr/bin/time -v, and checks the figures against the ones the generator knows.
//
//   npm run bench:calc [-- --mib 1024] [--compare-mib 64] [--keep]
//
// The records have the shape evaluate.py writes (json.dump, indent=4): a prompt, an "output" SID and 50 "predict"
// SIDs from a 3,500-item catalog, hits at seeded random ranks. Runs:
//   1. --json, streamed (one pass);
//   2. plain, streamed, no invalid prediction (one pass: what a clean eval run needs);
//   3. plain, streamed, with a few invalid predictions (two passes: the second prints them);
//   4. with --compare-mib: a smaller file read whole and streamed, to show what the streaming threshold trades.
import { spawnSync } from "child_process";
import { constants as bufferConstants } from "buffer";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { CALC_TOPK_LIST, cpythonLn } from "../../components/metrics/calc";
import { mulberry32 } from "../helpers/mulberry32";

const ROOT = path.resolve(__dirname, "..", "..");
const N_BEAM = 50;
const N_ITEMS = 3500;

function option(name: string, fallback: number): number {
    const i = process.argv.indexOf(name);
    if (i === -1) return fallback;
    const value = Number(process.argv[i + 1]);
    if (!Number.isInteger(value) || value <= 0) {
        throw new Error(`${name} ${process.argv[i + 1]}: must be a positive whole number of MiB`);
    }
    return value;
}

/** What the generator knows about the file it wrote: calc.py's figures, computed in calc.py's order. */
interface Expected {
    n: number;
    invalid: number;
    hr: number[];
    ndcg: number[];
    bytes: number;
}

/**
 * Write about `mib` MiB of predictions as json.dump(records, f, indent=4) lays them out, and the item file. The
 * first `invalidRecords` records each carry one prediction that is not in the catalog, before their hit.
 */
function generate(dir: string, mib: number, invalidRecords: number): Expected {
    const random = mulberry32(20260129);
    const sid = (i: number) => `<a_${i % 256}><b_${(i * 7) % 256}><c_${(i * 13) % 256}>`;
    const items = Array.from({ length: N_ITEMS }, (_, i) => `${sid(i)}\tItem number ${i}\t${i}\n`).join("");
    fs.writeFileSync(path.join(dir, "items.txt"), items);

    const target = mib * 1024 * 1024;
    const fd = fs.openSync(path.join(dir, "predictions.json"), "w");
    const kList = CALC_TOPK_LIST.filter((k) => k <= N_BEAM);
    const hrAcc = kList.map(() => 0);
    const ndcgAcc = kList.map(() => 0);
    let bytes = 0;
    let n = 0;
    let batch: string[] = [];
    let batchLength = 0;
    const flush = () => {
        const buffer = Buffer.from(batch.join(""));
        fs.writeSync(fd, buffer);
        bytes += buffer.length;
        batch = [];
        batchLength = 0;
    };
    const push = (text: string) => {
        batch.push(text);
        batchLength += text.length;
        if (batchLength > 8 * 1024 * 1024) flush();
    };
    // Each record is laid out by hand (much faster than JSON.stringify with indent); the first one is checked
    // against JSON.stringify(record, null, 4), which matches json.dump(indent=4) for ASCII strings.
    const quoted = Array.from({ length: N_ITEMS }, (_, i) => `            ${JSON.stringify(sid(i))}`);
    push("[");
    while (bytes + batchLength < target) {
        const history = Array.from({ length: 10 }, () => sid(Math.floor(random() * N_ITEMS))).join(", ");
        const answer = Math.floor(random() * N_ITEMS);
        // 30% misses; otherwise a rank in 0..49, weighted towards the top.
        const rank0 = random() < 0.3 ? -1 : Math.floor(N_BEAM * random() * random());
        const predict: number[] = [];
        for (let i = 0; predict.length < N_BEAM; i++) {
            predict.push(predict.length === rank0 ? answer : (answer + 1 + i) % N_ITEMS);
        }
        const lines = predict.map((item) => quoted[item] as string);
        if (n < invalidRecords) lines[0] = `            "<a_999><b_${n}><c_0>"`;
        const input =
            "Can you predict the next possible item the user may expect, given the following chronological " +
            `interaction history: ${history}`;
        const output = `${sid(answer)}\n`;
        const text =
            `{\n        "input": ${JSON.stringify(input)},\n        "output": ${JSON.stringify(output)},\n` +
            `        "predict": [\n${lines.join(",\n")}\n        ]\n    }`;
        if (n === 0) {
            const record = { input, output, predict: lines.map((line) => JSON.parse(line) as string) };
            if (text !== JSON.stringify(record, null, 4).replace(/\n/g, "\n    ")) {
                throw new Error("the hand-made layout differs from JSON.stringify(record, null, 4)");
            }
        }
        push(`${n === 0 ? "" : ","}\n    ${text}`);
        if (rank0 >= 0) {
            kList.forEach((k, i) => {
                if (rank0 < k) {
                    ndcgAcc[i] = (ndcgAcc[i] as number) + 1 / cpythonLn(rank0 + 2);
                    hrAcc[i] = (hrAcc[i] as number) + 1;
                }
            });
        }
        n += 1;
    }
    push("\n]");
    flush();
    fs.closeSync(fd);
    const invLn2 = 1 / cpythonLn(2);
    return {
        n,
        invalid: Math.min(invalidRecords, n),
        hr: hrAcc.map((acc) => acc / n),
        ndcg: ndcgAcc.map((acc) => acc / n / invLn2),
        bytes,
    };
}

interface Measured {
    seconds: number;
    peakMiB: number;
    stdout: string;
}

/** Run the calc CLI under /usr/bin/time -v; stdout goes to a file so that the pipe does not hold it in memory. */
function runCli(dir: string, args: readonly string[], streamAbove: number): Measured {
    const stdoutFile = path.join(dir, "stdout.txt");
    const out = fs.openSync(stdoutFile, "w");
    const child = spawnSync(
        "/usr/bin/time",
        [
            "-v",
            process.execPath,
            "-r",
            "ts-node/register/transpile-only",
            "scripts/calc.ts",
            "--path",
            path.join(dir, "predictions.json"),
            "--item_path",
            path.join(dir, "items.txt"),
            ...args,
        ],
        {
            cwd: ROOT,
            env: { ...process.env, CALC_STREAM_ABOVE_BYTES: String(streamAbove) },
            stdio: ["ignore", out, "pipe"],
            encoding: "utf8",
        },
    );
    fs.closeSync(out);
    const stderr = child.stderr ?? "";
    if (child.status !== 0) throw new Error(`calc ${args.join(" ")} failed (${child.status}): ${stderr.slice(-2000)}`);
    const field = (label: string): string => {
        const match = new RegExp(`${label}: (.+)`).exec(stderr);
        if (match === null) throw new Error(`/usr/bin/time printed no "${label}"`);
        return match[1] as string;
    };
    const clock = field("Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)")
        .split(":")
        .map(Number)
        .reduce((total, part) => total * 60 + part, 0);
    const stdout = fs.readFileSync(stdoutFile, "utf8");
    fs.rmSync(stdoutFile);
    return { seconds: clock, peakMiB: Number(field("Maximum resident set size \\(kbytes\\)")) / 1024, stdout };
}

/** The --json line must carry exactly the generator's figures (bit for bit: same operations in the same order). */
function checkJson(measured: Measured, expected: Expected): void {
    const got = JSON.parse(measured.stdout) as { n: number; invalid: number; hr: number[]; ndcg: number[] };
    const want = { n: expected.n, invalid: expected.invalid, hr: expected.hr, ndcg: expected.ndcg };
    const have = { n: got.n, invalid: got.invalid, hr: got.hr, ndcg: got.ndcg };
    if (JSON.stringify(have) !== JSON.stringify(want)) {
        throw new Error(
            `calc --json disagrees with the generator:\n got  ${JSON.stringify(have)}\n want ${JSON.stringify(want)}`,
        );
    }
}

/** Plain output: the invalid prints, then the block whose last line is the invalid count. */
function checkPlain(measured: Measured, expected: Expected): void {
    const lines = measured.stdout.trimEnd().split("\n");
    const printed = lines.length - 5;
    if (printed !== 2 * expected.invalid || lines[lines.length - 1] !== String(expected.invalid)) {
        throw new Error(`plain output has ${printed} print lines and ends ${JSON.stringify(lines.slice(-5))}`);
    }
}

function report(label: string, expected: Expected, m: Measured): void {
    const mib = expected.bytes / 1024 / 1024;
    console.log(
        `${label.padEnd(52)} ${mib.toFixed(0).padStart(5)} MiB  ${m.seconds.toFixed(2).padStart(7)} s  ` +
            `${(mib / m.seconds).toFixed(0).padStart(4)} MiB/s  peak RSS ${m.peakMiB.toFixed(0).padStart(5)} MiB`,
    );
}

function main(): void {
    const mib = option("--mib", 1024);
    const compareMib = process.argv.includes("--compare-mib") ? option("--compare-mib", 64) : 0;
    const keep = process.argv.includes("--keep");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "calc-large-"));
    const results: Record<string, { seconds: number; peakMiB: number }> = {};
    try {
        console.log(`node ${process.version}; the longest JS string: ${bufferConstants.MAX_STRING_LENGTH} code units`);
        let started = process.hrtime.bigint();
        const expected = generate(dir, mib, 0);
        const generateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        console.log(
            `generated ${expected.bytes} bytes, ${expected.n} records, in ${generateSeconds.toFixed(1)} s (${dir})`,
        );
        if (expected.bytes <= bufferConstants.MAX_STRING_LENGTH) {
            console.log("note: this file would fit in one string; use --mib 1024 for the real case");
        }
        const json = runCli(dir, ["--json"], 0);
        checkJson(json, expected);
        report("--json, streamed", expected, json);
        const plain = runCli(dir, [], 0);
        checkPlain(plain, expected);
        report("plain, streamed, 0 invalid (one pass)", expected, plain);
        results.json = json;
        results.plain = plain;

        started = process.hrtime.bigint();
        const withInvalid = generate(dir, mib, 100);
        console.log(
            `regenerated with 100 invalid predictions in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`,
        );
        const twoPass = runCli(dir, [], 0);
        checkPlain(twoPass, withInvalid);
        report("plain, streamed, 100 invalid (two passes)", withInvalid, twoPass);
        results.plainTwoPass = twoPass;

        if (compareMib > 0) {
            const small = generate(dir, compareMib, 0);
            const whole = runCli(dir, ["--json"], bufferConstants.MAX_STRING_LENGTH);
            checkJson(whole, small);
            report("--json, read whole", small, whole);
            const streamed = runCli(dir, ["--json"], 0);
            checkJson(streamed, small);
            report("--json, streamed", small, streamed);
            results.compareWhole = whole;
            results.compareStreamed = streamed;
        }
        console.log("every run's figures equal the generator's, bit for bit");
        console.log(
            JSON.stringify({
                bytes: expected.bytes,
                records: expected.n,
                generateSeconds,
                runs: Object.fromEntries(
                    Object.entries(results).map(([k, v]) => [k, { seconds: v.seconds, peakMiB: v.peakMiB }]),
                ),
            }),
        );
    } finally {
        if (keep) console.log(`kept ${dir}`);
        else fs.rmSync(dir, { recursive: true, force: true });
    }
}

main();
