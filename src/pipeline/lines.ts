import { createReadStream } from 'node:fs';

/**
 * The lines of a spool file, a read chunk's worth at a time (callers then work through them without a
 * pause per line), never holding more than one chunk and one partial line.
 */
export async function* readLineGroups(path: string, readBytes = 1024 * 1024): AsyncGenerator<string[]> {
  let pending = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: readBytes })) {
    const lines = (pending + (chunk as string)).split('\n');
    pending = lines.pop()!;
    if (lines.length > 0) yield lines;
  }
  if (pending !== '') yield [pending];
}

export async function* readLines(path: string): AsyncGenerator<string> {
  for await (const lines of readLineGroups(path)) yield* lines;
}
