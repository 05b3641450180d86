/**
 * The CLI as a process: exit codes for unusable credentials, base URLs and output locations; a closed
 * stdout; the heap-capped child tied to its parent; signals from the first instruction; spool
 * directories left by killed runs. Every test runs the built CLI (`npm run build` first).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { CLI, assertBalanced, readReport, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  members,
  records,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';
import { DEV_API_SECRET } from '../../src/simulator/index.ts';
import type { RunReport } from '../../src/report/types.ts';

const HEADER = 'selligent_segment,customer_identifier,email,first_name';

function csv(rows: number): string {
  const lines = [HEADER];
  for (let i = 1; i <= rows; i++)
    lines.push(`${i % 2 ? 'seg_a' : 'seg_b'},C${String(i).padStart(5, '0')},c${i}@example.com,Name${i}`);
  return lines.join('\n') + '\n';
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

function routes(sim: SimulatorHandle, route: string) {
  return sim.requestLog().filter((entry) => entry.route === route);
}

/** Polls a condition; the limit only keeps a broken run from hanging the suite. */
async function until(condition: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(5);
  }
}

/** Pids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Spawned {
  child: ChildProcess;
  dir: string;
  reportPath: string;
  exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    report: RunReport | undefined;
  }>;
}

/** The built CLI with full control of its stdio (runCli's helper reads both streams to the end). */
function start(options: {
  settings: Record<string, unknown>;
  input: string;
  env: Record<string, string>;
  dir: string;
  args?: string[];
  ipc?: boolean;
  detached?: boolean;
}): Spawned {
  const reportPath = join(options.dir, 'report.json');
  const settingsPath = join(options.dir, 'settings.yml');
  writeFileSync(settingsPath, stringify(options.settings));
  const child = spawn(
    process.execPath,
    [CLI, 'run', '--report', reportPath, '--settings', settingsPath, '--input', options.input, ...(options.args ?? [])],
    {
      cwd: options.dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
      detached: options.detached ?? false,
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    report: RunReport | undefined;
  }>((resolve) =>
    child.on('exit', (code, signal) => {
      // Lets the pipes drain before the output is read.
      setTimeout(() => {
        const report = existsSync(reportPath) ? readReport(reportPath) : undefined;
        resolve({ code, signal, stdout, stderr, report });
      }, 50);
    }),
  );
  return { child, dir: options.dir, reportPath, exited };
}

const SETTINGS = { ...BASE_SETTINGS, max_attempts: 2, retry_budget_seconds: 20 };

describe('exit codes follow the README table', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await simulator({ seed: seededList() });
  });
  after(() => sim.close());

  for (const [what, secret] of [
    ['a line break', `${DEV_API_SECRET}\nX`],
    ['a character outside Latin-1', `${DEV_API_SECRET}\u20ac`],
  ] as const) {
    test(`a credential with ${what} is a configuration error (exit 2), found before any request, and not printed`, async () => {
      sim.clearRequestLog();
      const dir = tempDir();
      const result = await runCli({
        settings: SETTINGS,
        input: writeInput(dir, 'input.csv', csv(3)),
        dir,
        env: selligentEnv(sim, { SELLIGENT_API_SECRET: secret }),
      });
      assert.equal(result.code, 2, `${lastLine(result.stdout)}\n${result.stderr}`);
      assert.equal(result.report!.error!.code, 'CREDENTIALS_INVALID');
      assert.match(result.report!.error!.message, new RegExp(`SELLIGENT_API_SECRET contains ${what}`));
      assert.equal(sim.requestLog().length, 0);
      assert.ok(
        !result.stdout.includes(DEV_API_SECRET) &&
          !result.stderr.includes(DEV_API_SECRET) &&
          !JSON.stringify(result.report).includes(DEV_API_SECRET),
      );
    });
  }

  test('a base URL that redirects is a configuration error naming the target without its query (exit 2)', async (t) => {
    for (const [status, location] of [
      [301, 'https://new-tenant.example.com/Portal/Api/organizations/my_org?token=s3cr3t-token#frag'],
      [302, '/login?session=s3cr3t-token'],
    ] as const) {
      const server: Server = createServer((_request, response) => {
        response.writeHead(status, { location, 'content-type': 'text/html' });
        response.end('<html>moved</html>');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as { port: number }).port;
        const dir = tempDir();
        const result = await runCli({
          settings: SETTINGS,
          input: writeInput(dir, 'input.csv', csv(3)),
          dir,
          env: { ...selligentEnv(sim), SELLIGENT_BASE_URL: `http://127.0.0.1:${port}` },
        });
        const summary = lastLine(result.stdout);
        t.diagnostic(summary);
        assert.equal(result.code, 2, `${summary}\n${result.stderr}`);
        assert.equal(result.report!.error!.code, 'BASE_URL_REDIRECTS');
        assert.doesNotMatch(result.stdout + result.stderr + JSON.stringify(result.report), /s3cr3t-token|frag/);
        if (status === 301) {
          assert.match(
            summary,
            /answered 301: SELLIGENT_BASE_URL http:\/\/127\.0\.0\.1:\d+ redirects to https:\/\/new-tenant\.example\.com\/Portal\/Api\/organizations\/my_org; set SELLIGENT_BASE_URL to https:\/\/new-tenant\.example\.com /,
          );
        } else {
          assert.match(
            summary,
            /answered 302: SELLIGENT_BASE_URL http:\/\/127\.0\.0\.1:\d+ redirects to http:\/\/127\.0\.0\.1:\d+\/login;/,
          );
        }
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  test('a --temp-dir that does not exist is a configuration error (exit 2), before any request', async () => {
    sim.clearRequestLog();
    const dir = tempDir();
    const missing = join(dir, 'no-such-dir');
    const result = await runCli({
      settings: SETTINGS,
      input: writeInput(dir, 'input.csv', csv(3)),
      dir,
      env: selligentEnv(sim),
      args: ['--temp-dir', missing],
    });
    assert.equal(result.code, 2, `${lastLine(result.stdout)}\n${result.stderr}`);
    assert.equal(result.report!.error!.code, 'TEMP_DIR_UNUSABLE');
    assert.match(
      result.report!.error!.message,
      new RegExp(`temp directory ${missing} is not usable \\(does not exist: ENOENT\\).*--temp-dir`),
    );
    assert.equal(sim.requestLog().length, 0);
  });

  test('a --rejected path that cannot be created is a configuration error (exit 2), before any request', async () => {
    sim.clearRequestLog();
    const dir = tempDir();
    const file = writeInput(dir, 'a-file', 'x');
    const result = await runCli({
      settings: SETTINGS,
      input: writeInput(dir, 'input.csv', csv(3)),
      dir,
      env: selligentEnv(sim),
      args: ['--rejected', join(file, 'sub', 'rejected.jsonl')],
    });
    assert.equal(result.code, 2, `${lastLine(result.stdout)}\n${result.stderr}`);
    assert.equal(result.report!.error!.code, 'REJECTED_PATH_UNUSABLE');
    assert.equal(sim.requestLog().length, 0);
  });

  test('an unwritable --report stops the run before anything is read or written (exit 2), and the summary says so', async () => {
    sim.clearRequestLog();
    const dir = tempDir();
    const file = writeInput(dir, 'a-file', 'x');
    const reportPath = join(file, 'report.json');
    const result = await runCli({
      settings: SETTINGS,
      input: writeInput(dir, 'input.csv', csv(3)),
      dir,
      env: selligentEnv(sim),
      args: ['--report', reportPath],
    });
    const summary = lastLine(result.stdout);
    assert.equal(result.code, 2, `${summary}\n${result.stderr}`);
    assert.match(
      summary,
      /^selligent-export: failed - error REPORT_PATH_UNUSABLE in settings: cannot write the run report at .*a-file\/report\.json \(a part of the path is a file, not a directory: E[A-Z]+\).*, exit 2, report not written$/,
    );
    assert.equal(sim.requestLog().length, 0);
    assert.equal(records(sim).length, 0);
  });
});

describe('the process', () => {
  test('a closed stdout does not stop the export: the List and the Segments are loaded and the report is written', async () => {
    const sim = await simulator({ seed: seededList(), latencyMs: 40 });
    try {
      const dir = tempDir();
      const run = start({
        settings: { ...SETTINGS, batch_rows: 5, segment_batch_rows: 5 },
        input: writeInput(dir, 'input.csv', csv(60)),
        dir,
        env: selligentEnv(sim),
      });
      await until(() => routes(sim, 'loadList').length >= 1, 'the List load');
      // The reader goes away: every later write to stdout fails with EPIPE.
      run.child.stdout!.destroy();
      const result = await run.exited;
      assert.equal(result.signal, null, result.stderr);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.report!.status, 'succeeded');
      assertBalanced(result.report);
      assert.equal(records(sim).length, 60);
      assert.equal(members(sim, 'seg_a').length, 30);
      assert.equal(members(sim, 'seg_b').length, 30);
      assert.match(result.stderr, /stdout is no longer writable \(EPIPE\)/);
    } finally {
      await sim.close();
    }
  });

  test('SIGKILL of the CLI stops the heap-capped child after the request in flight; it writes its report (exit 5)', async () => {
    const sim = await simulator({ seed: seededList(), latencyMs: 100 });
    try {
      const dir = tempDir();
      const run = start({
        settings: { ...SETTINGS, batch_rows: 2 },
        input: writeInput(dir, 'input.csv', csv(200)),
        dir,
        env: selligentEnv(sim),
      });
      const parent = run.child.pid!;
      await until(() => routes(sim, 'loadList').length >= 2, 'the List load');
      const [exporter] = childrenOf(parent);
      assert.ok(exporter, 'the heap-capped child runs the export');
      run.child.kill('SIGKILL');
      const parentEnd = await run.exited;
      assert.equal(parentEnd.signal, 'SIGKILL');
      const atKill = routes(sim, 'loadList').length;
      await until(() => !alive(exporter), 'the child to stop');
      const after = routes(sim, 'loadList').length;
      // At most the request that was on the wire when the parent died.
      assert.ok(after - atKill <= 1, `${after - atKill} List loads after the parent died`);
      assert.ok(after < 100, `${after} List loads`);
      const report = readReport(run.reportPath);
      assert.equal(report.exit_code, 5);
      assert.equal(report.error!.code, 'INTERRUPTED');
      assert.match(report.error!.message, /parent process/);
      assertBalanced(report);
      assert.equal(routes(sim, 'loadSegment').length, 0);
    } finally {
      await sim.close();
    }
  });

  test('SIGTERM while the heap-capped child is starting: exit 5 with a report, nothing written', async () => {
    const sim = await simulator({ seed: seededList() });
    try {
      const dir = tempDir();
      const run = start({
        settings: SETTINGS,
        input: writeInput(dir, 'input.csv', csv(10)),
        dir,
        env: selligentEnv(sim),
      });
      // The moment the child exists, it has not loaded anything yet.
      await until(() => childrenOf(run.child.pid!).length > 0 || run.child.exitCode !== null, 'the child process');
      run.child.kill('SIGTERM');
      const result = await run.exited;
      assert.equal(result.signal, null, result.stderr);
      assert.equal(result.code, 5, `${lastLine(result.stdout)}\n${result.stderr}`);
      assert.equal(result.report!.error!.code, 'INTERRUPTED');
      assert.match(lastLine(result.stdout), /error INTERRUPTED in settings: stopped by SIGTERM .*, exit 5, report /);
      assert.equal(writes(sim).length, 0);
    } finally {
      await sim.close();
    }
  });

  test('SIGTERM at the first instruction of the process running the export: exit 5 with a report', async () => {
    const sim = await simulator({ seed: seededList() });
    try {
      const dir = tempDir();
      // Started the way the heap-capping parent starts it: the child says over IPC when its handlers are in place.
      const run = start({
        settings: SETTINGS,
        input: writeInput(dir, 'input.csv', csv(10)),
        dir,
        env: selligentEnv(sim, { SELLIGENT_EXPORT_HEAP_CAPPED: '1' }),
        ipc: true,
      });
      let ready = false;
      run.child.on('message', (message: { ready?: boolean }) => {
        if (message.ready && !ready) {
          ready = true;
          run.child.kill('SIGTERM');
        }
      });
      const result = await run.exited;
      assert.ok(ready, 'the process reports that its signal handlers are installed');
      assert.equal(result.signal, null, result.stderr);
      assert.equal(result.code, 5, `${lastLine(result.stdout)}\n${result.stderr}`);
      assert.equal(result.report!.error!.code, 'INTERRUPTED');
      assert.equal(writes(sim).length, 0);
    } finally {
      await sim.close();
    }
  });

  test('a killed run leaves its spool directory; the next run removes it, and leaves those of live or unknown runs', async () => {
    const sim = await simulator({ seed: seededList(), latencyMs: 100 });
    try {
      const dir = tempDir();
      const spool = join(dir, 'spool');
      mkdirSync(spool);
      // Another run's directory: its owner is alive (this test process).
      const ownStat = readFileSync('/proc/self/stat', 'utf8');
      const live = join(spool, 'selligent-export-LIVE01');
      mkdirSync(live);
      writeFileSync(
        join(live, 'owner.json'),
        JSON.stringify({
          pid: process.pid,
          start: ownStat.slice(ownStat.lastIndexOf(')') + 2).split(' ')[19],
          boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
          pidns: readlinkSync('/proc/self/ns/pid'),
          uid: process.getuid!(),
        }),
      );
      // A directory whose owner cannot be told (an older version, or one being created).
      const unknown = join(spool, 'selligent-export-NOOWNR');
      mkdirSync(unknown);

      const run = start({
        settings: { ...SETTINGS, batch_rows: 2 },
        input: writeInput(dir, 'input.csv', csv(200)),
        dir,
        env: selligentEnv(sim),
        args: ['--temp-dir', spool],
        detached: true,
      });
      await until(() => routes(sim, 'loadList').length >= 2, 'the List load');
      const exporter = childrenOf(run.child.pid!)[0];
      assert.ok(exporter, 'the heap-capped child runs the export');
      // The whole process group, as an out-of-memory kill or `kill -9` of a container would.
      process.kill(-run.child.pid!, 'SIGKILL');
      await run.exited;
      await until(() => !alive(exporter), 'the killed exporter to end');
      const left = readdirSync(spool).filter(
        (name) => !['selligent-export-LIVE01', 'selligent-export-NOOWNR'].includes(name),
      );
      assert.equal(left.length, 1, `the killed run's spool directory: ${left.join(', ')}`);
      assert.ok(readdirSync(join(spool, left[0]!)).length > 1, 'it holds spooled rows');

      sim.configure({ latencyMs: 0 });
      const rerun = await runCli({
        settings: SETTINGS,
        input: writeInput(dir, 'input.csv', csv(200)),
        dir,
        env: selligentEnv(sim),
        args: ['--temp-dir', spool],
      });
      assert.equal(rerun.code, 0, `${lastLine(rerun.stdout)}\n${rerun.stderr}`);
      assert.match(rerun.stdout, /removed 1 spool directory left by killed runs/);
      assert.deepEqual(readdirSync(spool).sort(), ['selligent-export-LIVE01', 'selligent-export-NOOWNR']);
      assert.equal(records(sim).length, 200);
    } finally {
      await sim.close();
    }
  });
});
