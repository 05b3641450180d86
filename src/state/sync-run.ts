import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ColumnPlan } from '../pipeline/columns.js';
import type { Logger } from '../log.js';
import type { RunWarning } from '../report/types.js';
import type { RunContext } from '../pipeline/context.js';
import { RowNumberSet } from '../pipeline/rejected.js';
import { FIELD_TYPE_FOR } from '../schema/types.js';
import { commitState, requireResync } from './commit.js';
import { MAX_UNCONFIRMED_KEYS, writeUnconfirmed } from './failed-run.js';
import type { CompareJob } from './compare-in-worker.js';
import { resolveStateConfig } from './config.js';
import type { ChangeTotals } from './diff.js';
import { StateConflictError } from './errors.js';
import type { StateIdentity } from './format.js';
import { identityResetReason, stateIdentity } from './identity.js';
import { StateJournal } from './journal.js';
import { openStateStore } from './open.js';
import { readResyncBase, readState, stageState, type LoadedState } from './reader.js';
import type { ChangesReport } from '../report/types.js';
import { changesReport } from './report.js';
import type { StateStore } from './store.js';
import { StateWriter, type WrittenState } from './writer.js';

/**
 * What Selligent did not apply, told by the loads as they go: those rows and memberships are not
 * recorded, so the next run sends them again. A removal that failed stays recorded and is retried.
 */
export class AppliedRecorder {
  readonly listNotApplied = new RowNumberSet();
  private readonly segmentNotApplied = new Map<string, RowNumberSet>();
  private readonly removalFailed = new Set<string>();

  segmentUnapplied(segment: string, rows: Iterable<number>): void {
    let set = this.segmentNotApplied.get(segment);
    if (!set) this.segmentNotApplied.set(segment, (set = new RowNumberSet()));
    for (const row of rows) set.add(row);
  }

  /** A Segment's removals not all applied: every one stays recorded (removing again is harmless). */
  removalsUnapplied(segment: string): void {
    this.removalFailed.add(segment);
  }

  membershipApplied(segment: string, row: number): boolean {
    return !this.segmentNotApplied.get(segment)?.has(row);
  }

  removalApplied(segment: string): boolean {
    return !this.removalFailed.has(segment);
  }
}

/** What a full run (reset, resync) that failed after writing records in the pointer of the state in force. */
export const FAILED_FULL_RUN_REASON =
  'a run that sent every row failed before committing its state, so Selligent may hold rows this state does not record';
const TOO_MANY_UNCONFIRMED_REASON = `a run that failed after writing had sent more than ${MAX_UNCONFIRMED_KEYS.toLocaleString('en-US')} changed rows, too many to record one by one`;

/** What a run that lost the race to commit after writing to Selligent records in the winner's pointer. */
export const LOST_RACE_REASON =
  'a run that lost the race to commit this state had written to Selligent, perhaps after the run that committed it';

/** One changes-mode run: the state read, the comparison's settings, and the commit at the end. */
export class ChangeSync {
  readonly applied = new AppliedRecorder();
  private written: WrittenState | undefined;

  constructor(
    readonly store: StateStore,
    readonly identity: StateIdentity,
    readonly report: ChangesReport,
    /** The state compared with; undefined on a reset (every row is new). */
    private readonly state: LoadedState | undefined,
    /** A local directory holding the state's verified pieces, when compared. */
    private readonly stateDirectory: string | undefined,
    /** What the commit replaces: the pointer read and the generation it named. */
    private readonly base: { token: string | undefined; generation: number },
    private readonly workDir: string,
  ) {}

  /** True when rows are compared with a state (not a reset): Segments are then never cleared. */
  get comparing(): boolean {
    return this.state !== undefined;
  }

  get journalFile(): string {
    return join(this.workDir, 'state-journal.jsonl');
  }

  get settledDirectory(): string {
    return join(this.workDir, 'state-settled');
  }

  get removalDirectory(): string {
    return join(this.workDir, 'state-removals');
  }

  compareJob(plan: ColumnPlan, partitionCount: number, replace: boolean): CompareJob {
    return {
      stateDirectory: this.stateDirectory,
      manifest: this.state?.manifest,
      partitionCount,
      replace: replace && this.comparing,
      journalFile: this.journalFile,
      settledDirectory: this.settledDirectory,
      removalDirectory: this.removalDirectory,
      keyTypes: plan.keys.map((key) => key.sendType),
      keyForm: this.identity.key_form,
    };
  }

  /** The comparison's totals, once the List worker is done. */
  setTotals(totals: ChangeTotals): void {
    const counted = changesReport({
      mode: this.report.mode,
      location: this.report.state,
      generationRead: this.report.generation_read,
      rowsInState: this.report.rows_in_state,
      bytesRead: this.report.state_bytes_read,
      totals,
      resetReason: this.report.reset_reason,
    });
    Object.assign(this.report, counted, { removal_requests: this.report.removal_requests });
  }

  /** The members the state in force records for `segment`: the ones the exporter itself put there. */
  recordedMembers(segment: string): number {
    return this.state?.manifest.segments[segment] ?? 0;
  }

  /** The Segments with members to remove, each with its file of key rows. */
  async removalFiles(): Promise<Array<{ segment: string; file: string }>> {
    let names: string[];
    try {
      names = await readdir(this.removalDirectory);
    } catch {
      return [];
    }
    return names
      .filter((name) => name.startsWith('removals-'))
      .sort()
      .map((name) => ({
        segment: Buffer.from(name.slice('removals-'.length, -'.jsonl'.length), 'base64url').toString('utf8'),
        file: join(this.removalDirectory, name),
      }));
  }

  /**
   * After the run's writes: the new generation, holding what Selligent applied, stored beside the state
   * in force but not yet in force (`commit` does that once the run's status is known).
   */
  async writeState(journalFile: string, rowApplied: (row: number) => boolean, partitionCount: number): Promise<void> {
    const journal = new StateJournal(journalFile);
    const writer = new StateWriter(this.workDir, partitionCount);
    try {
      await writer.adoptSettled(this.settledDirectory);
      await journal.replayInto(
        {
          rowApplied,
          membershipApplied: (segment, row) => this.applied.membershipApplied(segment, row),
          removalApplied: (segment) => this.applied.removalApplied(segment),
        },
        writer,
      );
      this.written = await writer.write(this.store, this.identity, this.base.generation);
    } finally {
      await writer.discard();
    }
  }

  /** Puts the written state in force; a run that lost the race to another reports it and keeps its status. */
  async commit(warnings: RunWarning[], wrote: boolean): Promise<void> {
    if (!this.written) return;
    try {
      await this.putInForce(this.written, warnings, wrote);
    } catch (error) {
      // The state in force stays valid, and the next run sends what differs from it.
      const message = error instanceof Error ? error.message : String(error);
      this.report.commit_error = `STATE_NOT_COMMITTED: ${message}`;
      warnings.push({ code: 'STATE_NOT_COMMITTED', message });
    }
  }

  /**
   * Commits `written`; false when another run committed first. The state in force (another run's) stays
   * valid. The next run sends what differs from it, unless this run wrote to Selligent (`wrote`): its
   * writes may have landed after the winner's, so the winner's state is marked and the next run sends
   * every row. Any other error is thrown.
   */
  private async putInForce(written: WrittenState, warnings: RunWarning[], wrote: boolean): Promise<boolean> {
    this.report.state_bytes_written = written.manifest.bytes;
    try {
      const result = await commitState(this.store, written, { token: this.base.token });
      this.report.generation_written = result.generation;
      this.report.commit_guarantee = result.guarantee;
      return true;
    } catch (error) {
      if (!(error instanceof StateConflictError)) throw error;
      const message =
        error.message +
        (wrote ? await this.markForResync() : '; the next run sends what differs from the state in force');
      this.report.commit_error = `STATE_CONFLICT: ${message}`;
      warnings.push({ code: 'STATE_CONFLICT', message });
      return false;
    }
  }

  /**
   * A run that failed, or whose status does not let its state be committed, after writing to Selligent:
   * nothing of it is recorded as applied, but Selligent may hold what it sent. The state it compared
   * with goes in force again with the rows it sent unconfirmed (see writeUnconfirmed), so that an input
   * changed back is sent too; after a full run, or more such rows than can be held, the state in force
   * is marked so that the next run sends every row. Never throws: the run's own failure is what counts.
   */
  async recordFailure(warnings: RunWarning[], logger: Logger): Promise<void> {
    try {
      const written = this.state
        ? await writeUnconfirmed(
            this.store,
            this.state,
            new StateJournal(this.journalFile),
            this.identity,
            this.workDir,
          )
        : undefined;
      if (!written) {
        // A first run has no state to mark: the next run is a full one anyway.
        if (this.base.token === undefined) return;
        const reason = this.state ? TOO_MANY_UNCONFIRMED_REASON : FAILED_FULL_RUN_REASON;
        if (!(await requireResync(this.store, reason))) throw new Error('other runs kept replacing the pointer');
        logger.warn({ state: this.store.location }, `state marked: the next run sends every row (${reason})`);
        return;
      }
      if (await this.putInForce(written, warnings, true))
        logger.warn(
          { state: this.store.location, generation: this.report.generation_written },
          'the state this run compared with is in force again, with the changed rows it sent unconfirmed: the next run sends them whatever their value',
        );
    } catch (error) {
      const message = `state ${this.store.location}: the rows this failed run sent could not be recorded as unconfirmed (${error instanceof Error ? error.message : String(error)}); if the next input may change rows back to their previous values, run it with --full-resync`;
      this.report.commit_error = `STATE_NOT_COMMITTED: ${message}`;
      warnings.push({ code: 'STATE_NOT_COMMITTED', message });
    }
  }

  private async markForResync(): Promise<string> {
    const marked = await requireResync(this.store, LOST_RACE_REASON).catch(() => false);
    return marked
      ? '; this run wrote to Selligent, perhaps after the run that won, so the state in force is marked and the next run sends every row'
      : '; this run wrote to Selligent, perhaps after the run that won, and the state in force could not be marked: run the next export with --full-resync';
  }

  async close(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true }).catch(() => undefined);
    await this.store.close().catch(() => undefined);
  }
}

/**
 * sync_mode changes: opens the state, checks every piece of it, and decides whether this run compares
 * or resets. Runs after the input is read (the identity needs the final column types) and before any
 * write, so a bad state stops the run with nothing written. Undefined in full mode.
 */
export async function openChangeSync(ctx: RunContext, plan: ColumnPlan): Promise<ChangeSync | undefined> {
  const { settings, options } = ctx;
  const config = resolveStateConfig(settings, options.env);
  if (config.mode !== 'changes') return undefined;
  const store = await openStateStore(config.uri, { env: options.env, encryption: config.encryption });
  try {
    const identity = stateIdentity({
      baseUrl: options.credentials.baseUrl,
      organization: settings.organization,
      list: settings.list_api_name,
      keyFields: settings.key_fields,
      keyForm: plan.typesFrom === 'schema-file' ? 'typed' : 'as-written',
      fields: plan.fields.map((column) => ({ name: column.field, type: FIELD_TYPE_FOR[column.sendType] })),
      segmentColumn: settings.segment_column,
      segmentImportOption: settings.segment_data_import_option,
    });
    let state: LoadedState | undefined;
    let base: { token: string | undefined; generation: number };
    let resetReason: string | null;
    let mode: ChangesReport['mode'];
    if (config.fullResync) {
      base = await readResyncBase(store);
      resetReason = 'full resync requested';
      mode = 'full-resync';
    } else {
      state = await readState(store);
      resetReason = !state
        ? 'no state yet'
        : state.resyncRequired
          ? `resync required since ${state.resyncRequired.at}: ${state.resyncRequired.reason}`
          : identityResetReason(state.manifest.identity, identity);
      base = state ? { token: state.token, generation: state.manifest.generation } : await readResyncBase(store);
      mode = resetReason === null ? 'changes' : 'reset';
    }
    let stateDirectory: string | undefined;
    const compared = resetReason === null ? state : undefined;
    if (compared) {
      const staging = join(ctx.workDir, 'state-read');
      await mkdir(staging, { recursive: true });
      await stageState(store, compared, staging);
      stateDirectory = store.kind === 'local' ? localRoot(config.uri) : staging;
    }
    const report = changesReport({
      mode,
      location: store.location,
      generationRead: state?.manifest.generation ?? null,
      rowsInState: state?.manifest.rows ?? 0,
      bytesRead: state?.manifest.bytes ?? 0,
      totals: { new: 0, changed: 0, unchanged: 0, left: 0, segments: {} },
      resetReason,
    });
    ctx.logger.info(
      { state: store.location, mode, generation: report.generation_read, rows: report.rows_in_state, resetReason },
      resetReason === null
        ? 'changes-only sync: comparing with the state'
        : `changes-only sync: full run (${resetReason})`,
    );
    // Beside the spool, not in it: a run that fails needs its journal after the spool is removed.
    const syncDir = await mkdtemp(join(dirname(ctx.workDir), 'selligent-state-'));
    return new ChangeSync(store, identity, report, compared, stateDirectory, base, syncDir);
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

function localRoot(uri: string): string {
  return /^file:\/\//i.test(uri.trim()) ? fileURLToPath(uri.trim()) : uri.trim();
}
