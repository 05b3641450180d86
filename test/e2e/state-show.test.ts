/** `selligent-export state show` through the built CLI (npm run build first). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireResync } from '../../src/state/commit.js';
import { localStateStore } from '../../src/state/local-store.js';
import { readState } from '../../src/state/reader.js';
import { CLI } from '../helpers/cli.js';
import { IDENTITY, sampleEntries, tempDir, writeAndCommit } from '../helpers/state-store-contract.js';
import { startTestS3, type TestS3Server } from '../servers/s3rver.js';
import { s3StateStore } from '../../src/state/s3-store.js';

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('state show', () => {
  let directory: string;
  let server: TestS3Server;

  before(async () => {
    directory = join(await tempDir(), 'state');
    const store = localStateStore(directory);
    await writeAndCommit(store, sampleEntries(300), undefined);
    await writeAndCommit(store, sampleEntries(1200, ',2'), await readState(store));
    server = await startTestS3();
  });

  after(async () => {
    await server?.close();
  });

  it('prints identity, generation, rows, members per Segment and size', async () => {
    const { code, stdout, stderr } = await cli(['state', 'show', directory]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /generation\s+2 \(gen-000002-[0-9a-f]{8}, written /);
    assert.match(stdout, /rows\s+1,200/);
    assert.match(stdout, /size\s+\d+(\.\d+)? (KiB|B) \(\d+\.\d bytes per row\)/);
    assert.match(stdout, /identity\s+tenant\.slgnt\.eu \/ org \/ List contacts/);
    assert.match(stdout, /key\s+EMAIL \(compared as-written\)/);
    assert.match(stdout, /fields\s+EMAIL:Text, AGE:Long/);
    assert.match(stdout, /S1 {2}800 members/);
    assert.match(stdout, /S2 {2}400 members/);
  });

  it('--json gives the same facts', async () => {
    const { code, stdout } = await cli(['state', 'show', directory, '--json']);
    assert.equal(code, 0);
    const facts = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(facts.generation, 2);
    assert.equal(facts.rows, 1200);
    assert.deepEqual(facts.segments, { S1: 800, S2: 400 });
    assert.deepEqual(facts.identity, IDENTITY);
    assert.equal(typeof facts.bytes, 'number');
  });

  it('says when the next run must send every row (a run lost the race to commit after writing)', async () => {
    const marked = join(await tempDir(), 'state');
    const store = localStateStore(marked);
    await writeAndCommit(store, sampleEntries(10), undefined);
    assert.equal(await requireResync(store, 'a run lost the race', new Date('2026-12-01T03:00:00Z')), true);
    const { code, stdout } = await cli(['state', 'show', marked]);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /resync\s+required since 2026-12-01T03:00:00.000Z: a run lost the race \(the next run sends every row\)/,
    );
    const json = JSON.parse((await cli(['state', 'show', marked, '--json'])).stdout) as Record<string, unknown>;
    assert.deepEqual(json.resync_required, { reason: 'a run lost the race', at: '2026-12-01T03:00:00.000Z' });
    assert.equal(JSON.parse((await cli(['state', 'show', directory, '--json'])).stdout).resync_required, null);
  });

  it("reads a state on S3 with the input's environment", async () => {
    const uri = `s3://${server.bucket}/show-${Date.now()}/`;
    const store = s3StateStore(uri, { env: server.env() });
    await writeAndCommit(store, sampleEntries(30), undefined);
    await store.close();
    const { code, stdout, stderr } = await cli(['state', 'show', uri], server.env());
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`state\\s+${uri.replace(/[/.]/g, '\\$&')}`));
    assert.match(stdout, /rows\s+30/);
  });

  it('a state that is not there, or whose manifest is broken, exits 2 naming the file', async () => {
    const empty = await tempDir();
    const missing = await cli(['state', 'show', empty]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no state here/);
    const broken = join(await tempDir(), 'state');
    const store = localStateStore(broken);
    await writeAndCommit(store, sampleEntries(5), undefined);
    const state = (await readState(store))!;
    await rm(join(broken, state.manifest.directory, 'manifest.json'));
    const result = await cli(['state', 'show', broken]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /manifest\.json: is missing; run once with --full-resync/);
  });

  it('bad usage exits 2 with the help', async () => {
    const result = await cli(['state', 'list']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Usage: selligent-export state show URI/);
  });
});
