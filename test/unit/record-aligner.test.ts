import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyBeforeBlankTail, RecordAligner, type OversizedRecord } from '../../src/source/record-aligner.js';

describe('RecordAligner', () => {
  /** Feeds `chunks` through an aligner; returns what it passed on (text, or the size of a dropped record). */
  async function align(quoted: boolean, limit: number, chunks: string[]): Promise<Array<string | number>> {
    const aligner = new RecordAligner(quoted, limit, () => new Error('too large'));
    const out: Array<string | number> = [];
    const done = (async () => {
      for await (const piece of aligner as AsyncIterable<Buffer | OversizedRecord>)
        out.push(Buffer.isBuffer(piece) ? piece.toString() : piece.oversized);
    })();
    for (const chunk of chunks) aligner.write(Buffer.from(chunk));
    aligner.end();
    await done;
    return out;
  }

  it('a record that passes the limit only when its last chunk arrives is dropped too', async () => {
    assert.deepEqual(await align(true, 10, ['a,b\nxxxxxx', 'xxxx\nc,d\n']), ['a,b\n', 11, 'c,d\n']);
  });

  it('a record at the limit is passed on whole', async () => {
    assert.deepEqual(await align(true, 10, ['a,b\nxxxxx', 'xxxx\nc,d\n']), ['a,b\n', 'xxxxxxxxx\nc,d\n']);
  });

  it('a dropped record ends at the first newline outside quotes, even inside a chunk that holds more records', async () => {
    assert.deepEqual(await align(true, 8, ['1,"a\nb', 'cdefgh\n"\n2,x\n3,', 'y\n']), [15, '2,x\n', '3,y\n']);
  });

  it('a dropped record at the end of the input without a newline is still reported', async () => {
    assert.deepEqual(await align(false, 4, ['ok\nxxx', 'xxxx']), ['ok\n', 7]);
  });
});

describe('RecordAligner: record boundaries', () => {
  async function pieces(quoted: boolean, chunks: string[]): Promise<string[]> {
    const aligner = new RecordAligner(quoted, 1_000, () => new Error('too large'));
    const out: string[] = [];
    const done = (async () => {
      for await (const piece of aligner as AsyncIterable<Buffer | OversizedRecord>)
        out.push(Buffer.isBuffer(piece) ? piece.toString() : `oversized ${piece.oversized}`);
    })();
    for (const chunk of chunks) aligner.write(Buffer.from(chunk));
    aligner.end();
    await done;
    return out;
  }

  it('every piece ends at a newline outside quotes; a quoted newline is no boundary', async () => {
    assert.deepEqual(await pieces(true, ['1,"a\nb",c\n2,', 'x\n3,"y\n', 'z"\n']), [
      '1,"a\nb",c\n',
      '2,x\n',
      '3,"y\nz"\n',
    ]);
  });

  it('a doubled quote split over two chunks stays inside the quoted value', async () => {
    assert.deepEqual(await pieces(true, ['1,"a"', '"\nb"\n2,c\n']), ['1,"a""\nb"\n2,c\n']);
  });

  it('a quote inside an unquoted value is data, and does not open a quoted value', async () => {
    assert.deepEqual(await pieces(true, ['1,a"b\n2,', 'c\n']), ['1,a"b\n', '2,c\n']);
  });

  it('unquoted text (TSV, JSON Lines) breaks at every newline, quotes or not', async () => {
    assert.deepEqual(await pieces(false, ['1\t"a\n2\t', 'b"\n']), ['1\t"a\n', '2\tb"\n']);
  });

  it('text without a final newline is passed on at the end', async () => {
    assert.deepEqual(await pieces(true, ['1,a\n2,b']), ['1,a\n', '2,b']);
  });
});

describe('bodyBeforeBlankTail', () => {
  const tail = (text: string): string => text.slice(0, bodyBeforeBlankTail(Buffer.from(text)));

  it('drops the blank lines after the last record, keeping its own line end', () => {
    assert.equal(tail('a,b\nc,d\n\n  \r\n\n'), 'a,b\nc,d\n');
    assert.equal(tail('a,b\r\n\r\n'), 'a,b\r\n');
  });

  it('text without a blank tail is kept whole', () => {
    assert.equal(tail('a,b\nc,d\n'), 'a,b\nc,d\n');
    assert.equal(tail('a,b\nc,d'), 'a,b\nc,d');
    assert.equal(tail('a,b   '), 'a,b   ', 'spaces at the end of a record without a newline are part of it');
  });

  it('text that is all blank has no body', () => {
    assert.equal(tail('\n \n\r\n'), '');
    assert.equal(tail(''), '');
  });

  it('blank lines inside the text are kept (they are rows)', () => {
    assert.equal(tail('a\n\nb\n\n'), 'a\n\nb\n');
  });
});
