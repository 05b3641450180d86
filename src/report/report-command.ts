import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, ExitCode, InputError } from '../errors.js';
import { fsReason } from '../fs-errors.js';
import { TOOL_NAME } from '../version.js';
import { renderReport } from './render.js';
import { countRowsFile, type RowsFileCounts } from './rows-file-counts.js';
import { validateReport } from './schema-check.js';
import type { RunReport } from './types.js';

export const REPORT_HELP = `Usage: ${TOOL_NAME} report FILE [--json]

Prints a run report (the JSON file ${TOOL_NAME} run writes) as a person reads it: status, where every
input row went, the List, a table of the Segments, why rows were skipped or not applied, durations,
requests and retries; the rows file beside it counted by stage and reason. The file is checked against the report's JSON Schema (docs/report.schema.json)
first.

Options:
  --json       print the report as JSON instead, after the same check (for jq and other tools)
  -h, --help   this help.

Example:
  ${TOOL_NAME} report selligent-export-report.json

Exit codes: 0 printed; 2 usage error or FILE cannot be read; 3 FILE is not JSON or not a run report
(each problem is named with its JSON path). The exit code does not repeat the run's own status.
`;

/** `report FILE [--json]`: the text to print, or a typed error. */
export async function reportCommand(args: string[]): Promise<{ exitCode: ExitCode; stdout: string }> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return { exitCode: ExitCode.ok, stdout: REPORT_HELP };
  const [path, ...extra] = positionals;
  if (path === undefined)
    throw new ConfigError(
      'REPORT_FILE_MISSING',
      `which report? Give its path, e.g. ${TOOL_NAME} report selligent-export-report.json`,
      {},
    );
  if (extra.length > 0)
    throw new ConfigError(
      'REPORT_ARGS_INVALID',
      `one report at a time; also got ${extra.map((arg) => JSON.stringify(arg)).join(', ')}`,
      {},
    );
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('REPORT_FILE_UNREADABLE', `cannot read ${path} (${fsReason(error)})`, {});
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError('REPORT_NOT_JSON', `${path} is not JSON (${(error as Error).message})`, {});
  }
  const problems = validateReport(json);
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((problem) => `  - ${problem.path || '(top level)'}: ${problem.message}`);
    if (problems.length > shown.length) shown.push(`  - and ${problems.length - shown.length} more`);
    throw new InputError(
      'REPORT_INVALID',
      `${path} is not a valid run report (docs/report.schema.json):\n${shown.join('\n')}`,
      {},
    );
  }
  const report = json as RunReport;
  if (values.json) return { exitCode: ExitCode.ok, stdout: `${JSON.stringify(report, null, 2)}\n` };
  return { exitCode: ExitCode.ok, stdout: renderReport(report, await rowsFileCounts(report, path)) };
}

/**
 * The rows file's path as the run wrote it: absolute, or relative to the run's working directory, which
 * is usually this one; else it is looked for beside the report.
 */
async function rowsFileCounts(report: RunReport, reportPath: string): Promise<RowsFileCounts | undefined> {
  const file = report.rejected_rows.file;
  if (!file) return undefined;
  for (const candidate of isAbsolute(file) ? [file] : [file, join(dirname(reportPath), basename(file))]) {
    const text = await readFile(candidate, 'utf8').catch(() => undefined);
    if (text !== undefined) return countRowsFile(text);
  }
  return undefined;
}
