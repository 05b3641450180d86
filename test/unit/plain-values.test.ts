import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NOT_PLAIN, plainForm, plainLength, writePlain } from '../../src/schema/plain-values.js';
import { convertValue, type ColumnType } from '../../src/schema/types.js';

const TYPES: ColumnType[] = ['long', 'double', 'boolean', 'timestamp', 'date', 'numeric', 'string'];

/** What writePlain makes of `text` (inside a larger buffer, as a spooled row holds it), or undefined when not plain. */
function plainJson(text: string, type: ColumnType): string | undefined {
  const data = Buffer.from(`["x","${text}","y"]`);
  const start = 6;
  const end = start + Buffer.byteLength(text);
  const form = plainForm(data, start, end, type);
  if (form === NOT_PLAIN) return undefined;
  const out = Buffer.alloc(plainLength(form, end - start) + 4, 0x7e);
  const written = writePlain(form, data, start, end, out, 2);
  assert.equal(written, plainLength(form, end - start));
  assert.equal(out.toString('latin1', 0, 2) + out.toString('latin1', 2 + written), '~~~~', 'writes its length exactly');
  return out.toString('utf8', 2, 2 + written);
}

const SAMPLES = [
  ...['0', '-0', '7', '-7', '+7', '007', '00', '1.', '.5', '-.5', '1.5', '-1.50', '0.0', '-0.0', '1e5', '1E-3'],
  ...['123456789012345', '1234567890123456', '-123456789012345', '0.123456789012345', '0.1234567890123456'],
  ...['9223372036854775807', '1 ', ' 1', '1,5', '١٢', '--1', '-', ''],
  ...['true', 'false', 'True', 'FALSE', 't', 'f', '1', 'yes', 'true ', ' false'],
  ...['2026-05-01', '2026-05-01 10:15:00', '2026-05-01T10:15:00', '2026-05-01t10:15:00', '2026-05-01 10:15'],
  ...['2026-02-29', '2024-02-29', '2000-02-29', '1900-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-04-30'],
  ...['2026-05-01 24:00:00', '2026-05-01 23:60:00', '2026-05-01 23:59:60', '2026-05-01 23:59:59'],
  ...['1753-01-01', '1752-12-31', '1753-01-01 00:00:00', '1752-12-31 23:59:59', '0001-01-01', '9999-12-31 23:59:59'],
  ...['2026-05-01 10:15:00Z', '2026-05-01 10:15:00.123', '2026-05-01 10:15:00+02:00', ' 2026-05-01', '2026/05/01'],
  ...['2026-5-01', '20a6-05-01', '2026-05-0x', '2026-05-01 1a:15:00', '2026-05-01_10:15:00', 'Zoë 太郎'],
];

describe('plain values written on bytes', () => {
  it('write exactly what convertValue writes, for every value they take', () => {
    let plain = 0;
    for (const type of TYPES) {
      for (const text of SAMPLES) {
        const json = plainJson(text, type);
        if (json === undefined) continue;
        plain++;
        const conversion = convertValue(text, type);
        assert.ok(conversion.ok, `${type} ${JSON.stringify(text)}: plain, but convertValue refuses it`);
        assert.equal(json, conversion.json, `${type} ${JSON.stringify(text)}`);
      }
    }
    assert.ok(plain >= 40, `only ${plain} samples were plain`);
  });

  it('take the forms a query result is mostly made of', () => {
    const common: Array<[ColumnType, string]> = [
      ['long', '0'],
      ['long', '-42'],
      ['long', '123456789012345'],
      ['double', '1405.52'],
      ['double', '-0.5'],
      ['double', '12'],
      ['boolean', 'true'],
      ['boolean', 'false'],
      ['timestamp', '2024-12-03 23:23:49'],
      ['timestamp', '2024-12-03T23:23:49'],
      ['timestamp', '2024-12-03'],
      ['date', '2024-12-03'],
      ['date', '2024-12-03 23:23:49'],
    ];
    for (const [type, text] of common) assert.notEqual(plainJson(text, type), undefined, `${type} ${text}`);
  });

  it('leave to convertValue what it refuses or rewrites', () => {
    const left: Array<[ColumnType, string]> = [
      ['long', '007'],
      ['long', '+7'],
      ['long', '-0'],
      ['long', '1234567890123456'],
      ['double', '1e5'],
      ['double', '1.'],
      ['boolean', 'TRUE'],
      ['boolean', '1'],
      ['timestamp', '1752-12-31'],
      ['timestamp', '2026-02-29 10:00:00'],
      ['timestamp', '2026-05-01 10:15:00Z'],
      ['date', '2026-02-30'],
      ['numeric', '5'],
      ['string', 'text'],
    ];
    for (const [type, text] of left) assert.equal(plainJson(text, type), undefined, `${type} ${text}`);
  });

  it('agree with convertValue on random digits, signs, dots and dashes', () => {
    const alphabet = '0123456789-.: T';
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 20_000; n++) {
      const length = 1 + Math.floor(random() * 20);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      if (n % 3 === 0)
        text = `20${String(Math.floor(random() * 100)).padStart(2, '0')}-${text.slice(0, 2)}-${text.slice(2, 4)}`;
      for (const type of TYPES) {
        const json = plainJson(text, type);
        if (json === undefined) continue;
        const conversion = convertValue(text, type);
        assert.ok(conversion.ok && conversion.json === json, `${type} ${JSON.stringify(text)}`);
      }
    }
  });
});
