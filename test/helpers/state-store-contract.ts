/**
 * What every state store must do, run against the local directory store (test/unit) and the S3 store
 * (test/s3, on s3rver or Ceph RGW).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { commitState } from '../../src/state/commit.js';
import { StateConflictError, StateUnusableError } from '../../src/state/errors.js';
import {
  MANIFEST_NAME,
  parseEntryLine,
  partitionOf,
  rowHash,
  type StateEntry,
  type StateIdentity,
} from '../../src/state/format.js';
import {
  readRecordedFor,
  readRecordedPartition,
  readState,
  stageState,
  type LoadedState,
} from '../../src/state/reader.js';
import type { StateStore } from '../../src/state/store.js';
import { StateWriter } from '../../src/state/writer.js';

export const IDENTITY: StateIdentity = {
  host: 'tenant.slgnt.eu',
  organization: 'org',
  list: 'contacts',
  key_fields: ['EMAIL'],
  key_form: 'as-written',
  fields: [
    { name: 'EMAIL', type: 'Text' },
    { name: 'AGE', type: 'Long' },
  ],
  segment_column: 'seg',
  segment_import_option: 'replace',
};

export function sampleEntries(count: number, tag = ''): StateEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `person${i}@example.com`,
    rowHash: rowHash(`["person${i}@example.com",${i}${tag}]`),
    segments: i % 3 === 0 ? ['S1', 'S2'] : i % 3 === 1 ? ['S1'] : [],
  }));
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'state-test-'));
}

/** Writes `entries` as a new generation after `previous` and commits it. */
export async function writeAndCommit(
  store: StateStore,
  entries: StateEntry[],
  previous: LoadedState | undefined,
  partitions = 16,
) {
  const written = await write(store, entries, previous, partitions);
  return commitState(store, written, previous);
}

export async function write(
  store: StateStore,
  entries: StateEntry[],
  previous: LoadedState | undefined,
  partitions = 16,
) {
  const writer = new StateWriter(await tempDir(), partitions);
  // Any order: the writer partitions them.
  for (const entry of [...entries].reverse()) await writer.add(entry);
  return writer.write(store, IDENTITY, previous?.manifest.generation);
}

/** One partition's entries, checked as a run checks them. */
export async function readPartition(store: StateStore, state: LoadedState, partition: number): Promise<StateEntry[]> {
  return (await readRecordedPartition(store, state, partition)).map((recorded) => parseEntryLine(recorded.line)!);
}

/** The entries of one partition of another partitioning, as a run compares them. */
async function entriesFor(
  store: StateStore,
  state: LoadedState,
  partition: number,
  count: number,
): Promise<StateEntry[]> {
  return (await readRecordedFor(store, state, partition, count)).map((recorded) => parseEntryLine(recorded.line)!);
}

export async function allEntries(store: StateStore, state: LoadedState): Promise<StateEntry[]> {
  const entries: StateEntry[] = [];
  for (let p = 0; p < state.manifest.partition_count; p++) entries.push(...(await readPartition(store, state, p)));
  return entries.sort((a, b) => (a.key < b.key ? -1 : 1));
}

const byKey = (entries: StateEntry[]) => [...entries].sort((a, b) => (a.key < b.key ? -1 : 1));

export interface ContractOptions {
  /** A store over a location no other test uses. */
  fresh(): Promise<StateStore>;
  /** Replaces an object's bytes behind the store's back (corrupting it). */
  overwrite(store: StateStore, name: string, body: Buffer | undefined): Promise<void>;
  /** Whether concurrent commits are decided by the store (exactly one wins) or best-effort (at least one wins). */
  exactlyOneWinner(store: StateStore): Promise<boolean>;
}

export function stateStoreContract(options: ContractOptions): void {
  it('a committed state reads back: manifest, counts, and every entry in its partition', async () => {
    const store = await options.fresh();
    assert.equal(await readState(store), undefined, 'no state yet');
    const entries = sampleEntries(500);
    const result = await writeAndCommit(store, entries, undefined);
    assert.equal(result.generation, 1);
    const state = await readState(store);
    assert.ok(state);
    assert.equal(state.manifest.rows, 500);
    assert.equal(state.manifest.partition_count, 16);
    assert.deepEqual(state.manifest.segments, { S1: 334, S2: 167 });
    assert.deepEqual(state.manifest.identity, IDENTITY);
    assert.equal(
      state.manifest.bytes,
      state.manifest.pieces.reduce((sum, piece) => sum + piece.bytes, 0),
    );
    assert.deepEqual(await allEntries(store, state), byKey(entries));
    for (const piece of state.manifest.pieces) {
      for (const entry of await readPartition(store, state, piece.partition))
        assert.equal(partitionOf(entry.key, 16), piece.partition);
    }
    const manifestText = (await store.get(`${state.manifest.directory}/${MANIFEST_NAME}`))!.toString('utf8');
    assert.ok(!manifestText.includes('person1'), 'no key or row value in the manifest');
    await store.close();
  });

  it('an object streams back as it was written; a missing one is undefined', async () => {
    const store = await options.fresh();
    // Several read chunks' worth, so the bytes come in more than one piece.
    const body = randomBytes(300 * 1024 + 7);
    await store.put('gen-000001-streamed/part-0000.jsonl.gz', body);
    const chunks = await store.open('gen-000001-streamed/part-0000.jsonl.gz');
    assert.ok(chunks);
    const parts: Buffer[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    assert.ok(parts.length > 1, `${parts.length} chunk(s)`);
    assert.deepEqual(Buffer.concat(parts), body);
    assert.equal(await store.open('gen-000001-streamed/part-0001.jsonl.gz'), undefined);
    await store.close();
  });

  it('a checked (staged) state reads back as the state itself', async () => {
    const store = await options.fresh();
    const entries = sampleEntries(400);
    await writeAndCommit(store, entries, undefined);
    const state = (await readState(store))!;
    const staging = await tempDir();
    const staged = await stageState(store, state, staging);
    assert.equal(staged.location, store.location, 'messages name the state, not a copy');
    assert.deepEqual(await allEntries(staged, state), byKey(entries));
    // A remote state is downloaded once, into the staging directory; a local one is read in place.
    const copied = await readdir(join(staging, state.manifest.directory)).catch(() => []);
    assert.equal(copied.length, store.kind === 'local' ? 0 : state.manifest.partition_count);
    await store.close();
  });

  it('a staging directory that cannot be written stops the check with an error naming it', async () => {
    const store = await options.fresh();
    await writeAndCommit(store, sampleEntries(50), undefined);
    const state = (await readState(store))!;
    const notADirectory = join(await tempDir(), 'a-file');
    await writeFile(notADirectory, '');
    if (store.kind === 'local') {
      // Checked in place: nothing is copied.
      await stageState(store, state, notADirectory);
    } else {
      await assert.rejects(stageState(store, state, notADirectory), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'STATE_UNREADABLE');
        assert.match(error.message, /a-file\/gen-000001-[0-9a-f]+\/part-00\d\d\.jsonl\.gz: cannot be written/);
        return true;
      });
    }
    await store.close();
  });

  it('entries can be read for an input partitioned more or less finely than the state', async () => {
    const store = await options.fresh();
    const entries = sampleEntries(300);
    await writeAndCommit(store, entries, undefined, 16);
    const state = (await readState(store))!;
    for (const count of [4, 16, 64]) {
      const seen: StateEntry[] = [];
      for (let p = 0; p < count; p++) {
        const part = await entriesFor(store, state, p, count);
        assert.ok(
          part.every((entry) => partitionOf(entry.key, count) === p),
          `partition ${p} of ${count}`,
        );
        seen.push(...part);
      }
      assert.deepEqual(byKey(seen), byKey(entries), `every entry once at ${count} partitions`);
    }
    await store.close();
  });

  it('each commit is a new generation; the last two are kept, older ones removed', async () => {
    const store = await options.fresh();
    let state: LoadedState | undefined;
    for (let generation = 1; generation <= 4; generation++) {
      const result = await writeAndCommit(store, sampleEntries(20, `,${generation}`), state);
      assert.equal(result.generation, generation);
      state = await readState(store);
      assert.equal(state?.manifest.generation, generation);
    }
    const directories = (await store.listDirectories()).filter((name) => name.startsWith('gen-')).sort();
    assert.equal(directories.length, 2);
    assert.match(directories[0]!, /^gen-000003-/);
    assert.match(directories[1]!, /^gen-000004-/);
    assert.deepEqual(await allEntries(store, state!), byKey(sampleEntries(20, ',4')));
    await store.close();
  });

  it('a commit based on a state another run replaced meanwhile is refused, and the other state stays in force', async () => {
    const store = await options.fresh();
    await writeAndCommit(store, sampleEntries(10), undefined);
    const read = (await readState(store))!;
    const first = await write(store, sampleEntries(10, ',a'), read);
    const second = await write(store, sampleEntries(10, ',b'), read);
    await commitState(store, first, read);
    await assert.rejects(
      commitState(store, second, read),
      (error: unknown) =>
        error instanceof StateConflictError && error.code === 'STATE_CONFLICT' && error.exitCode === 5,
    );
    const now = (await readState(store))!;
    assert.equal(now.manifest.directory, first.manifest.directory);
    assert.deepEqual(await allEntries(store, now), byKey(sampleEntries(10, ',a')));
    await store.close();
  });

  it('a first commit is refused when another run committed a first state meanwhile', async () => {
    const store = await options.fresh();
    const first = await write(store, sampleEntries(5, ',a'), undefined);
    const second = await write(store, sampleEntries(5, ',b'), undefined);
    await commitState(store, first, undefined);
    await assert.rejects(commitState(store, second, undefined), StateConflictError);
    assert.equal((await readState(store))!.manifest.directory, first.manifest.directory);
    await store.close();
  });

  it('two commits at once: a winner, the loser refused, and a valid state in force', async () => {
    const store = await options.fresh();
    await writeAndCommit(store, sampleEntries(10), undefined);
    const read = (await readState(store))!;
    const written = [
      await write(store, sampleEntries(10, ',a'), read),
      await write(store, sampleEntries(10, ',b'), read),
    ];
    const outcomes = await Promise.allSettled(written.map((one) => commitState(store, one, read)));
    const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
    for (const outcome of outcomes)
      if (outcome.status === 'rejected')
        assert.ok(outcome.reason instanceof StateConflictError, String(outcome.reason));
    if (await options.exactlyOneWinner(store)) assert.equal(won.length, 1, 'exactly one commit wins');
    else assert.ok(won.length >= 1, 'at least one commit wins');
    const now = (await readState(store))!;
    const winner = written.findIndex((one) => one.manifest.directory === now.manifest.directory);
    assert.ok(won.includes(winner), "the state in force is a winner's");
    assert.deepEqual(await allEntries(store, now), byKey(sampleEntries(10, winner === 0 ? ',a' : ',b')));
    await store.close();
  });

  describe_bad_state(options);
}

function describe_bad_state(options: ContractOptions): void {
  async function committed(): Promise<{ store: StateStore; state: LoadedState }> {
    const store = await options.fresh();
    await writeAndCommit(store, sampleEntries(200), undefined, 4);
    return { store, state: (await readState(store))! };
  }

  function unusable(code: string, file: RegExp) {
    return (error: unknown) => {
      assert.ok(error instanceof StateUnusableError, String(error));
      assert.equal(error.code, code);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, file);
      assert.match(error.message, /--full-resync/);
      return true;
    };
  }

  it('a piece whose bytes changed stops at the check, naming the file', async () => {
    const { store, state } = await committed();
    const name = `${state.manifest.directory}/part-0002.jsonl.gz`;
    const bytes = Buffer.from((await store.get(name))!);
    bytes[bytes.length - 5]! ^= 0xff;
    await options.overwrite(store, name, bytes);
    await assert.rejects(readPartition(store, state, 2), unusable('STATE_CHECKSUM_MISMATCH', /part-0002\.jsonl\.gz/));
    await assert.rejects(
      stageState(store, state, await tempDir()),
      unusable('STATE_CHECKSUM_MISMATCH', /part-0002\.jsonl\.gz/),
    );
    await store.close();
  });

  it('a truncated piece stops at the size check', async () => {
    const { store, state } = await committed();
    const name = `${state.manifest.directory}/part-0001.jsonl.gz`;
    await options.overwrite(store, name, (await store.get(name))!.subarray(0, 10));
    await assert.rejects(
      stageState(store, state, await tempDir()),
      unusable('STATE_CHECKSUM_MISMATCH', /part-0001\.jsonl\.gz.*bytes, the manifest says/),
    );
    await store.close();
  });

  it('a missing piece stops, naming it', async () => {
    const { store, state } = await committed();
    await options.overwrite(store, `${state.manifest.directory}/part-0003.jsonl.gz`, undefined);
    await assert.rejects(
      stageState(store, state, await tempDir()),
      unusable('STATE_PIECE_MISSING', /part-0003\.jsonl\.gz: is missing/),
    );
    await store.close();
  });

  it('a manifest of an unknown format version stops', async () => {
    const { store, state } = await committed();
    const name = `${state.manifest.directory}/${MANIFEST_NAME}`;
    const manifest = JSON.parse((await store.get(name))!.toString('utf8')) as Record<string, unknown>;
    await options.overwrite(store, name, Buffer.from(JSON.stringify({ ...manifest, format_version: 99 })));
    await assert.rejects(readState(store), unusable('STATE_VERSION_UNKNOWN', /manifest\.json: has format version 99/));
    await store.close();
  });

  it('an unreadable manifest, a missing manifest or an unreadable pointer stops', async () => {
    const { store, state } = await committed();
    const name = `${state.manifest.directory}/${MANIFEST_NAME}`;
    await options.overwrite(store, name, Buffer.from('{"format": "selligent-export-st'));
    await assert.rejects(readState(store), unusable('STATE_UNREADABLE', /manifest\.json: is not valid JSON/));
    await options.overwrite(store, name, undefined);
    await assert.rejects(readState(store), unusable('STATE_PIECE_MISSING', /manifest\.json: is missing/));
    await options.overwrite(store, 'CURRENT.json', Buffer.from('garbage'));
    await assert.rejects(readState(store), unusable('STATE_UNREADABLE', /CURRENT\.json: is not valid JSON/));
    await store.close();
  });
}
