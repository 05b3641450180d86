import { lstat, mkdtemp, readdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { fsReason } from '../fs-errors.js';
import type { Logger } from '../log.js';

/**
 * The spool directory holds the run's rows (customer data, about 1.7 times the input). A run removes it
 * when it ends, but a killed run (SIGKILL, OOM) cannot, so each run also removes the directories that
 * killed runs left behind. It must never remove the directory of a live run, which may belong to another
 * user or container sharing the temp directory: each directory carries an owner file naming its process
 * (pid and start time, boot, pid namespace, user), and a directory is removed only when that process is
 * provably gone. Whatever cannot be told (no owner file, another user, another boot, another pid
 * namespace, no /proc) is left alone.
 */

export const SPOOL_PREFIX = 'selligent-export-';
export const OWNER_FILE = 'owner.json';
const SPOOL_NAME = /^selligent-export-[A-Za-z0-9]{6}$/;

/** Who a process is, as far as another process on the same machine can check it. */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): a reused pid has another one. */
  start: string;
  /** /proc/sys/kernel/random/boot_id: pids and start times mean nothing across boots. */
  boot: string;
  /** The pid namespace (/proc/self/ns/pid): a pid from another container cannot be looked up here. */
  pidns: string;
  uid: number;
}

/** What /proc says about a pid: gone, running since `start`, or unknown (could not tell). */
export type ProcessProbe = { state: 'gone' } | { state: 'running'; start: string } | { state: 'unknown' };

/** Whether a spool directory with this owner may be removed by the process `self`. Pure. */
export function isStale(owner: unknown, self: ProcessIdentity, probe: (pid: number) => ProcessProbe): boolean {
  if (!isIdentity(owner)) return false;
  if (owner.uid !== self.uid || owner.boot !== self.boot || owner.pidns !== self.pidns) return false;
  if (owner.pid === self.pid) return false;
  const found = probe(owner.pid);
  if (found.state === 'gone') return true;
  if (found.state === 'running') return found.start !== owner.start;
  return false;
}

function isIdentity(value: unknown): value is ProcessIdentity {
  const v = value as Partial<ProcessIdentity> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isInteger(v.pid) &&
    (v.pid as number) > 0 &&
    typeof v.start === 'string' &&
    v.start !== '' &&
    typeof v.boot === 'string' &&
    v.boot !== '' &&
    typeof v.pidns === 'string' &&
    v.pidns !== '' &&
    Number.isInteger(v.uid)
  );
}

/** The start time from the text of /proc/PID/stat (after the command name, which may hold spaces). */
export function startTimeFromStat(text: string): string | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Field 22 of the whole line; fields[0] is field 3.
  const start = fields[19];
  return start && /^\d+$/.test(start) ? start : undefined;
}

/** What a /proc/PID/stat text says. A zombie has ended (its parent has not collected it yet): gone. */
export function probeFromStat(text: string): ProcessProbe {
  const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  if (state === 'Z' || state === 'X') return { state: 'gone' };
  const start = startTimeFromStat(text);
  return start ? { state: 'running', start } : { state: 'unknown' };
}

async function probeProcess(pid: number): Promise<ProcessProbe> {
  try {
    return probeFromStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { state: 'gone' } : { state: 'unknown' };
  }
}

/** This process's identity, or undefined where /proc cannot tell it (not Linux): then nothing is removed. */
export async function ownIdentity(): Promise<ProcessIdentity | undefined> {
  try {
    const [stat, boot, pidns] = await Promise.all([
      readFile('/proc/self/stat', 'utf8'),
      readFile('/proc/sys/kernel/random/boot_id', 'utf8'),
      readlink('/proc/self/ns/pid'),
    ]);
    const start = startTimeFromStat(stat);
    const uid = process.getuid?.();
    if (!start || uid === undefined) return undefined;
    return { pid: process.pid, start, boot: boot.trim(), pidns, uid };
  } catch {
    return undefined;
  }
}

/** Removes the spool directories of this tool, in `parent`, whose run is provably gone; returns them. */
export async function removeStaleSpoolDirs(parent: string, self: ProcessIdentity): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent)) {
    if (!SPOOL_NAME.test(name)) continue;
    const dir = join(parent, name);
    try {
      const info = await lstat(dir);
      if (!info.isDirectory() || info.uid !== self.uid) continue;
      let owner: unknown;
      try {
        owner = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8'));
      } catch {
        continue;
      }
      const probes = new Map<number, ProcessProbe>();
      if (isIdentity(owner)) probes.set(owner.pid, await probeProcess(owner.pid));
      if (!isStale(owner, self, (pid) => probes.get(pid) ?? { state: 'unknown' })) continue;
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      removed.push(dir);
    } catch {
      // Gone meanwhile, or not ours to remove: leave it.
    }
  }
  return removed;
}

/**
 * Creates this run's spool directory in `tempDir` (else the OS temp directory), after removing the
 * directories killed runs left there. An unusable temp directory is a configuration error, found
 * before the input is read.
 */
export async function createSpoolDir(tempDir: string | undefined, logger: Logger): Promise<string> {
  const parent = tempDir ?? tmpdir();
  const setting = tempDir === undefined ? 'the OS temp directory (TMPDIR)' : '--temp-dir (SELLIGENT_EXPORT_TMPDIR)';
  try {
    if (!(await stat(parent)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (error) {
    throw tempDirError(parent, setting, error);
  }
  const self = await ownIdentity();
  if (self) {
    try {
      const removed = await removeStaleSpoolDirs(parent, self);
      if (removed.length > 0)
        logger.info(
          { removed },
          `removed ${removed.length} spool director${removed.length > 1 ? 'ies' : 'y'} left by killed runs`,
        );
    } catch (error) {
      logger.warn(
        { tempDir: parent, reason: (error as Error).message },
        'could not look for spool directories left by killed runs',
      );
    }
  }
  let dir: string;
  try {
    dir = await mkdtemp(join(parent, SPOOL_PREFIX));
  } catch (error) {
    throw tempDirError(parent, setting, error);
  }
  if (self) {
    // Written whole, then renamed: a reader sees no owner file (and leaves the directory) or all of it.
    const temporary = join(dir, `${OWNER_FILE}.tmp`);
    try {
      await writeFile(temporary, JSON.stringify(self), { mode: 0o600 });
      await rename(temporary, join(dir, OWNER_FILE));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw tempDirError(parent, setting, error);
    }
  }
  return dir;
}

function tempDirError(dir: string, setting: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ConfigError(
    'TEMP_DIR_UNUSABLE',
    `temp directory ${dir} is not usable (${fsReason(error)}): rows are spooled there; set ${setting} to an existing writable directory`,
    {
      stage: 'settings',
      details: { tempDir: dir, errorCode: code ?? null },
    },
  );
}
