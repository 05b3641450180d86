/**
 * SIGTERM and SIGINT are caught from the process's first instruction: this module is the CLI's first
 * import, so it runs before anything else is loaded. A signal that arrives while the rest of the program
 * is still loading is remembered and stops the run at its first safe point, which then writes its report
 * and exits 5, instead of the signal's default action killing the process with no report.
 *
 * The handlers stay installed: a second signal (a terminal's Ctrl-C reaches every process of the group,
 * and the heap-capping parent forwards it too) must not kill a run that is already stopping. SIGKILL is
 * the way to stop at once.
 */

const controller = new AbortController();
const listeners = new Set<(signal: NodeJS.Signals) => void>();

/** Aborted with the signal's name ("SIGTERM") by the first SIGTERM or SIGINT. */
export const interruption: AbortSignal = controller.signal;

function onSignal(signal: NodeJS.Signals): void {
  if (!controller.signal.aborted) controller.abort(signal);
  for (const listener of listeners) listener(signal);
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

/** Calls `listener` for every SIGTERM/SIGINT from now on; returns the function that stops it. */
export function onEverySignal(listener: (signal: NodeJS.Signals) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Stops the run as a signal would; the reason is what the log and report name. */
export function interrupt(reason: string): void {
  if (!controller.signal.aborted) controller.abort(reason);
}

/**
 * In the heap-capped child (see heap.ts): tells the parent that signals are now handled, so it can
 * forward one that arrived earlier, and stops the run when the parent goes away. The parent may be
 * killed with SIGKILL, which it cannot forward; its end closes the IPC channel, which the child sees on
 * Node 20 and 24 alike (Linux has PR_SET_PDEATHSIG, but Node offers no way to set it). The channel is
 * unref'd so that it never keeps a finished run alive.
 */
if (process.env.SELLIGENT_EXPORT_HEAP_CAPPED && process.send && process.channel) {
  process.on('disconnect', () => interrupt('the loss of its parent process'));
  if (!process.connected) interrupt('the loss of its parent process');
  // A send that fails means the parent is already gone: the disconnect that follows stops the run.
  else process.send({ ready: true }, () => undefined);
  process.channel.unref();
}
