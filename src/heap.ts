import { spawn } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';
import { interruption, onEverySignal } from './signals.js';

/**
 * A run's live data is small and bounded (rows wait in spool files on disk), but on a machine with much
 * memory Node sizes its heap limit from the RAM and V8 then postpones collection, letting the process
 * grow to many hundreds of MB for nothing. `run` therefore executes in a child Node process whose old
 * generation is capped, so its memory stays flat whatever the input size. The parent only forwards
 * signals and the exit code, and the child stops when the parent is gone.
 */

const CAPPED_MARK = 'SELLIGENT_EXPORT_HEAP_CAPPED';
export const DEFAULT_HEAP_MB = 192;
/**
 * The main thread only reads, hands work to worker threads and sends requests: a small young generation
 * is enough, and V8's default for a large machine would add tens of MiB.
 */
const SEMI_SPACE_MB = 4;

/**
 * glibc's allocator settings for the capped child, unless the environment already chooses them. Node's
 * buffers, zlib streams and worker threads allocate outside the JS heap, where glibc's defaults cost
 * most of a run's memory: up to eight arenas per core, each keeping what a finished thread freed, and an
 * mmap threshold that rises with every large buffer freed, so later spool and piece buffers come from
 * those arenas and fragment them. Two arenas and a fixed threshold (larger buffers are mapped and
 * unmapped on their own) keep that memory returned; other C libraries ignore the variables.
 */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: String(128 * 1024),
};

/** The capped child's environment: this process's, marked as capped, with the allocator settings. */
export function cappedChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...ALLOCATOR_ENV, ...env, [CAPPED_MARK]: '1' };
}

/** The Node options that give a process the capped heap. */
export function cappedHeapArgs(capMb: number): string[] {
  return [`--max-old-space-size=${capMb}`, `--max-semi-space-size=${SEMI_SPACE_MB}`];
}

/** The cap in MiB, or undefined when this process should run the export itself. */
export function heapCapToApply(env: NodeJS.ProcessEnv, execArgv: string[]): number | undefined {
  if (env[CAPPED_MARK]) return undefined;
  if (
    execArgv.some((arg) => arg.startsWith('--max-old-space-size')) ||
    (env.NODE_OPTIONS ?? '').includes('--max-old-space-size')
  )
    return undefined;
  const wanted = Number(env.SELLIGENT_EXPORT_MAX_HEAP_MB ?? DEFAULT_HEAP_MB);
  if (!Number.isFinite(wanted) || wanted <= 0) return undefined;
  // Already small enough (a container with a memory limit): nothing to gain from a second process.
  if (getHeapStatistics().heap_size_limit <= wanted * 1024 * 1024 * 1.5) return undefined;
  return Math.round(wanted);
}

/**
 * Runs this same command in a child with the heap cap; resolves with its exit code.
 *
 * The child is tied to this process by an IPC channel: it says when its signal handlers are installed,
 * and it stops (after the request in flight, writing its report) when the channel closes, which is how
 * it learns that this process died, even by SIGKILL. A SIGTERM/SIGINT here is forwarded once the child
 * is ready; one forwarded earlier would kill it before it could write a report.
 */
export function runWithHeapCap(capMb: number, script: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...cappedHeapArgs(capMb), script, ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: cappedChildEnv(process.env),
  });
  let ready = false;
  const pending: NodeJS.Signals[] =
    interruption.aborted && typeof interruption.reason === 'string' ? [interruption.reason as NodeJS.Signals] : [];
  const forward = (signal: NodeJS.Signals) => {
    if (ready) child.kill(signal);
    else pending.push(signal);
  };
  const stopForwarding = onEverySignal(forward);
  child.on('message', (message: unknown) => {
    if (ready || (message as { ready?: unknown } | null)?.ready !== true) return;
    ready = true;
    for (const signal of pending.splice(0)) child.kill(signal);
  });
  return new Promise((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? (signal === 'SIGKILL' ? 137 : 1));
    });
  });
}
