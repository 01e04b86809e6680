/**
 * CLI twin of upstream MiniOneRec calc.py:
 *
 *   npm run --silent calc -- --path <predictions.json> --item_path <info.txt> [--json]
 *
 * Without --json it prints exactly what calc.py prints on stdout. With --json it prints one line
 * {"n","invalid","k","hr","ndcg","n_beam"}. Bad input prints one line on stderr, naming the file (and the record)
 * and exits with 2. All metric logic lives in components/metrics/calc.ts; this file only parses arguments and does I/O.
 */
import * as fs from 'fs';

import {
  assertRecordList,
  CalcEvaluation,
  CalcInputError,
  evaluateCalc,
  formatCalcPyStdout,
  resolveItemPath,
} from '../components/metrics/calc';

const USAGE = 'usage: calc --path <predictions.json> --item_path <info.txt> [--json]';
const EXIT_BAD_INPUT = 2;

interface CliOptions {
  path: string;
  itemPath: string;
  json: boolean;
}

/** Input problem to report as a single stderr line with exit code 2. */
class BadInputError extends Error {}

/** Accepts `--flag value` and `--flag=value`; `--item-path` is an alias, as Fire maps '-' to '_'. */
function parseArgs(argv: readonly string[]): CliOptions {
  const values = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--json') {
      json = true;
      continue;
    }
    const match = /^--(path|item[_-]path)(?:=(.*))?$/s.exec(arg);
    if (match === null) throw new BadInputError(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
    const name = (match[1] as string).replace('-', '_');
    let value = match[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new BadInputError(`--${name} needs a value; ${USAGE}`);
    }
    values.set(name, value);
  }
  const path = values.get('path');
  const itemPath = values.get('item_path');
  if (path === undefined) throw new BadInputError(`missing --path; ${USAGE}`);
  if (itemPath === undefined) throw new BadInputError(`missing --item_path; ${USAGE}`);
  return { path, itemPath, json };
}

/**
 * Read a file as Python's text mode would: strict UTF-8 (a decode error is a crash upstream) and a leading BOM
 * kept as U+FEFF (Python's 'utf-8' codec keeps it; Node's default decoding would drop it).
 */
function readTextFile(file: string, role: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new BadInputError(`${file}: cannot read ${role}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new BadInputError(`${file}: ${role} is not valid UTF-8`);
  }
}

function readPredictions(file: string): unknown {
  const text = readTextFile(file, 'predictions file');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadInputError(`${file}: predictions file is not valid JSON: ${(err as Error).message}`);
  }
}

function run(argv: readonly string[]): string {
  const options = parseArgs(argv);
  const records = readPredictions(options.path);
  const itemFile = resolveItemPath(options.itemPath);
  const itemText = readTextFile(itemFile, 'item file');
  let evaluation: CalcEvaluation;
  try {
    evaluation = evaluateCalc(assertRecordList(records), itemText);
  } catch (err) {
    if (err instanceof CalcInputError) throw new BadInputError(`${options.path}: ${err.message}`);
    throw err;
  }
  const { metrics, invalidPredictions } = evaluation;
  if (!options.json) return formatCalcPyStdout(metrics, invalidPredictions);
  const { n, invalid, k, hr, ndcg, n_beam } = metrics;
  return `${JSON.stringify({ n, invalid, k, hr, ndcg, n_beam })}\n`;
}

function main(): void {
  try {
    process.stdout.write(run(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    // One line, whatever the underlying message contains.
    process.stderr.write(`calc: error: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exitCode = EXIT_BAD_INPUT;
  }
}

main();
