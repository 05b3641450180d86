import { spawn } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';

/**
 * A run's live data is small and bounded (rows wait in spool files on disk), but on a machine with much
 * memory Node sizes its heap limit from the RAM and V8 then postpones collection, letting the process
 * grow to many hundreds of MB for nothing. `run` therefore executes in a child Node process whose old
 * generation is capped, so its memory stays flat whatever the input size. The parent only forwards
 * signals and the exit code.
 */

const CAPPED_MARK = 'SELLIGENT_EXPORT_HEAP_CAPPED';
export const DEFAULT_HEAP_MB = 192;
/**
 * The main thread only reads, hands work to worker threads and sends requests: a small young generation
 * is enough, and V8's default for a large machine would add tens of MiB.
 */
const SEMI_SPACE_MB = 4;

/** The cap in MiB, or undefined when this process should run the export itself. */
export function heapCapToApply(env: NodeJS.ProcessEnv, execArgv: string[]): number | undefined {
  if (env[CAPPED_MARK]) return undefined;
  if (execArgv.some((arg) => arg.startsWith('--max-old-space-size')) || (env.NODE_OPTIONS ?? '').includes('--max-old-space-size')) return undefined;
  const wanted = Number(env.SELLIGENT_EXPORT_MAX_HEAP_MB ?? DEFAULT_HEAP_MB);
  if (!Number.isFinite(wanted) || wanted <= 0) return undefined;
  // Already small enough (a container with a memory limit): nothing to gain from a second process.
  if (getHeapStatistics().heap_size_limit <= wanted * 1024 * 1024 * 1.5) return undefined;
  return Math.round(wanted);
}

/** Runs this same command in a child with the heap cap; resolves with its exit code. */
export function runWithHeapCap(capMb: number, script: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${capMb}`, `--max-semi-space-size=${SEMI_SPACE_MB}`, script, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [CAPPED_MARK]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  return new Promise((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', forward);
      resolve(code ?? (signal === 'SIGKILL' ? 137 : 1));
    });
  });
}
