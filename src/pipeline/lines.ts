import { createReadStream } from 'node:fs';

/** The lines of a spool file, without holding more than one read chunk and one partial line. */
export async function* readLines(path: string): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1024 * 1024 })) {
    const text = pending + (chunk as string);
    let start = 0;
    let end = text.indexOf('\n', start);
    while (end >= 0) {
      yield text.slice(start, end);
      start = end + 1;
      end = text.indexOf('\n', start);
    }
    pending = text.slice(start);
  }
  if (pending !== '') yield pending;
}
