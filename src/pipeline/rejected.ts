import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { scrubJson } from '../secrets.js';

export interface RejectedRow {
  /** 1-based input data row number. */
  row: number;
  stage: 'validate' | 'list-load' | 'segment-load';
  key: Record<string, string> | null;
  field: string | null;
  code: string;
  message: string;
  /** The row's values by column name, as read. */
  values: Record<string, string> | null;
}

/**
 * Rejected and skipped rows, one JSON object per line. Row values (PII) go here and nowhere else: logs
 * carry counts and row numbers only.
 */
export class RejectedRowsFile {
  private stream: WriteStream | undefined;
  count = 0;

  constructor(readonly path: string) {}

  async write(entry: RejectedRow): Promise<void> {
    if (!this.stream) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'w' });
    }
    this.count++;
    if (!this.stream.write(JSON.stringify(scrubJson(entry)) + '\n')) await once(this.stream, 'drain');
  }

  /** Creates the file even when nothing was rejected, so its path in the report always exists. */
  async close(): Promise<void> {
    if (!this.stream) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'w' });
    }
    const stream = this.stream;
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}
