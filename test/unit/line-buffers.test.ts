import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digitsAt, LineChunks } from '../../src/pipeline/line-buffers.js';

const text = (chunks: readonly Buffer[]): string => Buffer.concat(chunks).toString('utf8');

describe('LineChunks', () => {
  it('hands over completed chunks only, in order, each line ending in a newline', () => {
    const chunks = new LineChunks(64);
    assert.equal(chunks.add('first line'), 11);
    assert.deepEqual(chunks.take(false), [], 'the first chunk is not full yet');
    // Room is reserved for three bytes a character: 20 characters no longer fit after the first line.
    chunks.add('x'.repeat(20));
    assert.equal(text(chunks.take(false)), 'first line\n');
    assert.equal(text(chunks.take(true)), `${'x'.repeat(20)}\n`);
    assert.deepEqual(chunks.take(true), [], 'nothing is handed over twice');
  });

  it('a line larger than a chunk is kept whole; multi-byte characters are counted in bytes', () => {
    const chunks = new LineChunks(8);
    const long = 'é'.repeat(20);
    assert.equal(chunks.add('a'), 2);
    assert.equal(chunks.add(long), 41);
    chunks.add('b');
    const all = chunks.take(true);
    assert.equal(text(all), `a\n${long}\nb\n`);
    assert.equal(all[0]?.toString('utf8'), 'a\n', 'the chunk before the long line was sealed first');
  });

  it('chunks handed over stay as they were while more lines are added', () => {
    const chunks = new LineChunks(4);
    chunks.add('abc');
    chunks.add('def');
    const taken = chunks.take(false);
    chunks.add('ghi');
    chunks.add('jkl');
    assert.equal(text(taken), 'abc\n');
    assert.equal(text(chunks.take(true)), 'def\nghi\njkl\n');
  });
});

describe('digitsAt', () => {
  it('reads the decimal number in a span of bytes', () => {
    const line = Buffer.from('"k"\t12345\tseg');
    assert.equal(digitsAt(line, 4, 9), 12345);
    assert.equal(digitsAt(line, 4, 4), 0, 'an empty span is 0');
    assert.equal(digitsAt(Buffer.from('x4398046511104x'), 1, 14), 4398046511104);
  });
});
