import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Progress } from '../../src/pipeline/progress.ts';

type Logger = ConstructorParameters<typeof Progress>[0];

/** The first line the progress logs, every `intervalMs`, after `prepare`. */
async function firstLine(prepare: (progress: Progress) => void): Promise<{ fields: object; message: string }> {
  let resolve!: (line: { fields: object; message: string }) => void;
  const logged = new Promise<{ fields: object; message: string }>((done) => (resolve = done));
  const logger = { info: (fields: object, message: string) => resolve({ fields, message }) } as unknown as Logger;
  const progress = new Progress(logger, 5);
  prepare(progress);
  progress.start();
  // The progress timer does not keep a process alive (unref), so this one does, and bounds the wait.
  let guard: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error('no progress line within 5 s')), 5_000);
  });
  try {
    return await Promise.race([logged, timedOut]);
  } finally {
    clearTimeout(guard);
    progress.stop();
  }
}

describe('Progress', () => {
  it('logs rows done, of how many, and the rate in a stage that counts rows', async () => {
    const line = await firstLine((progress) => {
      progress.enter('list-load', 1000);
      progress.advance(250);
    });
    assert.match(line.message, /^list-load: 250 of 1000 rows, \d+ rows\/s$/);
    assert.deepEqual(Object.keys(line.fields), ['stage', 'rowsDone', 'rowsTotal', 'rowsPerSecond']);
  });

  it('logs how long a stage that counts no rows has run, not "0 rows, 0 rows/s"', async () => {
    const line = await firstLine((progress) => progress.enter('state-write'));
    assert.match(line.message, /^state-write: \d+ s$/);
    assert.deepEqual(Object.keys(line.fields), ['stage', 'seconds']);
  });
});
