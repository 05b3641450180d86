#!/usr/bin/env node
// First: SIGTERM/SIGINT are caught from here on, while the rest loads (see signals.ts).
import { interruption } from './signals.js';
import { parseArgs } from 'node:util';
import { ConfigError, ExitCode, asExporterError } from './errors.js';
import { TOOL_NAME, VERSION } from './version.js';

const MAIN_HELP = `${TOOL_NAME} ${VERSION}
Loads a Treasure Data query result into a Selligent (Marigold Engage) List, then into static Segments.

Usage:
  ${TOOL_NAME} run [options]         export a query result (see: ${TOOL_NAME} run --help)
  ${TOOL_NAME} simulate [options]    start the local Selligent API simulator (see: ${TOOL_NAME} simulate --help)
  ${TOOL_NAME} state show URI        show a changes-only sync state (see: ${TOOL_NAME} state --help)
  ${TOOL_NAME} --help | --version

Exit codes: 0 success (also a partial run within tolerance), 1 internal error, 2 configuration error,
3 input data error, 4 authentication/permission failure, 5 transient failure (safe to run again),
6 partial failure (writes happened, then a stage failed or rejections exceeded the tolerance).
`;

const RUN_HELP = `Usage: ${TOOL_NAME} run [options]

Options:
  --settings FILE   result_settings as YAML or JSON: the bare map, or a document with a top-level
                    result_settings: key. Default: env RESULT_SETTINGS, then result_settings.
  --input URI       the query result: a local path, file://, s3://bucket/key or s3://bucket/prefix/.
                    Default: env INPUT_URI.
  --format FORMAT   csv, tsv or jsonl. Default: env INPUT_FORMAT, else from the file name, else csv.
  --schema FILE     the query result's column types: [["name","type"],...] or {"columns":[{"name","type"}]}.
                    Without it, types are inferred from the values.
  --report FILE     where to write the JSON run report. Default: env REPORT_PATH, else
                    .digdag/tmp/selligent-export-report.json when .digdag/tmp exists, else
                    ./selligent-export-report.json.
  --rejected FILE   where to write rejected rows (JSON Lines). Default: beside the report.
  --temp-dir DIR    where to spool rows while deduplicating. Default: env TMPDIR or the OS default.
  --dry-run         read, validate and preflight, then report what would be written; write nothing.
  --full-resync     with sync_mode: changes, send every row this run and write a fresh state.
  -h, --help        this help.

Environment:
  SELLIGENT_BASE_URL, SELLIGENT_API_KEY, SELLIGENT_API_SECRET   Selligent credentials (required)
  AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
  AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE                       object storage
  LOG_LEVEL (info), LOG_FORMAT (json | pretty)
`;

export async function main(argv: string[]): Promise<number> {
  // A reader that goes away (EPIPE) is no reason to stop: log.ts drops the lines, this drops the event.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command === undefined ? ExitCode.config : ExitCode.ok;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return ExitCode.ok;
  }
  if (command === 'simulate') {
    const { simulateCommand } = await import('./simulator/cli.js');
    return simulateCommand(rest);
  }
  if (command === 'state') {
    const { stateCommand } = await import('./state/command.js');
    return stateCommand(rest, process.env);
  }
  if (command !== 'run') {
    process.stderr.write(`${TOOL_NAME}: unknown command ${JSON.stringify(command)}\n\n${MAIN_HELP}`);
    return ExitCode.config;
  }

  let values: ReturnType<typeof parseRunArgs>['values'];
  try {
    ({ values } = parseRunArgs(rest));
  } catch (error) {
    process.stderr.write(`${TOOL_NAME} run: ${(error as Error).message}\n\n${RUN_HELP}`);
    return ExitCode.config;
  }
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return ExitCode.ok;
  }
  const { heapCapToApply, runWithHeapCap } = await import('./heap.js');
  const cap = heapCapToApply(process.env, process.execArgv);
  if (cap !== undefined) return runWithHeapCap(cap, process.argv[1]!, argv);
  const { runCommand } = await import('./run.js');
  const outcome = await runCommand({
    settingsPath: values.settings,
    input: values.input,
    format: values.format,
    schemaPath: values.schema,
    reportPath: values.report,
    rejectedPath: values.rejected,
    tempDir: values['temp-dir'],
    dryRun: values['dry-run'] ?? false,
    fullResync: values['full-resync'] ?? false,
    env: process.env,
    signal: interruption,
  });
  return outcome.exitCode;
}

function parseRunArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      settings: { type: 'string' },
      input: { type: 'string' },
      format: { type: 'string' },
      schema: { type: 'string' },
      report: { type: 'string' },
      rejected: { type: 'string' },
      'temp-dir': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'full-resync': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    const failure = asExporterError(error);
    process.stderr.write(`${TOOL_NAME}: ${failure.exitCode === ExitCode.internal ? `internal error (a bug, please report it): ${failure.stack ?? failure.message}` : failure.message}\n`);
    process.exit(failure instanceof ConfigError ? ExitCode.config : failure.exitCode);
  },
);
