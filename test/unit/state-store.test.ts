import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commitState, requireResync } from '../../src/state/commit.js';
import { StateConflictError } from '../../src/state/errors.js';
import { localStateStore } from '../../src/state/local-store.js';
import { openStateStore } from '../../src/state/open.js';
import { readResyncBase, readState } from '../../src/state/reader.js';
import { StateWriter } from '../../src/state/writer.js';
import {
  IDENTITY,
  readPartition,
  sampleEntries,
  stateStoreContract,
  tempDir,
  write,
  writeAndCommit,
} from '../helpers/state-store-contract.js';

describe('local directory state store', () => {
  stateStoreContract({
    fresh: async () => localStateStore(join(await tempDir(), 'state')),
    overwrite: async (store, name, body) => {
      const path = join(store.location, name);
      if (body) await writeFile(path, body);
      else await rm(path);
    },
    exactlyOneWinner: async () => true,
  });

  it('a commit while another holds the lock is refused', async () => {
    const directory = join(await tempDir(), 'state');
    const store = localStateStore(directory);
    await writeAndCommit(store, sampleEntries(5), undefined);
    const read = (await readState(store))!;
    const written = await write(store, sampleEntries(5, ',x'), read);
    await writeFile(join(directory, 'CURRENT.json.lock'), 'another run\n');
    await assert.rejects(commitState(store, written, read), StateConflictError);
    assert.equal((await readState(store))!.manifest.generation, 1);
    await rm(join(directory, 'CURRENT.json.lock'));
    assert.equal((await commitState(store, written, read)).guarantee, 'lock-and-rename');
  });

  it('state_uri takes a path, a file:// URI or s3://, nothing else', async () => {
    const directory = await tempDir();
    assert.equal((await openStateStore(directory)).kind, 'local');
    assert.equal((await openStateStore(`file://${directory}`)).location, directory);
    await assert.rejects(openStateStore('https://user:pw@example.com/state'), (error: unknown) => {
      assert.ok(error instanceof Error && /expected s3:\/\/bucket\/prefix\/ or a local directory/.test(error.message));
      assert.ok(!error.message.includes('pw'), 'no credentials in the message');
      return true;
    });
  });
});

describe('full resync over a state that cannot be read', () => {
  it('replaces a corrupt state with a fresh generation numbered above every directory present', async () => {
    const directory = join(await tempDir(), 'state');
    const store = localStateStore(directory);
    await writeAndCommit(store, sampleEntries(5), undefined);
    await writeAndCommit(store, sampleEntries(5, ',2'), await readState(store));
    await writeFile(join(directory, 'CURRENT.json'), 'garbage');
    await assert.rejects(readState(store));
    const base = await readResyncBase(store);
    assert.equal(base.generation, 2);
    const writer = new StateWriter(await tempDir(), 4);
    for (const entry of sampleEntries(7, ',3')) await writer.add(entry);
    const written = await writer.write(store, IDENTITY, base.generation);
    assert.equal((await commitState(store, written, base)).generation, 3);
    assert.equal((await readState(store))!.manifest.rows, 7);
  });
});

describe('state writer', () => {
  it('takes entries in any order, more than it buffers, and stores each in its partition', async () => {
    const store = localStateStore(join(await tempDir(), 'state'));
    // More than the writer buffers in memory (4 Mi characters), so its partition files are appended to.
    const entries = sampleEntries(80_000);
    const written = await write(store, entries, undefined, 8);
    await commitState(store, written, undefined);
    const state = (await readState(store))!;
    assert.equal(state.manifest.rows, 80_000);
    let total = 0;
    for (let p = 0; p < 8; p++) {
      const part = await readPartition(store, state, p);
      assert.equal(part.length, state.manifest.pieces[p]!.rows);
      total += part.length;
    }
    assert.equal(total, 80_000);
  });

  it('refuses a partition count that is not a power of two', () => {
    assert.throws(() => new StateWriter('/nonexistent', 48), RangeError);
  });

  it('an s3:// state_uri that is not valid names state_uri', async () => {
    await assert.rejects(
      openStateStore('s3://Bad_Bucket/state/'),
      (error: unknown) =>
        error instanceof Error &&
        /^state_uri "s3:\/\/Bad_Bucket\/state\/" is not a valid s3:\/\/ URI/.test(error.message),
    );
  });
});

describe('marking the state in force for a full run', () => {
  it('marks whichever state is in force, again when another run committed meanwhile', async () => {
    const store = localStateStore(join(await tempDir(), 'state'));
    assert.equal(await requireResync(store, 'lost'), false, 'no state: nothing to mark');
    await writeAndCommit(store, sampleEntries(5), undefined);
    let commitsBetween = 1;
    const racing = {
      ...store,
      async replacePointer(body: Buffer, expected: string | undefined) {
        // Another run commits between this read of the pointer and its replacement, once.
        if (commitsBetween-- > 0) await writeAndCommit(store, sampleEntries(6), await readState(store));
        return store.replacePointer(body, expected);
      },
    };
    assert.equal(await requireResync(racing, 'lost', new Date('2026-12-01T00:00:00Z')), true);
    const state = (await readState(store))!;
    assert.equal(state.manifest.generation, 2);
    assert.equal(state.manifest.rows, 6);
    assert.deepEqual(state.resyncRequired, { reason: 'lost', at: '2026-12-01T00:00:00.000Z' });
    // Marked already: kept as it was.
    assert.equal(await requireResync(store, 'again'), true);
    assert.equal((await readState(store))!.resyncRequired!.reason, 'lost');
  });

  it('a mark that is not a reason and a time makes the state unreadable', async () => {
    const directory = join(await tempDir(), 'state');
    const store = localStateStore(directory);
    await writeAndCommit(store, sampleEntries(2), undefined);
    const pointer = JSON.parse((await store.readPointer())!.body.toString()) as Record<string, unknown>;
    await writeFile(join(directory, 'CURRENT.json'), JSON.stringify({ ...pointer, resync_required: 'yes' }));
    await assert.rejects(readState(store), { code: 'STATE_UNREADABLE', message: /resync_required/ });
  });
});
