import { convertValue } from '../schema/types.js';
import type { ColumnPlan } from './columns.js';
import { readLineGroups } from './lines.js';
import type { MembershipSpool } from './membership-spool.js';
import type { SpooledPartitions } from './deduplicate.js';
import { ROWS_PER_PIECE } from './row-spool.js';
import type { SegmentMember } from './segment-spool.js';

/**
 * Each target Segment's new members, read from the read stage's spool before anything is written, so
 * the replacement plan and the guard's numbers exist before the first write. The spool is only read:
 * the List load deduplicates it afterwards as before.
 *
 * Reads the spool line `key TAB row TAB segment TAB cells` (see spool.ts): the routing value and the
 * field values as text, whose key values are converted as the Segment load sends them.
 */

/** Members handed to a spool at a time. */
const GROUP = 5_000;

/**
 * @param segmentOf  routing value -> target index (every spelling of a target's name).
 * @param targets  per target index, the spool to fill; undefined for a target that needs no plan.
 */
export async function spoolNewMembers(
  spooled: SpooledPartitions,
  plan: ColumnPlan,
  segmentOf: ReadonlyMap<string, number>,
  targets: ReadonlyArray<MembershipSpool | undefined>,
): Promise<void> {
  const groups: SegmentMember[][] = targets.map(() => []);
  const keyTypes = plan.keys.map((key) => key.sendType);
  for (const files of spooled.groups) {
    for (const file of files) {
      for await (const lines of readLineGroups(file)) {
        for (const line of lines) {
          const first = line.indexOf('\t');
          const second = line.indexOf('\t', first + 1);
          const third = line.indexOf('\t', second + 1);
          const target = segmentOf.get(line.slice(second + 1, third));
          if (target === undefined || !targets[target]) continue;
          const cells = JSON.parse(line.slice(third + 1)) as string[];
          const group = groups[target]!;
          group.push({
            row: inputRow(spooled, Number(line.slice(first + 1, second))),
            keyJson: keyRow(cells, plan.keyPositions, keyTypes),
          });
          if (group.length >= GROUP) {
            groups[target] = [];
            await targets[target].addIncoming(group);
          }
        }
      }
    }
  }
  for (let i = 0; i < targets.length; i++) if (groups[i]!.length > 0) await targets[i]!.addIncoming(groups[i]!);
}

/** The key row as the Segment load sends it (see RowEncoder.keyJson), or '' when a key value does not convert. */
export function keyRow(
  cells: readonly string[],
  keyPositions: readonly number[],
  keyTypes: ReadonlyArray<ColumnPlan['keys'][number]['sendType']>,
): string {
  const values: string[] = [];
  for (let i = 0; i < keyPositions.length; i++) {
    const text = cells[keyPositions[i]!] ?? '';
    const type = keyTypes[i]!;
    if (text === '') values.push('null');
    else if (type === 'string') values.push(JSON.stringify(text));
    else {
      const conversion = convertValue(text, type);
      if (!conversion.ok) return '';
      values.push(conversion.json);
    }
  }
  return `[${values.join(',')}]`;
}

/** The input row number of a spooled row, as the deduplication reports it. */
function inputRow(spooled: SpooledPartitions, row: number): number {
  const bases = spooled.rowBases;
  if (!bases) return row;
  const piece = Math.floor(row / ROWS_PER_PIECE);
  return bases[piece]! + (row - piece * ROWS_PER_PIECE) + 1;
}
