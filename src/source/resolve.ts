import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { fileLocation } from './local.js';
import type { InputLocation } from './types.js';

/** The input URI as a location: `s3://bucket/key`, `s3://bucket/prefix/`, `file://...` or a local path. */
export async function resolveInput(uri: string, env: NodeJS.ProcessEnv, logger?: Logger): Promise<InputLocation> {
  const trimmed = uri.trim();
  if (/^s3:\/\//i.test(trimmed)) {
    // The AWS SDK takes a while to load; runs that read local files do not pay for it.
    const { s3Location } = await import('./s3.js');
    return s3Location(trimmed, env, logger ? { logger } : undefined);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !/^file:\/\//i.test(trimmed)) {
    throw new ConfigError(
      'INPUT_URI_INVALID',
      `input ${trimmed}: unsupported scheme (use a local path, file://, or s3://bucket/key)`,
      { stage: 'settings' },
    );
  }
  return fileLocation(trimmed);
}
