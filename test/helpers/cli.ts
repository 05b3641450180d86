import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { RunReport } from '../../src/report/types.ts';
import { validateReport } from '../../src/report/schema-check.ts';
import { cappedHeapArgs, DEFAULT_HEAP_MB } from '../../src/heap.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  report: RunReport | undefined;
  reportPath: string;
  rejected: Array<Record<string, unknown>>;
  rejectedText: string;
  dir: string;
}

export interface CliRun {
  args?: string[];
  settings?: Record<string, unknown>;
  input?: string;
  env?: Record<string, string | undefined>;
  dir?: string;
  /** Called with the child once started (for signals). */
  onStart?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

/**
 * The run's heap limits given to the CLI itself, so it runs the export in its own process (as it does
 * where the heap is capped already, in a container with a memory limit) instead of starting a second
 * Node process that gets them: that start-up is a good part of a small test run. Runs that send
 * signals (onStart) keep the heap-capping parent and its child, and test/e2e/process.test.ts covers the
 * pair.
 */
const ONE_PROCESS = cappedHeapArgs(DEFAULT_HEAP_MB);

/** Runs the built CLI as a child process, the way users and digdag run it. */
export async function runCli(run: CliRun): Promise<CliResult> {
  const dir = run.dir ?? mkdtempSync(join(tmpdir(), 'sx-test-'));
  const reportPath = join(dir, 'report.json');
  const args = ['run', '--report', reportPath];
  if (run.settings) {
    const settingsPath = join(dir, 'settings.yml');
    writeFileSync(settingsPath, stringify(run.settings));
    args.push('--settings', settingsPath);
  }
  if (run.input) args.push('--input', run.input);
  args.push(...(run.args ?? []));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...run.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const nodeArgs = run.onStart || env.SELLIGENT_EXPORT_MAX_HEAP_MB !== undefined ? [] : ONE_PROCESS;
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  run.onStart?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs ?? 120_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  const report = existsSync(reportPath) ? readReport(reportPath) : undefined;
  const rejectedPath = report?.rejected_rows.file ?? join(dir, 'report.rejected.jsonl');
  const rejectedText = existsSync(rejectedPath) ? readFileSync(rejectedPath, 'utf8') : '';
  const rejected = rejectedText
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, signal, stdout, stderr, report, reportPath, rejected, rejectedText, dir };
}

/** A run report from disk, checked against docs/report.schema.json: every report a test reads conforms. */
export function readReport(path: string): RunReport {
  const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const problems = validateReport(json);
  if (problems.length > 0)
    throw new Error(
      `${path} does not match docs/report.schema.json:\n${problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n')}`,
    );
  return json as RunReport;
}

export function writeInput(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sx-test-'));
}

/** The accounting promise, asserted in every end-to-end test. */
export function assertBalanced(report: RunReport | undefined): void {
  if (!report?.accounting) throw new Error('report has no accounting');
  const a = report.accounting;
  const sum = a.skipped + a.merged_duplicates + a.rejected + a.not_applied + a.loaded + (a.unchanged ?? 0);
  if (sum !== a.input_rows || !a.balanced) throw new Error(`accounting does not balance: ${JSON.stringify(a)}`);
}
