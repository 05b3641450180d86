import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { fsReason } from '../fs-errors.js';
import { scrubJson } from '../secrets.js';
import type { RunReport } from './types.js';

export const DEFAULT_REPORT_NAME = 'selligent-export-report.json';

/**
 * `--report`, else `REPORT_PATH`, else under `.digdag/tmp/` when it exists in the working directory (the
 * only place digdag's ECS executor brings files back from), else the working directory.
 */
export function resolveReportPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  if (flag) return flag;
  if (env.REPORT_PATH) return env.REPORT_PATH;
  const digdagTmp = join(cwd, '.digdag', 'tmp');
  if (existsSync(digdagTmp)) return join(digdagTmp, DEFAULT_REPORT_NAME);
  return join(cwd, DEFAULT_REPORT_NAME);
}

/** Written to a temporary file beside the target, then renamed, so a reader never sees half a report. */
export async function writeReport(path: string, report: RunReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  const text = JSON.stringify(scrubJson(report), null, 2) + '\n';
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Checks, before the run does anything, that the report can be written where it will be: its directory
 * is created and a file is written and removed there, as `writeReport` will. A run whose outcome cannot
 * be recorded is refused as a configuration error.
 */
export async function checkReportLocation(path: string): Promise<void> {
  const probe = `${path}.${process.pid}.tmp`;
  try {
    if ((await stat(path).catch(() => undefined))?.isDirectory())
      throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    await mkdir(dirname(path), { recursive: true });
    await writeFile(probe, '', { mode: 0o644 });
    await rm(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      'REPORT_PATH_UNUSABLE',
      `cannot write the run report at ${path} (${fsReason(error)}): set --report (REPORT_PATH) to a writable path`,
      { stage: 'settings', details: { path, errorCode: code ?? null } },
    );
  }
}
