import type { Transferable } from 'node:worker_threads';
import type { Batch } from './batches.js';
import { produceListBatches, type ListBatchUpdate } from './list-batches.js';
import { serveGenerator } from './threads.js';

/** Worker thread entry: builds the List batches (see list-batches.ts) for the main thread to send. */

await serveGenerator(produceListBatches, (update: ListBatchUpdate): Transferable[] => (update.batch ? transferable(update.batch) : []));

/** The batch's buffers, moved rather than copied; a body carved from Node's shared pool is copied out first. */
function transferable(batch: Batch): Transferable[] {
  if (batch.body.byteOffset !== 0 || batch.body.byteLength !== batch.body.buffer.byteLength) {
    const { buffer, byteOffset, byteLength } = batch.body;
    batch.body = Buffer.from(buffer.slice(byteOffset, byteOffset + byteLength));
  }
  return [batch.body.buffer as ArrayBuffer, batch.starts.buffer as ArrayBuffer];
}
