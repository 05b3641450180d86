import type { Transferable } from 'node:worker_threads';
import type { Batch } from './batches.js';
import { produceListBatches, type ListBatchUpdate } from './list-batches.js';
import { serveGenerator } from './threads.js';

/** Worker thread entry: builds the List batches (see list-batches.ts) for the main thread to send. */

// A batch's buffers own their memory (see Batch), so they move to the main thread instead of being copied.
await serveGenerator(produceListBatches, (update: ListBatchUpdate): Transferable[] =>
  update.batch ? transferable(update.batch) : [],
);

function transferable(batch: Batch): Transferable[] {
  return [batch.body.buffer as ArrayBuffer, batch.starts.buffer as ArrayBuffer];
}
