import { STATE_SSE } from '../config/settings.js';
import { ConfigError } from '../errors.js';

/** Server-side encryption asked of the object store for every state write. */
export type StateEncryption = { algorithm: 'AES256' } | { algorithm: 'aws:kms'; kmsKeyId?: string };

/**
 * From the settings `state_sse` / `state_sse_kms_key_id`, else the environment `STATE_SSE` /
 * `STATE_SSE_KMS_KEY_ID`. None of them: no header (the bucket's default encryption applies). A KMS key
 * id alone means SSE-KMS with that key.
 */
export function resolveStateEncryption(
  settings: { state_sse?: string | null; state_sse_kms_key_id?: string | null },
  env: NodeJS.ProcessEnv,
): StateEncryption | undefined {
  const fromSettings = settings.state_sse != null || settings.state_sse_kms_key_id != null;
  const algorithm = (fromSettings ? settings.state_sse : env.STATE_SSE?.trim()) || undefined;
  const keyId = (fromSettings ? settings.state_sse_kms_key_id : env.STATE_SSE_KMS_KEY_ID?.trim()) || undefined;
  const source = fromSettings ? 'state_sse' : 'STATE_SSE';
  const keySource = fromSettings ? 'state_sse_kms_key_id' : 'STATE_SSE_KMS_KEY_ID';
  if (algorithm !== undefined && !(STATE_SSE as readonly string[]).includes(algorithm)) {
    throw new ConfigError(
      'STATE_SSE_INVALID',
      `${source} must be one of ${STATE_SSE.join(', ')}, got ${JSON.stringify(algorithm)}`,
      { stage: 'settings' },
    );
  }
  if (keyId !== undefined && algorithm !== undefined && algorithm !== 'aws:kms') {
    throw new ConfigError('STATE_SSE_INVALID', `${keySource} needs ${source} aws:kms, got ${algorithm}`, {
      stage: 'settings',
    });
  }
  if (algorithm === 'none') return undefined;
  if (algorithm === 'AES256') return { algorithm: 'AES256' };
  if (algorithm === 'aws:kms' || keyId !== undefined)
    return keyId ? { algorithm: 'aws:kms', kmsKeyId: keyId } : { algorithm: 'aws:kms' };
  return undefined;
}
