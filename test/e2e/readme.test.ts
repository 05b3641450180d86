/**
 * The README's examples work as written. Its fenced blocks are tagged: `sh` blocks are run here, as
 * they are, one bash script per block in one directory (after one another, like a person in one shell),
 * against a simulator this test starts with the samples' set-up (digdag-samples/simulator.yml) and its
 * control routes on; the README's `http://127.0.0.1:8080` is replaced by its address. `yaml` blocks are
 * checked: a settings file (first line `# NAME.yml`) must pass the settings parser and a dry run; a
 * digdag task must name its image and run the retry wrapper. `text` blocks are not run. A block with
 * no tag fails the test, so nothing is left unchecked by accident.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseSettings } from '../../src/config/settings.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import type { SimulatorHandle } from '../helpers/sim.ts';
import { ROOT } from '../helpers/cli.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_BASE_URL = 'http://127.0.0.1:8080';

interface Block {
  lang: string;
  text: string;
  line: number;
}

const blocks: Block[] = [...README.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  lang: m[1]!.trim(),
  text: m[2]!,
  line: README.slice(0, m.index).split('\n').length,
}));

/** A directory that looks like a clone (the CLI built): the README's relative paths and npx work. */
function cloneLikeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sx-readme-'));
  for (const name of ['package.json', 'dist', 'node_modules', 'test', 'docs', 'workflows'])
    symlinkSync(join(ROOT, name), join(dir, name));
  return dir;
}

/** Asynchronous: the simulator answers from this process while the script runs. */
async function bash(script: string, cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // npm offline: npx must find the project's own CLI, never fetch a package of that name.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, stdout, stderr };
}

describe('README', () => {
  let sim: SimulatorHandle;
  let dir: string;
  const outputs: string[] = [];

  before(async () => {
    const config = parse(readFileSync(join(ROOT, 'digdag-samples', 'simulator.yml'), 'utf8')) as Record<
      string,
      unknown
    >;
    sim = await startSimulator({ ...config, host: '127.0.0.1', port: 0, enableControlRoutes: true });
    dir = cloneLikeDir();
  });
  after(async () => {
    await sim?.close();
  });

  it('tags every fenced block: sh (run here), yaml (checked here) or text', () => {
    assert.ok(blocks.length >= 8);
    for (const block of blocks)
      assert.ok(
        ['sh', 'yaml', 'text'].includes(block.lang),
        `README.md line ${block.line}: a fenced block tagged ${JSON.stringify(block.lang)}; use sh, yaml or text`,
      );
  });

  it('every sh block runs as written and exits 0', async () => {
    const sh = blocks.filter((block) => block.lang === 'sh');
    assert.ok(sh.length >= 2);
    for (const block of sh) {
      const result = await bash(block.text.split(README_BASE_URL).join(sim.baseUrl), dir);
      assert.equal(
        result.status,
        0,
        `README.md line ${block.line}:\n${block.text}\nexit ${result.status}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`,
      );
      outputs.push(result.stdout);
    }
  });

  it('the first export reaches the simulator: the report reads succeeded and the state shows the rows', () => {
    const all = outputs.join('\n');
    assert.match(all, /selligent-export: dry run succeeded/);
    assert.match(all, /^selligent-export: succeeded/m);
    assert.match(all, /status\s+succeeded \(exit 0\)/);
    assert.deepEqual(
      sim
        .segmentMembers('my_org', 'master_contacts', 'active_customers')
        .map((r) => r.CUSTOMER_IDENTIFIER)
        .sort(),
      ['C001', 'C002', 'C003'],
    );
    // The state the README's curl printed holds the same records.
    for (const id of ['C001', 'C002', 'C003']) assert.ok(all.includes(`"${id}"`), `the state printed has no ${id}`);
  });

  it('every settings file it shows passes the settings parser and a dry run against the simulator', async () => {
    const files = blocks.filter((block) => block.lang === 'yaml' && /^# [\w.-]+\.ya?ml\n/.test(block.text));
    assert.ok(files.length >= 1);
    for (const block of files) {
      const name = /^# ([\w.-]+\.ya?ml)\n/.exec(block.text)![1]!;
      parseSettings(parse(block.text), `README.md line ${block.line}`);
      writeFileSync(join(dir, name), block.text);
      const run = await bash(
        `export SELLIGENT_BASE_URL=${sim.baseUrl} SELLIGENT_API_KEY=simulator-key SELLIGENT_API_SECRET=simulator-secret\nnpx selligent-export run --settings ${name} --input test/fixtures/basic.csv --report dry-run.json --dry-run`,
        dir,
      );
      assert.equal(run.status, 0, `${name} (README.md line ${block.line}): ${run.stdout.slice(-2000)}${run.stderr}`);
    }
  });

  it('its digdag task names the image it needs and retries through the wrapper', () => {
    const tasks = blocks.filter((block) => block.lang === 'yaml' && /sh>/.test(block.text));
    assert.ok(tasks.length >= 1);
    for (const block of tasks) {
      const [name, task] = Object.entries(parse(block.text) as Record<string, Record<string, unknown>>)[0]!;
      const where = `README.md line ${block.line}: ${name}`;
      assert.equal(
        typeof (task.docker as { image?: unknown } | undefined)?.image,
        'string',
        `${where}: no docker: image:`,
      );
      parseSettings(task.result_settings, where);
      const command = String(task['sh>']);
      assert.match(command, /^exec sh scripts\/selligent_export\.sh /, where);
      assert.ok(existsSync(join(ROOT, 'workflows', 'scripts', 'selligent_export.sh')));
      for (const value of Object.values(task._env as Record<string, string>))
        assert.match(value, /^\$\{secret:[\w.]+\}$/, where);
    }
  });

  it('every relative link points at a file of the repository', () => {
    for (const [, target] of README.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      assert.ok(existsSync(join(ROOT, target!)), `README.md links to ${target}, which does not exist`);
    }
    // And so do the docs it links to, one level down.
    for (const doc of ['docs/settings.md', 'docs/report.md', 'docs/how-it-works.md', 'docs/development.md']) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        assert.ok(existsSync(join(ROOT, dirname(doc), target!)), `${doc} links to ${target}, which does not exist`);
      }
    }
  });
});
