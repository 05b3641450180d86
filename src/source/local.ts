import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { InputError } from '../errors.js';
import { isMarkerObject } from './markers.js';
import type { InputLocation, InputObject } from './types.js';

/** A local file, or a directory read like an S3 prefix (its files in name order). */
export function fileLocation(uri: string): InputLocation {
  const path = uri.startsWith('file:') ? fileURLToPath(uri) : resolve(uri);
  return {
    uri,
    kind: 'file',
    async list(): Promise<InputObject[]> {
      const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
        throw new InputError(
          'INPUT_NOT_FOUND',
          `input ${uri}: ${error.code === 'ENOENT' ? 'no such file or directory' : `cannot read (${error.code ?? error.message})`}`,
          {
            stage: 'read',
            details: { uri },
          },
        );
      });
      if (info.isFile()) return [{ uri: pathToFileURL(path).href, size: info.size }];
      if (!info.isDirectory())
        throw new InputError('INPUT_NOT_FOUND', `input ${uri}: not a regular file or directory`, {
          stage: 'read',
          details: { uri },
        });
      const names = (await readdir(path)).filter((name) => !isMarkerObject(name) && !name.startsWith('.')).sort();
      const objects: InputObject[] = [];
      for (const name of names) {
        const child = join(path, name);
        const childInfo = await stat(child).catch((error: NodeJS.ErrnoException) => {
          throw new InputError(
            'INPUT_NOT_FOUND',
            `input ${uri}: cannot read ${name} (${error.code ?? error.message})`,
            { stage: 'read', details: { uri } },
          );
        });
        if (childInfo.isFile() && childInfo.size > 0)
          objects.push({ uri: pathToFileURL(child).href, size: childInfo.size });
      }
      if (objects.length === 0)
        throw new InputError('INPUT_EMPTY_PREFIX', `input ${uri}: the directory holds no data files`, {
          stage: 'read',
          details: { uri },
        });
      return objects;
    },
    open(object: InputObject): Promise<Readable> {
      // In a promise, so that a URI that is not a file path rejects as the other sources do.
      return Promise.resolve().then(() => createReadStream(fileURLToPath(object.uri), { highWaterMark: 256 * 1024 }));
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
  };
}
