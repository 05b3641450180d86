import type { Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { resolveStateEncryption, type StateEncryption } from './encryption.js';

export type StateConfig =
  | { mode: 'full' }
  | {
      mode: 'changes';
      /** `state_uri`, else env STATE_URI. */
      uri: string;
      /** Send every row this run and write a fresh state (`full_resync: true` or `--full-resync`). */
      fullResync: boolean;
      encryption: StateEncryption | undefined;
    };

/** The run's sync settings, checked: `changes` needs a state location. */
export function resolveStateConfig(
  settings: Pick<Settings, 'sync_mode' | 'state_uri' | 'full_resync' | 'state_sse' | 'state_sse_kms_key_id'>,
  env: NodeJS.ProcessEnv,
  fullResyncFlag = false,
): StateConfig {
  if (settings.sync_mode !== 'changes') return { mode: 'full' };
  const uri = settings.state_uri ?? (env.STATE_URI?.trim() || undefined);
  if (!uri) {
    throw new ConfigError(
      'STATE_URI_MISSING',
      'sync_mode: changes needs a state location: set state_uri (or env STATE_URI) to s3://bucket/prefix/ or a local directory',
      {
        stage: 'settings',
      },
    );
  }
  return {
    mode: 'changes',
    uri,
    fullResync: settings.full_resync || fullResyncFlag,
    encryption: resolveStateEncryption(settings, env),
  };
}
