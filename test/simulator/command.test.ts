/**
 * The simulator as a person runs it: `npm run simulator` and the built `selligent-export simulate`
 * (run `npm run build` first).
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, FIXTURES, ROOT, runCli } from '../helpers/cli.ts';
import { startSimulator } from '../../src/simulator/index.ts';

/** Collects a child's output and resolves the first match of `re` in its stdout. */
function output(child: ChildProcess) {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return {
    out: () => out,
    err: () => err,
    async waitFor(re: RegExp): Promise<RegExpExecArray> {
      for (let i = 0; i < 1200; i++) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      throw new Error(`no ${re} in the output:\n${out}\n${err}`);
    },
  };
}

/** True while something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits (bounded) for the port to be released; false if it is still taken at the end. */
async function released(port: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!(await listening(port))) return true;
    await sleep(100);
  }
  return false;
}

describe('npm run simulator', () => {
  test('prints what a person needs, takes the README walkthrough, and a SIGTERM to npm frees the port', async () => {
    // Its own process group, so that whatever is left can be removed at the end whatever happens.
    const npm = spawn('npm', ['run', '--silent', 'simulator', '--', '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const o = output(npm);
    try {
      const [, base, port] = await o.waitFor(/^Selligent simulator listening on (http:\/\/127\.0\.0\.1:(\d+))$/m);
      await o.waitFor(/Press Ctrl\+C to stop\./);
      const text = o.out();
      assert.match(text, /^API key: +simulator-key$/m);
      assert.match(text, /^API secret: +simulator-secret$/m);
      assert.match(text, /^lists: +master_contacts$/m);
      assert.ok(text.includes(`curl -s ${base}/__simulator/state`), text);

      // The walkthrough: a dry run of the basic sample against this simulator.
      const run = await runCli({
        args: ['--settings', join(FIXTURES, 'basic.settings.yml'), '--input', join(FIXTURES, 'basic.csv'), '--dry-run'],
        env: {
          SELLIGENT_BASE_URL: base!,
          SELLIGENT_API_KEY: 'simulator-key',
          SELLIGENT_API_SECRET: 'simulator-secret',
        },
      });
      assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
      assert.equal(run.report?.dry_run, true);

      // What arrived can be read without --control; nothing can be changed without it.
      const state = await fetch(`${base}/__simulator/state`);
      assert.equal(state.status, 200);
      const lists = ((await state.json()) as { lists: Array<{ api_name: string }> }).lists.map((l) => l.api_name);
      assert.deepEqual(lists, ['master_contacts']);
      const reset = await fetch(`${base}/__simulator/reset`, { method: 'POST' });
      assert.equal(reset.status, 404);
      assert.match(await reset.text(), /--control/);

      // Stopping npm (as a process manager or `kill` does) stops the simulator: its port is free again.
      npm.kill('SIGTERM');
      await once(npm, 'exit');
      assert.equal(await released(Number(port)), true, `port ${port} is still taken after npm stopped`);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
  });
});

describe('selligent-export simulate', () => {
  test('a port in use is a configuration error (exit 2) that names the port and --port', async () => {
    const other = await startSimulator({ port: 0 });
    try {
      const child = spawn(process.execPath, [CLI, 'simulate', '--port', String(other.port)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const o = output(child);
      const [code] = await once(child, 'exit');
      assert.equal(code, 2, o.err());
      assert.match(o.err(), new RegExp(`port ${other.port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(o.err(), /another simulator may still be running/);
      assert.match(o.err(), /--port/);
      assert.doesNotMatch(o.err(), /EADDRINUSE/);
    } finally {
      await other.close();
    }
  });

  test('a bad option in the configuration file is a configuration error with its path', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'simulate', '--port', '0', '--config', join(FIXTURES, 'basic.settings.yml')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const o = output(child);
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(o.err(), /basic\.settings\.yml: unknown options organization, list_api_name, .*; known: host, port/);
  });

  test('SIGHUP (a closed terminal) stops it with exit 0', async () => {
    const child = spawn(process.execPath, [CLI, 'simulate', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const o = output(child);
    try {
      const [, port] = await o.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      child.kill('SIGHUP');
      const [code, signal] = await once(child, 'exit');
      assert.deepEqual([code, signal], [0, null]);
      assert.match(o.err(), /Simulator stopped \(SIGHUP\)/);
      assert.equal(await released(Number(port)), true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
