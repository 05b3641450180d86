import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../src/errors.js';
import { completeLength, decodeInput } from '../../src/source/decode.js';
import { chunked } from '../helpers/streams.ts';

async function decode(bytes: Buffer, options: { size?: number; limit?: number } = {}) {
  const { compression, stream } = await decodeInput(
    chunked(bytes, options.size),
    'file:///in.csv',
    options.limit ?? 1e9,
  );
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return { compression, text: Buffer.concat(parts).toString('utf8'), parts };
}

async function decodeError(
  bytes: Buffer,
  code: string,
  options: { size?: number; limit?: number } = {},
): Promise<InputError> {
  try {
    await decode(bytes, options);
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.exitCode, 3);
    assert.equal(error.stage, 'read');
    return error;
  }
  assert.fail(`expected ${code}`);
}

const TEXT = 'id,name\n1,日本語\n2,é😀\n3,plain\n';

describe('completeLength', () => {
  const cases: Array<[number[], number]> = [
    [[], 0],
    [[0x61], 1],
    [[0x61, 0x62], 2],
    [[0xc3], 0],
    [[0x61, 0xc3], 1],
    [[0x61, 0xc3, 0xa9], 3],
    [[0xe6], 0],
    [[0xe6, 0x97], 0],
    [[0x61, 0xe6, 0x97], 1],
    [[0xe6, 0x97, 0xa5], 3],
    [[0xf0], 0],
    [[0xf0, 0x9f], 0],
    [[0xf0, 0x9f, 0x98], 0],
    [[0x61, 0xf0, 0x9f, 0x98], 1],
    [[0xf0, 0x9f, 0x98, 0x80], 4],
    [[0x61, 0x80], 2],
  ];
  for (const [bytes, length] of cases) {
    it(`[${bytes.map((byte) => byte.toString(16)).join(' ')}] -> ${length}`, () =>
      assert.equal(completeLength(Buffer.from(bytes)), length));
  }

  it('every cut of a multi-byte text is held back to a character boundary', () => {
    const bytes = Buffer.from('aé日😀b');
    for (let end = 0; end <= bytes.length; end++) {
      const cut = completeLength(bytes.subarray(0, end));
      assert.ok(cut <= end && end - cut < 4);
      assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, cut)));
    }
  });
});

describe('decodeInput', () => {
  it('passes plain UTF-8 text through', async () => {
    const { compression, text } = await decode(Buffer.from(TEXT));
    assert.equal(compression, 'none');
    assert.equal(text, TEXT);
  });

  it('drops a UTF-8 BOM, also when it arrives one byte at a time', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)]);
    assert.equal((await decode(bytes)).text, TEXT);
    assert.equal((await decode(bytes, { size: 1 })).text, TEXT);
    assert.equal((await decode(bytes, { size: 2 })).text, TEXT);
  });

  it('keeps a BOM-like sequence that is not at the start', async () => {
    const text = 'a\uFEFFb\n';
    assert.equal((await decode(Buffer.from(text))).text, text);
  });

  it('decompresses gzip found by its magic bytes', async () => {
    const { compression, text } = await decode(gzipSync(TEXT));
    assert.equal(compression, 'gzip');
    assert.equal(text, TEXT);
  });

  it('decompresses gzip arriving in small pieces', async () => {
    for (const size of [2, 3, 7]) {
      const { compression, text } = await decode(gzipSync(TEXT), { size });
      assert.equal(compression, 'gzip', `pieces of ${size}`);
      assert.equal(text, TEXT);
    }
  });

  it('detects gzip when the first piece holds a single byte', async () => {
    const { compression, text } = await decode(gzipSync(TEXT), { size: 1 });
    assert.equal(compression, 'gzip');
    assert.equal(text, TEXT);
  });

  it('decompresses concatenated gzip members', async () => {
    const { text } = await decode(Buffer.concat([gzipSync('id\n1\n'), gzipSync('2\n')]));
    assert.equal(text, 'id\n1\n2\n');
  });

  it('a gzip-compressed BOM is dropped too', async () => {
    const { text } = await decode(gzipSync(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)])));
    assert.equal(text, TEXT);
  });

  it('multi-byte characters split across chunks are not flagged, at any chunk size', async () => {
    const bytes = Buffer.from('😀日本語é'.repeat(50));
    for (const size of [1, 2, 3, 5, 7]) {
      const { text, parts } = await decode(bytes, { size });
      assert.equal(text, '😀日本語é'.repeat(50), `chunk size ${size}`);
      assert.ok(parts.length > 100, `the pieces arrived separately (${parts.length} pieces)`);
      for (const part of parts)
        assert.doesNotThrow(
          () => new TextDecoder('utf-8', { fatal: true }).decode(part),
          'every piece passed on is whole characters',
        );
    }
  });

  it('an empty stream is empty text', async () => {
    const { compression, text } = await decode(Buffer.alloc(0));
    assert.equal(compression, 'none');
    assert.equal(text, '');
  });

  it('one byte of input', async () => {
    assert.equal((await decode(Buffer.from('x'))).text, 'x');
    assert.equal((await decode(Buffer.from([0x1f]))).text, '\u001f');
  });

  it('invalid UTF-8: INPUT_ENCODING near the bad byte', async () => {
    const bytes = Buffer.concat([Buffer.from('id,name\n1,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]);
    for (const size of [bytes.length, 1, 4]) {
      const error = await decodeError(bytes, 'INPUT_ENCODING', { size });
      assert.match(error.message, /not valid UTF-8 near byte \d+/);
      const offset = (error.details as { byteOffset: number }).byteOffset;
      assert.ok(Math.abs(offset - 10) <= 2, `offset ${offset}, bad byte at 10 (chunk size ${size})`);
    }
  });

  it('Latin-1 text (é as 0xE9): INPUT_ENCODING', async () => {
    await decodeError(Buffer.from('id,name\n1,caf\xe9 au lait\n', 'latin1'), 'INPUT_ENCODING');
  });

  it('a multi-byte sequence broken by a plain byte: INPUT_ENCODING, also one byte at a time', async () => {
    const bytes = Buffer.from([...Buffer.from('id,name\n1,'), 0xe6, 0x97, 0x0a]);
    await decodeError(bytes, 'INPUT_ENCODING');
    await decodeError(bytes, 'INPUT_ENCODING', { size: 1 });
  });

  it('a multi-byte sequence cut off at the end: INPUT_ENCODING', async () => {
    const bytes = Buffer.from([...Buffer.from('id,name\n1,'), 0xe6, 0x97]);
    const whole = await decodeError(bytes, 'INPUT_ENCODING');
    const bytewise = await decodeError(bytes, 'INPUT_ENCODING', { size: 1 });
    for (const error of [whole, bytewise]) {
      const offset = (error.details as { byteOffset: number }).byteOffset;
      assert.ok(Math.abs(offset - 10) <= 2, `offset ${offset}, cut sequence at 10`);
    }
  });

  it('invalid UTF-8 inside gzip: INPUT_ENCODING', async () => {
    await decodeError(gzipSync(Buffer.from([0x61, 0x0a, 0xc3, 0x28])), 'INPUT_ENCODING');
  });

  it('a gzip cut short: INPUT_CORRUPT', async () => {
    let seed = 3;
    const noise = Array.from({ length: 4_000 }, () =>
      ((seed = (seed * 48_271) % 2_147_483_647) % 1_000_000).toString(36),
    ).join(',');
    const gz = gzipSync(`id,name\n${noise}\n`);
    for (const end of [Math.floor(gz.length / 2), gz.length - 4, 12]) {
      const error = await decodeError(gz.subarray(0, end), 'INPUT_CORRUPT');
      assert.match(error.message, /gzip data is damaged or cut short/);
      assert.match(error.message, /file:\/\/\/in\.csv/);
    }
  });

  it('gzip magic followed by garbage: INPUT_CORRUPT', async () => {
    await decodeError(
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0x01, 0x02, 0x03]),
      'INPUT_CORRUPT',
    );
    await decodeError(Buffer.from([0x1f, 0x8b, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61]), 'INPUT_CORRUPT');
  });

  it('more than the limit after decompression: INPUT_TOO_LARGE', async () => {
    const bomb = gzipSync(Buffer.alloc(2_000_000, 'a'));
    assert.ok(bomb.length < 10_000);
    const error = await decodeError(bomb, 'INPUT_TOO_LARGE', { limit: 100_000 });
    assert.match(error.message, /more than 100000 bytes after decompression \(max_decompressed_bytes\)/);
    assert.deepEqual(error.details, { uri: 'file:///in.csv', limit: 100_000 });
  });

  it('plain text over the limit: INPUT_TOO_LARGE', async () => {
    const error = await decodeError(Buffer.from('x'.repeat(1_000)), 'INPUT_TOO_LARGE', { limit: 999 });
    assert.doesNotMatch(error.message, /after decompression/);
  });

  it('exactly the limit is fine', async () => {
    assert.equal((await decode(Buffer.from('x'.repeat(1_000)), { limit: 1_000 })).text.length, 1_000);
    assert.equal((await decode(gzipSync('y'.repeat(1_000)), { limit: 1_000 })).text.length, 1_000);
  });

  it('an error from the source stream reaches the reader', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from('id\n'));
    const { stream } = await decodeInput(source, 'file:///x', 1e9);
    setImmediate(() => source.destroy(new Error('socket hang up')));
    await assert.rejects(
      (async () => {
        for await (const _ of stream);
      })(),
      /socket hang up/,
    );
  });
});
