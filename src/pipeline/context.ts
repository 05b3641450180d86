import type { Credentials } from '../config/credentials.js';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../log.js';
import type { SelligentClient } from '../selligent/client.js';
import type { ChangeSync } from '../state/sync-run.js';
import type { Progress } from './progress.js';
import type { RejectedRowsFile } from './rejected.js';
import type { PipelineResults } from './results.js';

export interface PipelineOptions {
  settings: Settings;
  credentials: Credentials;
  input: string;
  format?: string;
  schemaPath?: string;
  rejectedPath: string;
  tempDir?: string;
  dryRun: boolean;
  logger: Logger;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** What every stage shares during one run. */
export interface RunContext {
  options: PipelineOptions;
  settings: Settings;
  logger: Logger;
  /** Each stage fills its own part (see PipelineResults). */
  results: PipelineResults;
  rejected: RejectedRowsFile;
  progress: Progress;
  client: SelligentClient;
  /** A scratch directory for spool files, removed at the end of the run. */
  workDir: string;
  /** sync_mode changes: the state compared with and what the loads applied. */
  sync?: ChangeSync;
}
