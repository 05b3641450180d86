import { Worker, parentPort, workerData, type Transferable } from 'node:worker_threads';
import {
  AuthError,
  ConfigError,
  ExporterError,
  InputError,
  InternalError,
  InterruptedError,
  isErrorCode,
  PartialFailureError,
  RefusedError,
  TransientError,
  type ErrorCode,
  type Stage,
} from '../errors.js';
import {
  BatchTooLargeError,
  isSelligentHttpError,
  SelligentAuthError,
  SelligentRefusedError,
  SelligentUnavailableError,
  type HttpExchange,
} from '../selligent/http-error.js';

/**
 * CPU-heavy stages run an async generator on a worker thread and hand its values to the main thread,
 * which keeps the requests to Selligent moving. The main thread grants the worker a number of values
 * it may produce ahead; each value taken grants one more, so at most that many wait at any time.
 */

type Message<T, R> = { type: 'value'; value: T } | { type: 'done'; value: R } | { type: 'error'; error: WireError };

interface WireError {
  name: string;
  message: string;
  code?: string;
  stage?: Stage;
  details?: Record<string, unknown>;
  /** A Selligent request's exchange, for the errors that carry one. */
  http?: HttpExchange;
  mayHaveApplied?: boolean;
  stack?: string;
}

type Rebuild = (code: ErrorCode, wire: WireError) => ExporterError;

const options = (wire: WireError) => ({ stage: wire.stage, details: wire.details });
/** Only an error that carried its exchange is rebuilt as a Selligent HTTP error. */
const withHttp = (wire: WireError, build: (http: HttpExchange) => ExporterError): ExporterError | undefined =>
  wire.http ? build(wire.http) : undefined;

/** Every class of the error family, by name: an error crosses the thread boundary as the class it left as. */
const EXPORTER_ERRORS: Partial<Record<string, Rebuild>> = {
  ConfigError: (code, wire) => new ConfigError(code, wire.message, options(wire)),
  RefusedError: (code, wire) => new RefusedError(code, wire.message, options(wire)),
  InputError: (code, wire) => new InputError(code, wire.message, options(wire)),
  AuthError: (code, wire) => new AuthError(code, wire.message, options(wire)),
  TransientError: (code, wire) => new TransientError(code, wire.message, options(wire)),
  InterruptedError: (_code, wire) =>
    Object.assign(new InterruptedError(undefined), { message: wire.message, stage: wire.stage }),
  PartialFailureError: (code, wire) => new PartialFailureError(code, wire.message, options(wire)),
  InternalError: (code, wire) => new InternalError(code, wire.message, options(wire)),
  SelligentAuthError: (code, wire) =>
    withHttp(wire, (http) => new SelligentAuthError(code, wire.message, { ...options(wire), http })) ??
    new AuthError(code, wire.message, options(wire)),
  SelligentUnavailableError: (code, wire) =>
    withHttp(wire, (http) => new SelligentUnavailableError(code, wire.message, { ...options(wire), http })) ??
    new TransientError(code, wire.message, options(wire)),
  SelligentRefusedError: (code, wire) =>
    withHttp(wire, (http) => new SelligentRefusedError(code, wire.message, { ...options(wire), http })) ??
    new RefusedError(code, wire.message, options(wire)),
  BatchTooLargeError: (code, wire) =>
    withHttp(
      wire,
      (http) =>
        new BatchTooLargeError(wire.message, { ...options(wire), http, mayHaveApplied: wire.mayHaveApplied ?? false }),
    ) ?? new TransientError(code, wire.message, options(wire)),
};

/** What of an error can cross to another thread: structured-cloneable facts, never the `cause`. */
export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const coded = error as Error & { code?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof coded.code === 'string' ? { code: coded.code } : {}),
    ...(error instanceof ExporterError ? { stage: error.stage, details: error.details } : {}),
    ...(isSelligentHttpError(error) ? { http: error.http } : {}),
    ...(error instanceof BatchTooLargeError ? { mayHaveApplied: error.mayHaveApplied } : {}),
    ...(error.stack ? { stack: error.stack } : {}),
  };
}

/** The error a worker reported, as the same class on this side (an ENOSPC stays an ENOSPC). */
export function fromWireError(wire: WireError): Error {
  const rebuild = EXPORTER_ERRORS[wire.name];
  const error: Error & { code?: string } =
    rebuild && isErrorCode(wire.code) ? rebuild(wire.code, wire) : new Error(wire.message);
  if (!(error instanceof ExporterError) && wire.code) error.code = wire.code;
  if (wire.stack) error.stack = wire.stack;
  return error;
}

/**
 * The worker module next to `base` (an `import.meta.url`): compiled `.js` in a build, `.ts` when the
 * sources run directly.
 */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * One waiter, woken by the next `notify`: how code on either side of a thread boundary waits for its
 * message handlers.
 */
export class Wakeup {
  private resolve: (() => void) | undefined;

  wait(): Promise<void> {
    return new Promise((resolve) => (this.resolve = resolve));
  }

  notify(): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }
}

/**
 * Calls `fail` when the worker crashes, or exits while `stillNeeded()`: a worker that dies (out of
 * memory, killed) stops the run with an error instead of leaving it waiting.
 */
export function watchWorker(
  worker: Worker,
  fail: (error: Error) => void,
  stillNeeded: () => boolean = () => true,
): void {
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (stillNeeded())
      fail(new InternalError('WORKER_EXITED', `a worker thread stopped unexpectedly (exit code ${code})`));
  });
}

export interface WorkerGeneratorOptions {
  /** Values the worker may produce before the main thread takes them. */
  ahead: number;
  /** Heap limit of the worker's own old generation, in MiB. */
  maxHeapMb: number;
}

/**
 * Runs the worker module `entry` with `data` and yields what its generator yields; returns its return
 * value. Leaving the loop early (return, throw) stops the worker.
 */
export async function* generatorInWorker<T, R>(
  entry: URL,
  data: unknown,
  options: WorkerGeneratorOptions,
): AsyncGenerator<T, R> {
  const worker = startWorker(entry, data, options.maxHeapMb);
  const queue: Array<Message<T, R>> = [];
  const arrived = new Wakeup();
  let failure: Error | undefined;
  worker.on('message', (message: Message<T, R>) => {
    queue.push(message);
    arrived.notify();
  });
  watchWorker(worker, (error) => {
    failure ??= error;
    arrived.notify();
  });
  worker.postMessage({ credit: options.ahead });
  try {
    for (;;) {
      const message = queue.shift();
      if (!message) {
        if (failure) throw failure;
        await arrived.wait();
        continue;
      }
      if (message.type === 'error') throw fromWireError(message.error);
      if (message.type === 'done') return message.value;
      worker.postMessage({ credit: 1 });
      yield message.value;
    }
  } finally {
    worker.removeAllListeners();
    // A worker that already finished exits on its own; one stopped early is terminated.
    await worker.terminate();
  }
}

/**
 * A worker's young generation: V8 would otherwise size it like a main thread's (tens of MiB per
 * thread), which costs memory and buys no speed for these workers' short-lived allocations.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/** Starts the worker module `entry` with `data` and heap limits of its own. */
export function startWorker(entry: URL, data: unknown, maxHeapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: data, resourceLimits });
  // Sources run through tsx (the tests): a worker thread does not inherit its loader, so it registers
  // it before importing the module.
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data, resourceLimits });
}

/**
 * The worker side: runs `produce(workerData)` and posts its values as the main thread grants credit.
 * `transfer` names the buffers of a value that move to the main thread instead of being copied.
 */
export async function serveGenerator<T, R>(
  produce: (data: never) => AsyncGenerator<T, R>,
  transfer: (value: T) => Transferable[],
): Promise<void> {
  const port = parentPort!;
  let credit = 0;
  const granted = new Wakeup();
  port.on('message', (message: { credit: number }) => {
    credit += message.credit;
    granted.notify();
  });
  try {
    const values = produce(workerData as never);
    for (;;) {
      const next = await values.next();
      if (next.done) {
        port.postMessage({ type: 'done', value: next.value } satisfies Message<T, R>);
        break;
      }
      while (credit === 0) await granted.wait();
      credit--;
      port.postMessage({ type: 'value', value: next.value } satisfies Message<T, R>, transfer(next.value));
    }
  } catch (error) {
    port.postMessage({ type: 'error', error: toWireError(error) } satisfies Message<T, R>);
  } finally {
    port.close();
  }
}
