import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { StateEncryption } from './encryption.js';
import { localStateStore } from './local-store.js';
import type { StateStore } from './store.js';

/**
 * The store for `state_uri`: `s3://bucket/prefix/`, `file:///path`, or a local directory path. The S3
 * store (and with it the AWS SDK, a quarter of a second of start-up) is loaded only for an s3:// state.
 */
export async function openStateStore(
  uri: string,
  options: { env?: NodeJS.ProcessEnv; encryption?: StateEncryption } = {},
): Promise<StateStore> {
  const trimmed = uri.trim();
  if (trimmed === '')
    throw new ConfigError('STATE_URI_INVALID', 'state_uri (env STATE_URI) is empty', { stage: 'settings' });
  if (/^s3:\/\//i.test(trimmed)) {
    const { s3StateStore } = await import('./s3-store.js');
    return s3StateStore(trimmed, options);
  }
  if (/^file:\/\//i.test(trimmed)) return localStateStore(fileURLToPath(trimmed));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new ConfigError(
      'STATE_URI_INVALID',
      `state_uri ${JSON.stringify(trimmed.replace(/\/\/[^/@]*@/, '//'))}: expected s3://bucket/prefix/ or a local directory`,
      {
        stage: 'settings',
      },
    );
  }
  return localStateStore(trimmed);
}
