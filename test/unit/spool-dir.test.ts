import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  isStale,
  ownIdentity,
  probeFromStat,
  removeStaleSpoolDirs,
  startTimeFromStat,
  type ProcessIdentity,
  type ProcessProbe,
} from '../../src/pipeline/spool-dir.ts';

const SELF: ProcessIdentity = { pid: 100, start: '5000', boot: 'boot-1', pidns: 'pid:[1]', uid: 1000 };
const owner = (extra: Partial<ProcessIdentity> = {}): ProcessIdentity => ({
  pid: 200,
  start: '6000',
  boot: 'boot-1',
  pidns: 'pid:[1]',
  uid: 1000,
  ...extra,
});
const probe = (answer: ProcessProbe) => () => answer;

describe('isStale', () => {
  it('removes only when the owner process is provably gone: no such pid, or the pid now belongs to a later process', () => {
    assert.equal(isStale(owner(), SELF, probe({ state: 'gone' })), true);
    assert.equal(isStale(owner(), SELF, probe({ state: 'running', start: '7000' })), true);
    assert.equal(isStale(owner(), SELF, probe({ state: 'running', start: '6000' })), false);
    assert.equal(isStale(owner(), SELF, probe({ state: 'unknown' })), false);
  });

  it('leaves what it cannot tell: another user, boot or pid namespace (another container), itself, no or a broken owner file', () => {
    const gone = probe({ state: 'gone' });
    assert.equal(isStale(owner({ uid: 0 }), SELF, gone), false);
    assert.equal(isStale(owner({ boot: 'boot-2' }), SELF, gone), false);
    assert.equal(isStale(owner({ pidns: 'pid:[2]' }), SELF, gone), false);
    assert.equal(isStale(owner({ pid: SELF.pid }), SELF, gone), false);
    assert.equal(isStale(undefined, SELF, gone), false);
    assert.equal(isStale({ pid: 200 }, SELF, gone), false);
    assert.equal(isStale({ ...owner(), start: '' }, SELF, gone), false);
    assert.equal(isStale('200', SELF, gone), false);
  });
});

describe('startTimeFromStat', () => {
  it('reads field 22 even when the command name holds spaces and parentheses', () => {
    const rest = Array.from({ length: 30 }, (_, i) => String(i + 3));
    rest[0] = 'S';
    rest[19] = '123456';
    assert.equal(startTimeFromStat(`42 (node (a) b) ${rest.join(' ')}`), '123456');
    assert.equal(startTimeFromStat('garbage'), undefined);
  });

  it('counts a zombie (ended, not yet collected by its parent) as gone', () => {
    const line = (state: string) =>
      `42 (node) ${[state, ...Array.from({ length: 30 }, (_, i) => (i === 18 ? '777' : '1'))].join(' ')}`;
    assert.deepEqual(probeFromStat(line('S')), { state: 'running', start: '777' });
    assert.deepEqual(probeFromStat(line('Z')), { state: 'gone' });
    assert.deepEqual(probeFromStat(line('X')), { state: 'gone' });
  });
});

describe('removeStaleSpoolDirs', () => {
  it("removes a dead run's directory and keeps a live run's, one without an owner file, other names and symlinks", async () => {
    const self = await ownIdentity();
    assert.ok(self, 'this test needs /proc (Linux)');
    const parent = mkdtempSync(join(tmpdir(), 'sx-spool-'));
    const make = (name: string, who?: ProcessIdentity) => {
      const dir = join(parent, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'part-0.jsonl'), '{}\n');
      if (who) writeFileSync(join(dir, 'owner.json'), JSON.stringify(who));
      return dir;
    };
    // A process that has ended: its pid is free (or reused by a process with another start time).
    const ended = spawn(process.execPath, ['-e', '']);
    const endedPid = ended.pid!;
    await once(ended, 'exit');
    make('selligent-export-DEAD01', { ...self, pid: endedPid, start: '1' });
    // A live process that is not this one.
    const sleeper = spawn('sleep', ['30']);
    try {
      const sleeperStart = startTimeFromStat(readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8'))!;
      make('selligent-export-LIVE01', { ...self, pid: sleeper.pid!, start: sleeperStart });
      make('selligent-export-OTHRNS', { ...self, pid: endedPid, start: '1', pidns: 'pid:[0]' });
      make('selligent-export-NOOWNR');
      make('other-tool-ABCDEF', { ...self, pid: endedPid, start: '1' });
      const target = make('elsewhere', { ...self, pid: endedPid, start: '1' });
      symlinkSync(target, join(parent, 'selligent-export-LINK01'));

      const removed = await removeStaleSpoolDirs(parent, self);
      assert.deepEqual(removed, [join(parent, 'selligent-export-DEAD01')]);
      assert.deepEqual(readdirSync(parent).sort(), [
        'elsewhere',
        'other-tool-ABCDEF',
        'selligent-export-LINK01',
        'selligent-export-LIVE01',
        'selligent-export-NOOWNR',
        'selligent-export-OTHRNS',
      ]);
    } finally {
      sleeper.kill();
    }
  });
});
