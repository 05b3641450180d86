import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
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
