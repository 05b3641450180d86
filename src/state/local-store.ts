import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { StateConflictError } from './errors.js';
import { POINTER_NAME } from './format.js';
import type { CommitGuarantee, PointerRead, StateStore } from './store.js';

const LOCK_NAME = `${POINTER_NAME}.lock`;
/** A lock is held for a compare and a rename: one older than this was left by a killed process. */
const STALE_LOCK_MS = 60_000;

/** A state in a local directory (for `docker run`, a mounted volume). */
export function localStateStore(directory: string): StateStore {
  const root = resolve(directory);
  const path = (name: string): string => join(root, name);

  async function readIfExists(name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(path(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw unreadable(name, error);
    }
  }

  function unreadable(name: string, error: unknown): ConfigError {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return new ConfigError('STATE_UNREADABLE', `state ${path(name)}: cannot be read or written (${code})`, {
      stage: 'settings',
      details: { file: path(name) },
    });
  }

  async function lock(): Promise<() => Promise<void>> {
    await mkdir(root, { recursive: true });
    const lockPath = path(LOCK_NAME);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unreadable(LOCK_NAME, error);
        const age = await stat(lockPath).then(
          (info) => Date.now() - info.mtimeMs,
          () => 0,
        );
        if (age < STALE_LOCK_MS) break;
        await rm(lockPath, { force: true });
      }
    }
    throw new StateConflictError(root, `another run holds ${LOCK_NAME}`);
  }

  return {
    location: root,
    kind: 'local',
    async readPointer(): Promise<PointerRead | undefined> {
      const body = await readIfExists(POINTER_NAME);
      return body && { body, token: body.toString('utf8') };
    },
    get: readIfExists,
    async open(name: string): Promise<AsyncIterable<Buffer> | undefined> {
      let handle: FileHandle;
      try {
        handle = await open(path(name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw unreadable(name, error);
      }
      // The stream closes the file when it ends or is stopped.
      const stream = handle.createReadStream();
      return (async function* () {
        try {
          for await (const chunk of stream) yield chunk as Buffer;
        } catch (error) {
          throw unreadable(name, error);
        }
      })();
    },
    async put(name: string, body: Buffer): Promise<void> {
      const target = path(name);
      try {
        await mkdir(dirname(target), { recursive: true });
        // Written aside and renamed, so a reader never sees half an object.
        const temporary = `${target}.${randomUUID().slice(0, 8)}.tmp`;
        await writeFile(temporary, body);
        await rename(temporary, target);
      } catch (error) {
        throw unreadable(name, error);
      }
    },
    async replacePointer(body: Buffer, expected: string | undefined): Promise<CommitGuarantee> {
      const release = await lock();
      try {
        const current = await readIfExists(POINTER_NAME);
        const now = current?.toString('utf8');
        if (now !== expected)
          throw new StateConflictError(
            root,
            now === undefined ? 'the state was removed' : 'the pointer names another generation',
          );
        const temporary = path(`${POINTER_NAME}.${randomUUID().slice(0, 8)}.tmp`);
        await writeFile(temporary, body);
        await rename(temporary, path(POINTER_NAME));
      } finally {
        await release();
      }
      return 'lock-and-rename';
    },
    async listDirectories(): Promise<string[]> {
      try {
        const entries = await readdir(root, { withFileTypes: true });
        return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw unreadable('.', error);
      }
    },
    async removeDirectory(name: string): Promise<void> {
      await rm(path(name), { recursive: true, force: true });
    },
    async close(): Promise<void> {},
  };
}
