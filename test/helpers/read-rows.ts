import { joinInferred } from '../../src/schema/types.js';
import { ChunkParser } from '../../src/source/chunk-parser.js';
import type { InputReader } from '../../src/source/input-reader.js';
import type { RawRow } from '../../src/source/raw-rows.js';

/**
 * Every row of an input, in order, parsed on this thread as the read workers parse pieces: one
 * ChunkParser per object, its JSON types merged into `reader.nativeTypes` and its row count into
 * `reader.objectsRead` (as the read stage does). `firstRows` holds the number of each object's first row.
 */
export async function readAllRows(
  reader: InputReader,
  maxFieldBytes: number,
): Promise<{ rows: RawRow[]; firstRows: number[] }> {
  const rows: RawRow[] = [];
  const firstRows: number[] = [];
  let parser: ChunkParser | undefined;
  let parserObject = -1;
  let lastObject = -1;
  const mergeNativeTypes = (): void =>
    parser?.nativeTypes.forEach(
      (type, i) => (reader.nativeTypes[i] = joinInferred(reader.nativeTypes[i] ?? 'unknown', type)),
    );
  for await (const piece of reader.pieces()) {
    let pieceRows = piece.rows;
    if (!pieceRows) {
      if (parserObject !== piece.object) {
        mergeNativeTypes();
        parser = new ChunkParser({ format: piece.format, uri: piece.uri, maxFieldBytes, columns: reader.columns });
        parserObject = piece.object;
      }
      const parsed: RawRow[] = [];
      await parser?.parseEach(piece.bytes ?? Buffer.alloc(0), (row) => parsed.push(row));
      pieceRows = parsed;
    }
    if (pieceRows.length > 0 && piece.object !== lastObject) {
      firstRows.push(rows.length + 1);
      lastObject = piece.object;
    }
    const object = reader.objectsRead[piece.object];
    if (object) object.rows += pieceRows.length;
    rows.push(...pieceRows);
  }
  mergeNativeTypes();
  return { rows, firstRows };
}
