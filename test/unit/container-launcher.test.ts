import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_HEAP_MB, cappedHeapArgs } from '../../src/heap.js';

const ROOT = resolve(import.meta.dirname, '../..');
const LAUNCHER = join(ROOT, 'container', 'selligent-export');
const CLI = join(ROOT, 'dist', 'cli.js');

/**
 * The image's `selligent-export` command, run with a `node` on PATH that prints the arguments it was
 * given: what the image's one Node process is started with.
 */
describe('container/selligent-export (the image command)', () => {
  let bin: string;
  before(() => {
    bin = mkdtempSync(join(tmpdir(), 'launcher-'));
    writeFileSync(join(bin, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(bin, 'node'), 0o755);
  });
  after(() => rmSync(bin, { recursive: true, force: true }));

  const nodeArgs = (env: Record<string, string>, ...args: string[]): string[] =>
    execFileSync(LAUNCHER, args, { env: { PATH: `${bin}:/usr/bin:/bin`, ...env }, encoding: 'utf8' })
      .trimEnd()
      .split('\n');

  it("starts Node with the CLI's own heap cap, so that `run` needs no second process", () => {
    assert.deepEqual(nodeArgs({}, 'run', '--dry-run'), [...cappedHeapArgs(DEFAULT_HEAP_MB), CLI, 'run', '--dry-run']);
    assert.deepEqual(nodeArgs({ SELLIGENT_EXPORT_MAX_HEAP_MB: '512' }, 'run'), [...cappedHeapArgs(512), CLI, 'run']);
  });

  it('leaves the cap to the CLI when it is off or not a whole number, and to the user when NODE_OPTIONS sets one', () => {
    for (const cap of ['0', '256.5', 'lots', ''])
      assert.deepEqual(nodeArgs({ SELLIGENT_EXPORT_MAX_HEAP_MB: cap }, 'run'), [CLI, 'run'], cap);
    assert.deepEqual(nodeArgs({ NODE_OPTIONS: '--max-old-space-size=1024' }, 'run'), [CLI, 'run']);
  });

  it('keeps arguments as given, spaces and quotes included', () => {
    const odd = ['run', '--settings', 'my settings.yml', '--input', `it's "here".csv`];
    assert.deepEqual(nodeArgs({}, ...odd).slice(-odd.length), odd);
  });

  it('is what the Dockerfile installs as the command', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /COPY container\/selligent-export \.\/bin\/selligent-export/);
    assert.match(
      dockerfile,
      /ln -s \/opt\/selligent-export\/bin\/selligent-export \/usr\/local\/bin\/selligent-export/,
    );
  });
});
