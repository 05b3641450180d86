import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import { scrubJsonLines, scrubSecrets } from './secrets.js';
import type PinoPretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** `json` (default when stdout is not a terminal) or `pretty`. */
  format?: string;
  /** Where lines go; stdout by default. Tests pass their own sink. */
  destination?: NodeJS.WritableStream;
  isTty?: boolean;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Paths pino blanks out structurally, before the value-based scrub of every line. */
const REDACT_PATHS = [
  'apiKey',
  'apiSecret',
  'secret',
  'password',
  'headers["x-apikey"]',
  'headers["X-ApiKey"]',
  'headers.authorization',
  '*.apiKey',
  '*.apiSecret',
  '*.headers["x-apikey"]',
  '*.headers["X-ApiKey"]',
  'credentials',
  '*.credentials',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
];

export function createLogger(options: LoggerOptions = {}, env: NodeJS.ProcessEnv = process.env): Logger {
  const level = (options.level ?? env.LOG_LEVEL ?? 'info').toLowerCase();
  const target = options.destination ?? process.stdout;
  const isTty = options.isTty ?? Boolean((target as { isTTY?: boolean }).isTTY);
  const format = (options.format ?? env.LOG_FORMAT ?? (isTty ? 'pretty' : 'json')).toLowerCase();

  const sink = scrubbingSink(target, format !== 'pretty');
  const destination: DestinationStream =
    format === 'pretty'
      ? (createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty)({
          destination: sink,
          sync: true,
          colorize: isTty,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : sink;

  return pino(
    {
      level: LEVELS.has(level) ? level : 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A synchronous sink that removes secret values from every line before it is written; JSON lines stay valid JSON. */
function scrubbingSink(target: NodeJS.WritableStream, json: boolean): Writable & DestinationStream {
  const fd = target === process.stdout ? 1 : target === process.stderr ? 2 : undefined;
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const text = json ? scrubJsonLines(chunk.toString()) : scrubSecrets(chunk.toString());
      if (fd !== undefined) {
        writeAllSync(fd, text);
        callback();
      } else {
        target.write(text, () => callback());
      }
    },
  });
  return sink;
}

/** Descriptors whose reader went away: output to them is dropped from then on. */
const closed = new Set<number>();

/**
 * Logging never stops an export: when the process reading stdout goes away (EPIPE) or the descriptor
 * fails otherwise, the lines are dropped and the run goes on to its report, which holds the outcome.
 */
function writeAllSync(fd: number, text: string): void {
  if (closed.has(fd)) return;
  let buffer = Buffer.from(text);
  while (buffer.length > 0) {
    try {
      const written = writeSync(fd, buffer);
      buffer = buffer.subarray(written);
    } catch (error) {
      // A non-blocking pipe that is full: spin until the reader drains it rather than drop a line.
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      closed.add(fd);
      if (fd === 1)
        noteOnStderr(
          `stdout is no longer writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): the log is dropped from here on; the run goes on and writes its report\n`,
        );
      return;
    }
  }
}

function noteOnStderr(text: string): void {
  try {
    if (!closed.has(2)) writeSync(2, text);
  } catch {
    closed.add(2);
  }
}

/** Writes one human line to stdout through the same secret scrub (the run summary). */
export function printLine(line: string, target: NodeJS.WritableStream = process.stdout): void {
  const text = scrubSecrets(line) + '\n';
  if (target === process.stdout) writeAllSync(1, text);
  else if (target === process.stderr) writeAllSync(2, text);
  else target.write(text);
}
