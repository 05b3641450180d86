import { ConfigError, TransientError, type ErrorCode } from '../errors.js';

/**
 * A state that cannot be trusted (a piece missing, a checksum or size that does not match, an unknown
 * format version, a manifest that does not parse): the run stops before any write. Sending everything
 * once and recording a fresh state is always safe, so the message names the file and that fix.
 */
export class StateUnusableError extends ConfigError {
  constructor(code: ErrorCode, file: string, why: string) {
    super(
      code,
      `state ${file}: ${why}; run once with --full-resync (or full_resync: true) to send every row and write a fresh state`,
      {
        stage: 'settings',
        details: { file },
      },
    );
  }
}

/**
 * Another run replaced the state between this run's read and its commit. This run's writes were loads,
 * which are idempotent: the state in force is the other run's, and the next run sends the difference.
 */
export class StateConflictError extends TransientError {
  constructor(location: string, detail: string) {
    super('STATE_CONFLICT', `state ${location}: not committed, another run replaced it first (${detail})`, {
      stage: 'report',
      details: { location },
    });
  }
}
