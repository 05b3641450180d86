#!/usr/bin/env node
// First: SIGTERM/SIGINT are caught from here on, while the rest loads (see signals.ts).
import { interruption } from './signals.js';
import { parseArgs } from 'node:util';
import { ExitCode, asExporterError } from './errors.js';
import { TOOL_NAME, VERSION } from './version.js';
import { closest } from './config/closest.js';
import { REQUIRED_SETTINGS } from './config/required-settings.js';

const EXIT_CODES = `Exit codes: 0 success (also a partial run within tolerance), 1 internal error, 2 configuration error,
3 input data error, 4 authentication/permission failure, 5 transient failure (safe to run again),
6 partial failure (writes happened, then a stage failed or rejections exceeded the tolerance).
`;

const MAIN_HELP = `${TOOL_NAME} ${VERSION}
Loads a Treasure Data query result into a Selligent (Marigold Engage) List, then into static Segments.

Usage:
  ${TOOL_NAME} run [options]         export a query result (see: ${TOOL_NAME} help run)
  ${TOOL_NAME} report FILE [--json]  print a run report for a person to read (see: ${TOOL_NAME} help report)
  ${TOOL_NAME} simulate [options]    start the local Selligent API simulator (see: ${TOOL_NAME} help simulate)
  ${TOOL_NAME} state show URI        show a changes-only sync state (see: ${TOOL_NAME} help state)
  ${TOOL_NAME} help [COMMAND] | --help | --version

From a clone of the repository, after npm ci and npm run build: npx ${TOOL_NAME} ... (or node dist/cli.js ...).

${EXIT_CODES}`;

const RUN_HELP = `Usage: ${TOOL_NAME} run --settings FILE --input URI [options]

Reads and validates the query result, deduplicates it by key, checks Selligent (preflight, reads only),
loads the List, then each Segment, and writes a JSON run report that accounts for every input row.

Required (each flag can come from its environment variable instead):
  --settings FILE   result_settings as YAML or JSON: the bare map, or a document with a top-level
                    result_settings: key. Default: env RESULT_SETTINGS, then env result_settings.
                    Required settings: ${REQUIRED_SETTINGS.join(', ')}
                    (all settings: docs/settings.md).
  --input URI       the query result: a local file or directory, file://..., s3://bucket/key or
                    s3://bucket/prefix/. Default: env INPUT_URI.
  env SELLIGENT_BASE_URL, SELLIGENT_API_KEY, SELLIGENT_API_SECRET: the tenant (https://...) and the
                    service account's key and secret.

Options:
  --format FORMAT   csv, tsv or jsonl. Default: env INPUT_FORMAT, else from the file name, else csv.
  --schema FILE     the query result's column types: [["name","type"],...] or {"columns":[{"name","type"}]}.
                    Default: env SCHEMA_PATH; without one, types are inferred from the values.
  --report FILE     where to write the JSON run report. Default: env REPORT_PATH, else
                    .digdag/tmp/selligent-export-report.json when .digdag/tmp exists, else
                    ./selligent-export-report.json. Read it with: ${TOOL_NAME} report FILE
  --rejected FILE   where to write skipped and rejected rows (JSON Lines). Default: env REJECTED_PATH,
                    else beside the report (selligent-export-report.rejected.jsonl).
  --temp-dir DIR    an existing directory to spool rows in while deduplicating. Default: env
                    SELLIGENT_EXPORT_TMPDIR, else the OS temp directory (env TMPDIR, else /tmp).
  --dry-run         read, validate and preflight, then report what would be written; write nothing.
  --force           for this run only, go on although the Segment guard (max_segment_removal_ratio,
                    min_segment_members) would stop it; the report says the guard was overridden.
  --full-resync     with sync_mode: changes, send every row this run and write a fresh state.
  -h, --help        this help.

Environment:
  AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
  AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE            object storage
  LOG_LEVEL (info), LOG_FORMAT (json | pretty)        the log on stdout; the summary line is last
  SELLIGENT_EXPORT_MAX_HEAP_MB (192), SELLIGENT_EXPORT_READ_THREADS (one per CPU, at most 4)

Example (settings.yml holds at least the four required settings):
  export SELLIGENT_BASE_URL=https://customer.slgnt.eu SELLIGENT_API_KEY=... SELLIGENT_API_SECRET=...
  ${TOOL_NAME} run --settings settings.yml --input s3://my-bucket/exports/2026-11-27/ --dry-run

${EXIT_CODES}`;

const RUN_OPTIONS = {
  settings: { type: 'string' },
  input: { type: 'string' },
  format: { type: 'string' },
  schema: { type: 'string' },
  report: { type: 'string' },
  rejected: { type: 'string' },
  'temp-dir': { type: 'string' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  'full-resync': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  // A reader that goes away (EPIPE) is no reason to stop: log.ts drops the lines, this drops the event.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    if (command === 'help' && rest[0] !== undefined) return help(rest[0]);
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
  if (command === 'report') return report(rest);
  if (command === 'state') {
    const { stateCommand } = await import('./state/command.js');
    return stateCommand(rest, process.env);
  }
  if (command !== 'run') {
    const hint = closest(command, COMMANDS);
    process.stderr.write(
      `${TOOL_NAME}: unknown command ${JSON.stringify(command)}${hint ? ` (did you mean ${hint}?)` : ''}\n\n${MAIN_HELP}`,
    );
    return ExitCode.config;
  }

  let values: ReturnType<typeof parseRunArgs>['values'];
  try {
    ({ values } = parseRunArgs(rest));
  } catch (error) {
    process.stderr.write(
      `${TOOL_NAME} run: ${argumentProblem(error, Object.keys(RUN_OPTIONS))}\nThe options: ${TOOL_NAME} run --help\n`,
    );
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
    force: values.force ?? false,
    fullResync: values['full-resync'] ?? false,
    env: process.env,
    signal: interruption,
  });
  return outcome.exitCode;
}

const COMMANDS = ['run', 'report', 'simulate', 'state', 'help', 'version'];

function parseRunArgs(args: string[]) {
  return parseArgs({ args, allowPositionals: false, strict: true, options: RUN_OPTIONS });
}

/**
 * Node's own parse errors, with the flag a mistyped one most likely meant (`--setting` for
 * `--settings`), as unknown settings get.
 */
function argumentProblem(error: unknown, flags: readonly string[]): string {
  const { code, message } = error as { code?: string; message: string };
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-{1,2}[^'=\s]+)/.exec(message)?.[1] ?? '';
    const hint = closest(flag.replace(/^-+/, ''), flags);
    return `unknown option ${flag || message}${hint ? ` (did you mean --${hint}?)` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return `${message.replace(/\. This command does not take positional arguments$/, '')}: every value follows its option (--input URI, --settings FILE)`;
  }
  return message;
}

async function help(command: string): Promise<number> {
  if (command === 'run') {
    process.stdout.write(RUN_HELP);
    return ExitCode.ok;
  }
  if (command === 'report') return report(['--help']);
  if (command === 'state') {
    const { stateCommand } = await import('./state/command.js');
    return stateCommand(['--help'], process.env);
  }
  if (command === 'simulate') {
    const { simulateCommand } = await import('./simulator/cli.js');
    return simulateCommand(['--help']);
  }
  const hint = closest(command, COMMANDS);
  process.stderr.write(
    `${TOOL_NAME} help: no command ${JSON.stringify(command)}${hint ? ` (did you mean ${hint}?)` : ''}\n\n${MAIN_HELP}`,
  );
  return ExitCode.config;
}

async function report(args: string[]): Promise<number> {
  const { reportCommand } = await import('./report/report-command.js');
  try {
    const result = await reportCommand(args);
    process.stdout.write(result.stdout);
    return result.exitCode;
  } catch (error) {
    if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `${TOOL_NAME} report: ${argumentProblem(error, ['json', 'help'])}\nThe options: ${TOOL_NAME} report --help\n`,
      );
      return ExitCode.config;
    }
    const failure = asExporterError(error);
    if (failure.exitCode === ExitCode.internal) throw error;
    process.stderr.write(`${TOOL_NAME} report: ${failure.message}\n`);
    return failure.exitCode;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    const failure = asExporterError(error);
    process.stderr.write(
      `${TOOL_NAME}: ${failure.exitCode === ExitCode.internal ? `internal error (a bug, please report it): ${failure.stack ?? failure.message}` : failure.message}\n`,
    );
    process.exit(failure.exitCode);
  },
);
