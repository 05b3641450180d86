import { readFile, rm, stat } from 'node:fs/promises';
import { digitsAt, NEWLINE, TAB } from './line-buffers.js';
import { readLines } from './lines.js';
import { PartitionWriter } from './partition-writer.js';
import { hashKey } from './partitioning.js';
import { ROWS_PER_PIECE, spooledKey } from './row-spool.js';

/**
 * Spooled rows reduced to one winner per key, a partition at a time. A partition that is too large to
 * hold in memory is split again with another hash first.
 */

export type DeduplicationStrategy = 'ImportLastMatch' | 'ImportFirstMatch';

/** A partition larger than this is split again before deduplication, so deduplicating it stays within memory. */
export const MAX_PARTITION_BYTES = 24 * 1024 * 1024;
const SUB_PARTITIONS = 16;
const MAX_DEPTH = 4;
const WINNER_SLICE = 5_000;

/**
 * Rows spooled by one or more writers that partition keys the same way: `groups[p]` holds every
 * writer's file of partition p, so each key's rows are all in one group.
 */
export interface SpooledPartitions {
  directory: string;
  groups: string[][];
  /** A partition larger than this is split again before deduplication. */
  maxPartitionBytes: number;
  /**
   * When rows were spooled by position (piece sequence number x ROWS_PER_PIECE + index in the piece)
   * rather than by row number: the row number before each piece's first row.
   */
  rowBases?: number[];
}

/** One key's winning row, as a span of its partition's bytes. */
export interface Winner {
  row: number;
  /** Where the row's field values (routing column excluded) are in the partition's `data`: a JSON array of strings. */
  start: number;
  end: number;
  /** Every Segment any row of this key was routed to, each once, in input order. */
  segments: string[];
  /** The rows of this key merged away (row numbers); absent when the key had one row. */
  losers?: number[];
}

/** Part of a partition's winners; `merged` counts rows merged away that this part reports first. */
export interface DedupedPartition {
  /** The partition file's bytes, which the winners point into. */
  data: Buffer;
  winners: Winner[];
  merged: number;
  /** The top-level spool partition it came from (the parts of a partition split again share it). */
  partition: number;
}

/** A winner's field values as strings. */
export function winnerCells(partition: DedupedPartition, winner: Winner): string[] {
  return JSON.parse(partition.data.toString('utf8', winner.start, winner.end)) as string[];
}

/**
 * Each partition's rows reduced to one winner per key: the first or the last row of that key in input
 * order, with every Segment its rows named. Each file is removed once read.
 */
export async function* deduplicatePartitions(
  spooled: SpooledPartitions,
  strategy: DeduplicationStrategy,
): AsyncGenerator<DedupedPartition> {
  for (const [partition, group] of spooled.groups.entries())
    for await (const part of deduplicateGroup(spooled, group, strategy, 1)) yield { ...part, partition };
}

async function* deduplicateGroup(
  spooled: SpooledPartitions,
  files: string[],
  strategy: DeduplicationStrategy,
  depth: number,
): AsyncGenerator<Omit<DedupedPartition, 'partition'>> {
  const [first] = files;
  if (first === undefined) return;
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  if (sizes.reduce((sum, size) => sum + size, 0) > spooled.maxPartitionBytes && depth < MAX_DEPTH) {
    const sub = new PartitionWriter(spooled.directory, `${baseName(first)}-${depth}`, SUB_PARTITIONS);
    let count = 0;
    for (const file of files) {
      for await (const line of readLines(file)) {
        sub.add(hashKey(spooledKey(line), depth) % SUB_PARTITIONS, line);
        if (++count % 5_000 === 0) await sub.flush();
      }
      await rm(file, { force: true });
    }
    await sub.close();
    for (const subPath of sub.paths) yield* deduplicateGroup(spooled, [subPath], strategy, depth + 1);
    return;
  }
  // The whole partition is read at once (it is at most maxPartitionBytes) and scanned as bytes: the
  // winners are spans of it, so no row is decoded or copied unless it has to be.
  const data =
    files.length === 1 ? await readFile(first) : Buffer.concat(await Promise.all(files.map((file) => readFile(file))));
  await Promise.all(files.map((file) => rm(file, { force: true })));
  const byKey = new Map<string, Winner>();
  let merged = 0;
  const lastWins = strategy === 'ImportLastMatch';
  for (let position = 0; position < data.length;) {
    const keyEnd = data.indexOf(TAB, position);
    const rowEnd = data.indexOf(TAB, keyEnd + 1);
    const segmentEnd = data.indexOf(TAB, rowEnd + 1);
    let lineEnd = data.indexOf(NEWLINE, segmentEnd + 1);
    if (lineEnd < 0) lineEnd = data.length;
    // Latin-1 maps each byte to one character: a cheap, exact identity for the key's UTF-8 bytes.
    const key = data.toString('latin1', position, keyEnd);
    const row = digitsAt(data, keyEnd + 1, rowEnd);
    const segment = data.toString('latin1', rowEnd + 1, segmentEnd);
    position = lineEnd + 1;
    const existing = byKey.get(key);
    if (!existing) {
      byKey.set(key, { row, start: segmentEnd + 1, end: lineEnd, segments: [segment] });
      continue;
    }
    merged++;
    if (!existing.segments.includes(segment)) existing.segments.push(segment);
    // Several writers' files are read one after the other, so input order is the row (or position) order.
    const wins = lastWins ? row > existing.row : row < existing.row;
    (existing.losers ??= []).push(wins ? existing.row : row);
    if (wins) {
      existing.row = row;
      existing.start = segmentEnd + 1;
      existing.end = lineEnd;
    }
  }
  const rowBases = spooled.rowBases;
  if (rowBases) {
    for (const winner of byKey.values()) {
      winner.row = rowNumber(rowBases, winner.row);
      const losers = winner.losers;
      if (losers) for (let i = 0; i < losers.length; i++) losers[i] = rowNumber(rowBases, losers[i]!);
    }
  }
  let winners: Winner[] = [];
  for (const winner of byKey.values()) {
    winners.push(winner);
    if (winners.length === WINNER_SLICE) {
      yield { data, winners, merged };
      merged = 0;
      winners = [];
    }
  }
  if (winners.length > 0 || merged > 0) yield { data, winners, merged };
}

function rowNumber(rowBases: number[], position: number): number {
  const piece = Math.floor(position / ROWS_PER_PIECE);
  const base = rowBases[piece];
  if (base === undefined)
    throw new Error(`spooled row position ${position} is in piece ${piece}, which has no row number`);
  return base + (position - piece * ROWS_PER_PIECE) + 1;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/\.jsonl$/, '');
}
