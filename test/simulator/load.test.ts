import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIELDS3, KEY, withSim } from './helpers.ts';

const COUNTERS = [
  'number_of_inserted_records',
  'number_of_updated_records',
  'number_of_failed_records',
  'number_of_duplicate_records',
  'number_of_records_not_found',
  'number_of_deleted_records',
];

function counters(json: Record<string, unknown>) {
  return {
    inserted: json.number_of_inserted_records,
    updated: json.number_of_updated_records,
    failed: json.number_of_failed_records,
    duplicate: json.number_of_duplicate_records,
    not_found: json.number_of_records_not_found,
    deleted: json.number_of_deleted_records,
  };
}

const TYPED_LIST = {
  lists: [
    {
      api_name: 'typed',
      type: 'Datalist',
      fields: [
        { name: 'K', data_type: 'Text', length: 50 },
        { name: 'B', data_type: 'Boolean' },
        { name: 'L', data_type: 'Long' },
        { name: 'F', data_type: 'Float' },
        { name: 'N', data_type: 'Numeric' },
        { name: 'D', data_type: 'Date' },
        { name: 'DT', data_type: 'DateTime' },
        { name: 'T', data_type: 'Text', length: 5 },
        { name: 'LT', data_type: 'LongText' },
        { name: 'J', data_type: 'Json' },
        { name: 'NN', data_type: 'Long', allow_null: false },
      ],
    },
  ],
};
const TYPED_FIELDS = 'fields=K,B,L,F,N,D,DT,T,LT,J,NN&keyFields=K';
const GOOD = [
  'k',
  true,
  9007199254740991,
  1.5,
  -2,
  '2026-05-01',
  '2026-05-01T10:15:00Z',
  'abcde',
  'x'.repeat(10000),
  { a: [1] },
  0,
];

describe('list load (contract section 4)', () => {
  test('response model, record ids, header row and fields parameter', () =>
    withSim({}, async (c) => {
      const a = await c.load('contacts', KEY, [
        ['CUSTOMER_IDENTIFIER', 'EMAIL'],
        ['C1', 'a@x'],
        ['C2', 'b@x'],
      ]);
      assert.equal(a.status, 200);
      assert.deepEqual(Object.keys(a.json).sort(), ['errors', 'invalid_records', 'result_code', ...COUNTERS].sort());
      assert.equal(a.json.result_code, 'Succeeded');
      assert.equal(a.json.errors, null);
      assert.deepEqual(a.json.invalid_records, []);
      assert.equal(a.json.number_of_inserted_records, 2);
      const recs = c.sim.listRecords('my_org', 'contacts');
      assert.deepEqual(
        recs.map((r) => r.ID),
        [1, 2],
      );
      assert.deepEqual(recs[0], {
        ID: 1,
        MAIL: null,
        NAME: null,
        OPTOUT: null,
        CUSTOMER_IDENTIFIER: 'C1',
        EMAIL: 'a@x',
        AGE: null,
      });
      // fields parameter: no header row; lower-case names accepted.
      const b = await c.load('contacts', `${KEY}&fields=customer_identifier,age`, [
        ['C2', 40],
        ['C3', 7],
      ]);
      assert.deepEqual(counters(b.json), {
        inserted: 1,
        updated: 1,
        failed: 0,
        duplicate: 0,
        not_found: 0,
        deleted: 0,
      });
      const c2 = c.sim.listRecords('my_org', 'contacts').find((r) => r.CUSTOMER_IDENTIFIER === 'C2');
      assert.deepEqual([c2?.ID, c2?.EMAIL, c2?.AGE], [2, 'b@x', 40]); // update keeps the other fields and the ID
      assert.deepEqual((await c.call('GET', '/lists/contacts/records')).json, { count: 3 });
      // Empty body array with fields: nothing to do.
      const e = await c.load('contacts', `${KEY}&${FIELDS3}`, []);
      assert.equal(e.json.result_code, 'Succeeded');
    }));

  test('every data type: accepted values and InvalidType', () =>
    withSim({ seed: TYPED_LIST }, async (c) => {
      const ok = await c.load('typed', TYPED_FIELDS, [
        GOOD,
        ['k2', false, -5, 0, 3, '2026-02-28', '2026-05-01', null, null, 'str', 1],
      ]);
      assert.equal(ok.json.result_code, 'Succeeded', JSON.stringify(ok.json.invalid_records));
      assert.equal(ok.json.number_of_inserted_records, 2);

      const badByColumn: Array<[number, unknown]> = [
        [1, 'true'],
        [1, 1],
        [1, 'yes'],
        [2, 1.5],
        [2, '12'],
        [2, 9223372036854775808 * 2],
        [2, true],
        [3, '1.5'],
        [3, false],
        [4, '3'],
        [4, 1.5],
        [4, 2147483648],
        [4, -2147483649],
        [5, '2026-13-01'],
        [5, '01/05/2026'],
        [5, 20260501],
        [5, '2026-05-01T00:00:00Z'],
        [6, '2026-05-01 10:15:00'],
        [6, '2026-05-01T25:00:00Z'],
        [6, 1714557300000],
        [6, '1752-12-31T23:59:59Z'],
        [7, 12],
        [7, true],
        [7, { a: 1 }],
        [8, 12],
        [10, null],
      ];
      const rows = badByColumn.map(([col, v], i) => {
        const row: unknown[] = [...GOOD];
        row[0] = `bad${i}`;
        row[col] = v;
        return row;
      });
      const r = await c.load('typed', TYPED_FIELDS, rows);
      assert.equal(r.json.result_code, 'Failed');
      assert.equal(r.json.number_of_failed_records, rows.length);
      assert.equal(r.json.invalid_records.length, rows.length);
      const names = ['K', 'B', 'L', 'F', 'N', 'D', 'DT', 'T', 'LT', 'J', 'NN'];
      r.json.invalid_records.forEach(
        (inv: { record_index: number; field_name: string; validation_code: string; message: string }, i: number) => {
          assert.equal(inv.record_index, i);
          assert.equal(inv.field_name, names[badByColumn[i]![0]]);
          assert.equal(inv.validation_code, 'InvalidType', JSON.stringify(inv));
          assert.ok(inv.message.length > 0);
        },
      );
    }));

  test('MaxStringLengthExceeded with the documented message; InvalidFieldCount with field_name null', () =>
    withSim({}, async (c) => {
      const long = 'x'.repeat(53);
      const r = await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', long, 1],
        ['C2', 'ok', 2],
        ['C3', 'a'],
        ['C4', 'b', 3, 'extra'],
        'not-a-row',
        ['C5', 'ok', 5],
      ]);
      assert.equal(r.status, 200);
      assert.equal(r.json.result_code, 'PartiallySucceeded');
      assert.deepEqual(counters(r.json), {
        inserted: 2,
        updated: 0,
        failed: 4,
        duplicate: 0,
        not_found: 0,
        deleted: 0,
      });
      assert.deepEqual(r.json.invalid_records[0], {
        record_index: 0,
        field_name: 'EMAIL',
        message: 'Length of string (53) exceeds maximum field length (50)',
        validation_code: 'MaxStringLengthExceeded',
      });
      assert.deepEqual(
        r.json.invalid_records
          .slice(1)
          .map((x: { record_index: number; field_name: null; validation_code: string }) => [
            x.record_index,
            x.field_name,
            x.validation_code,
          ]),
        [
          [2, null, 'InvalidFieldCount'],
          [3, null, 'InvalidFieldCount'],
          [4, null, 'InvalidFieldCount'],
        ],
      );
      // record_index excludes the header row.
      const h = await c.load('contacts', KEY, [
        ['CUSTOMER_IDENTIFIER', 'EMAIL'],
        ['C9', long],
      ]);
      assert.equal(h.json.invalid_records[0].record_index, 0);
      // A null or empty key is rejected (validation_code Unknown).
      const k = await c.load('contacts', `${KEY}&${FIELDS3}`, [
        [null, 'a', 1],
        ['', 'b', 2],
      ]);
      assert.deepEqual(
        k.json.invalid_records.map((x: { validation_code: string }) => x.validation_code),
        ['Unknown', 'Unknown'],
      );
    }));

  test('deduplication within a request: ImportLastMatch (default) and ImportFirstMatch', () =>
    withSim({}, async (c) => {
      const rows = [
        ['C1', 'first', 1],
        ['C2', 'only', 2],
        ['C1', 'middle', 3],
        ['C1', 'last', 4],
      ];
      const last = await c.load('contacts', `${KEY}&${FIELDS3}`, rows);
      assert.deepEqual(counters(last.json), {
        inserted: 2,
        updated: 0,
        failed: 0,
        duplicate: 2,
        not_found: 0,
        deleted: 0,
      });
      assert.equal(c.sim.listRecords('my_org', 'contacts').find((r) => r.CUSTOMER_IDENTIFIER === 'C1')?.EMAIL, 'last');
      c.sim.reset();
      const first = await c.load('contacts', `${KEY}&${FIELDS3}&deduplication=ImportFirstMatch`, rows);
      assert.equal(first.json.number_of_duplicate_records, 2);
      assert.equal(c.sim.listRecords('my_org', 'contacts').find((r) => r.CUSTOMER_IDENTIFIER === 'C1')?.EMAIL, 'first');
      // An invalid row does not take part in deduplication.
      c.sim.reset();
      const mixed = await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', 'good', 1],
        ['C1', 'x'.repeat(60), 2],
      ]);
      assert.deepEqual(counters(mixed.json), {
        inserted: 1,
        updated: 0,
        failed: 1,
        duplicate: 0,
        not_found: 0,
        deleted: 0,
      });
    }));

  test('keys match exactly (case-sensitive values) over composite keyFields', () =>
    withSim({}, async (c) => {
      const q = 'keyFields=CUSTOMER_IDENTIFIER,EMAIL&fields=CUSTOMER_IDENTIFIER,EMAIL,AGE';
      await c.load('contacts', q, [
        ['C1', 'a@x', 1],
        ['C1', 'b@x', 2],
        ['c1', 'a@x', 3],
      ]);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 3);
      const u = await c.load('contacts', q, [['C1', 'b@x', 20]]);
      assert.equal(u.json.number_of_updated_records, 1);
      assert.deepEqual(
        c.sim.listRecords('my_org', 'contacts').map((r) => r.AGE),
        [1, 20, 3],
      );
    }));

  test('data_import_option: InsertAndUpdate, OnlyInsert (existing = duplicates), OnlyUpdate (missing = not found)', () =>
    withSim({}, async (c) => {
      await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', 'a', 1],
        ['C2', 'b', 2],
      ]);
      const ins = await c.load('contacts', `${KEY}&${FIELDS3}&data_import_option=OnlyInsert`, [
        ['C1', 'changed', 9],
        ['C3', 'c', 3],
      ]);
      assert.deepEqual(counters(ins.json), {
        inserted: 1,
        updated: 0,
        failed: 0,
        duplicate: 1,
        not_found: 0,
        deleted: 0,
      });
      assert.equal(c.sim.listRecords('my_org', 'contacts')[0]!.EMAIL, 'a');
      const upd = await c.load('contacts', `${KEY}&${FIELDS3}&data_import_option=OnlyUpdate`, [
        ['C2', 'B', 22],
        ['C4', 'd', 4],
      ]);
      assert.deepEqual(counters(upd.json), {
        inserted: 0,
        updated: 1,
        failed: 0,
        duplicate: 0,
        not_found: 1,
        deleted: 0,
      });
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 3);
      const both = await c.load('contacts', `${KEY}&${FIELDS3}&data_import_option=InsertAndUpdate`, [
        ['C2', 'B2', 22],
        ['C4', 'd', 4],
      ]);
      assert.deepEqual(counters(both.json), {
        inserted: 1,
        updated: 1,
        failed: 0,
        duplicate: 0,
        not_found: 0,
        deleted: 0,
      });
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}&data_import_option=Replace`, [])).status, 400);
    }));

  test('errorHandling: ContinueOnError loads good rows; StopOnError loads nothing and answers Failed', () =>
    withSim({}, async (c) => {
      const rows = [
        ['C1', 'a', 1],
        ['C2', 'b', 'not a number'],
        ['C3', 'c', 3],
      ];
      const stop = await c.load('contacts', `${KEY}&${FIELDS3}&errorHandling=StopOnError`, rows);
      assert.equal(stop.status, 200);
      assert.equal(stop.json.result_code, 'Failed');
      assert.deepEqual(counters(stop.json), {
        inserted: 0,
        updated: 0,
        failed: 1,
        duplicate: 0,
        not_found: 0,
        deleted: 0,
      });
      assert.equal(stop.json.invalid_records[0].record_index, 1);
      assert.equal(stop.json.invalid_records[0].field_name, 'AGE');
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
      const cont = await c.load('contacts', `${KEY}&${FIELDS3}&errorHandling=ContinueOnError`, rows);
      assert.equal(cont.json.result_code, 'PartiallySucceeded');
      assert.equal(cont.json.number_of_inserted_records, 2);
      assert.equal(cont.json.number_of_failed_records, 1);
      const clean = await c.load('contacts', `${KEY}&${FIELDS3}&errorHandling=StopOnError`, [['C9', 'z', 9]]);
      assert.equal(clean.json.result_code, 'Succeeded');
    }));

  test('mode Sync and Stream (chunked request body)', () =>
    withSim({}, async (c) => {
      const rows = Array.from({ length: 300 }, (_, i) => [`C${i}`, `e${i}@x`, i]);
      const text = JSON.stringify(rows);
      const parts = [text.slice(0, 100), text.slice(100, 2000), text.slice(2000)];
      const body = new ReadableStream({
        start(ctrl) {
          for (const p of parts) ctrl.enqueue(new TextEncoder().encode(p));
          ctrl.close();
        },
      });
      const r = await fetch(c.url(`/lists/contacts/data/load?${KEY}&${FIELDS3}&mode=Stream`), {
        method: 'POST',
        headers: { 'X-ApiKey': 'simulator-key:simulator-secret', 'Content-Type': 'application/json' },
        body,
        duplex: 'half',
      });
      const j = (await r.json()) as { number_of_inserted_records: number };
      assert.equal(r.status, 200);
      assert.equal(j.number_of_inserted_records, 300);
      const log = c.sim.requestLog().at(-1);
      assert.equal(log?.requestBytes, Buffer.byteLength(text));
      assert.equal(
        (await c.load('contacts', `${KEY}&${FIELDS3}&mode=Sync`, [['S1', 'x', 1]])).json.number_of_inserted_records,
        1,
      );
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}&mode=Batch`, [])).status, 400);
    }));

  test('400 ValidationFailed, nothing loaded: unknown fields/keyFields, missing keyFields, key not loaded, bad body', () =>
    withSim({}, async (c) => {
      const cases: Array<[string, unknown]> = [
        [`${KEY}&fields=CUSTOMER_IDENTIFIER,NOPE`, [['C1', 'x']]],
        ['keyFields=NOPE&fields=CUSTOMER_IDENTIFIER', [['C1']]],
        [FIELDS3, [['C1', 'a', 1]]],
        ['keyFields=EMAIL&fields=CUSTOMER_IDENTIFIER', [['C1']]],
        [
          KEY,
          [
            ['CUSTOMER_IDENTIFIER', 'NOPE'],
            ['C1', 'x'],
          ],
        ],
        [
          KEY,
          [
            [1, 2],
            ['C1', 'x'],
          ],
        ],
        [KEY, []],
        [`${KEY}&fields=CUSTOMER_IDENTIFIER,customer_identifier`, [['C1', 'C1']]],
        [`${KEY}&${FIELDS3}`, { not: 'an array' }],
        [`${KEY}&${FIELDS3}&deduplication=Newest`, [['C1', 'a', 1]]],
        [`${KEY}&${FIELDS3}&errorHandling=Ignore`, [['C1', 'a', 1]]],
      ];
      for (const [q, rows] of cases) {
        const r = await c.call('POST', `/lists/contacts/data/load?${q}`, rows);
        assert.equal(r.status, 400, q);
        assert.equal(r.json.result_code, 'ValidationFailed', q);
        assert.ok(r.json.errors.length > 0);
        assert.equal(r.json.number_of_inserted_records, 0);
      }
      const notJson = await c.call('POST', `/lists/contacts/data/load?${KEY}&${FIELDS3}`, '[["C1",');
      assert.equal(notJson.status, 400);
      const noType = await c.call('POST', `/lists/contacts/data/load?${KEY}&${FIELDS3}`, '[]', {
        headers: { 'Content-Type': 'text/plain' },
      });
      assert.equal(noType.status, 400);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
      const missing = await c.load('nope', `${KEY}&${FIELDS3}`, []);
      assert.equal(missing.status, 404);
      assert.equal(missing.json.result_code, 'NotFound');
    }));

  test('requireBusinessKey: load without a covering key index is 400 naming the index; PUT businesskey fixes it', () =>
    withSim({ requireBusinessKey: true }, async (c) => {
      const r = await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      assert.equal(r.status, 400);
      assert.equal(r.json.result_code, 'ValidationFailed');
      assert.match(r.json.errors[0].description, /key index/i);
      assert.match(r.json.errors[0].description, /CUSTOMER_IDENTIFIER/);
      const seg = await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
      assert.equal(seg.status, 400);
      assert.match(seg.json.errors[0].description, /key index/i);
      assert.equal((await c.call('PUT', '/lists/contacts/businesskey', { fields: ['EMAIL'] })).status, 200);
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]])).status, 400); // wrong fields
      assert.equal(
        (await c.call('PUT', '/lists/contacts/businesskey', { fields: ['customer_identifier'] })).status,
        200,
      );
      const ok = await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      assert.equal(ok.status, 200);
      assert.equal(ok.json.number_of_inserted_records, 1);
      c.sim.configure({ requireBusinessKey: false });
      assert.equal((await c.load('contacts', `keyFields=EMAIL&${FIELDS3}`, [['C2', 'b', 1]])).status, 200);
    }));
});

describe('segment load, clear and search', () => {
  test("'match' semantics (default): members are existing records, unmatched keys count as not found, a set", () =>
    withSim({}, async (c) => {
      await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', 'a', 1],
        ['C2', 'b', 2],
        ['C3', 'c', 3],
      ]);
      const r = await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1'], ['C3'], ['C9'], ['C1']]);
      assert.equal(r.status, 200);
      assert.equal(r.json.result_code, 'Succeeded');
      assert.deepEqual(counters(r.json), {
        inserted: 2,
        updated: 0,
        failed: 0,
        duplicate: 1,
        not_found: 1,
        deleted: 0,
      });
      assert.deepEqual(
        c.sim.segmentMembers('my_org', 'contacts', 'vip').map((m) => m.CUSTOMER_IDENTIFIER),
        ['C1', 'C3'],
      );
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 3); // the list is untouched
      // Loading members again is harmless (already a member: counted as updated).
      const again = await c.loadSegment('contacts', 'vip', `${KEY}&fields=CUSTOMER_IDENTIFIER`, [['C1'], ['C2']]);
      assert.deepEqual(counters(again.json), {
        inserted: 1,
        updated: 1,
        failed: 0,
        duplicate: 0,
        not_found: 0,
        deleted: 0,
      });
      assert.equal(c.sim.segmentMembers('my_org', 'contacts', 'vip').length, 3);
      // data_import_option is not a segment-load parameter: ignored.
      const ignored = await c.loadSegment(
        'contacts',
        'vip',
        `${KEY}&fields=CUSTOMER_IDENTIFIER&data_import_option=OnlyInsert`,
        [['C3']],
      );
      assert.equal(ignored.status, 200);
      // Row validation and errorHandling apply to segment loads too.
      const stop = await c.loadSegment(
        'contacts',
        'vip',
        `${KEY}&fields=CUSTOMER_IDENTIFIER&errorHandling=StopOnError`,
        [['C1'], [5]],
      );
      assert.equal(stop.json.result_code, 'Failed');
      assert.equal(stop.json.invalid_records[0].validation_code, 'InvalidType');
    }));

  test("'upsert' semantics: rows are upserted into the list, then linked", () =>
    withSim({ segmentSemantics: 'upsert' }, async (c) => {
      await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      const r = await c.loadSegment('contacts', 'vip', `${KEY}&fields=CUSTOMER_IDENTIFIER,EMAIL`, [
        ['C1', 'a2'],
        ['C2', 'b'],
      ]);
      assert.deepEqual(counters(r.json), {
        inserted: 1,
        updated: 1,
        failed: 0,
        duplicate: 0,
        not_found: 0,
        deleted: 0,
      });
      assert.deepEqual(
        c.sim.listRecords('my_org', 'contacts').map((x) => [x.CUSTOMER_IDENTIFIER, x.EMAIL, x.AGE]),
        [
          ['C1', 'a2', 1],
          ['C2', 'b', null],
        ],
      );
      assert.deepEqual(
        c.sim.segmentMembers('my_org', 'contacts', 'vip').map((m) => m.CUSTOMER_IDENTIFIER),
        ['C1', 'C2'],
      );
      c.sim.configure({ segmentSemantics: 'match' });
      const m = await c.loadSegment('contacts', 'vip', `${KEY}&fields=CUSTOMER_IDENTIFIER`, [['C7']]);
      assert.equal(m.json.number_of_records_not_found, 1);
    }));

  test('non-static segments: load and clear are 400 ValidationFailed; missing segment 404', () =>
    withSim({}, async (c) => {
      const r = await c.loadSegment('contacts', 'dyn', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
      assert.equal(r.status, 400);
      assert.equal(r.json.result_code, 'ValidationFailed');
      assert.equal((await c.call('DELETE', '/lists/contacts/segments/dyn/data/clear')).status, 400);
      const missing = await c.loadSegment('contacts', 'ghost', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
      assert.equal(missing.status, 404);
      assert.equal(missing.json.result_code, 'NotFound');
      assert.equal((await c.call('DELETE', '/lists/contacts/segments/ghost/data/clear')).status, 404);
    }));

  test('DELETE data/clear empties a static segment; the list records stay', () =>
    withSim({}, async (c) => {
      await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', 'a', 1],
        ['C2', 'b', 2],
      ]);
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1'], ['C2']]);
      const r = await c.call('DELETE', '/lists/contacts/segments/vip/data/clear');
      assert.equal(r.status, 200);
      assert.equal(r.json.result_code, 'Succeeded');
      assert.equal(c.sim.segmentMembers('my_org', 'contacts', 'vip').length, 0);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 2);
    }));

  test('search: the vendor model (fields, filters, skip/take, order_by), list and segment', () =>
    withSim({}, async (c) => {
      await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', 'a', 1],
        ['C2', 'b', 2],
        ['C3', null, 3],
        ['C4', 'd', 2],
        ['C5', '', 10],
      ]);
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C2'], ['C3']]);
      const all = await c.call('POST', '/lists/contacts/data/search', { fields: ['customer_identifier', 'AGE'] });
      assert.equal(all.status, 200);
      assert.deepEqual(all.json, {
        fields: ['CUSTOMER_IDENTIFIER', 'AGE'],
        data: [
          ['C1', 1],
          ['C2', 2],
          ['C3', 3],
          ['C4', 2],
          ['C5', 10],
        ],
        result_code: 'Succeeded',
        errors: null,
      });
      const ids = async (body: Record<string, unknown>, path = '/lists/contacts/data/search') => {
        const r = await c.call('POST', path, { fields: ['CUSTOMER_IDENTIFIER'], ...body });
        assert.equal(r.status, 200, r.text);
        return r.json.data.map((d: string[]) => d[0]);
      };
      const f = (field_name: string, operator: string, field_value?: string) => ({
        filters: [{ field_name, operator, field_value }],
      });
      assert.deepEqual(await ids(f('AGE', 'EqualTo', '2')), ['C2', 'C4']);
      assert.deepEqual(await ids(f('AGE', 'NotEqualTo', '2')), ['C1', 'C3', 'C5']);
      // Typed comparison: 10 > 3 numerically (a text comparison would say otherwise).
      assert.deepEqual(await ids(f('AGE', 'GreaterThan', '2')), ['C3', 'C5']);
      assert.deepEqual(await ids(f('AGE', 'GreaterThanOrEqualTo', '3')), ['C3', 'C5']);
      assert.deepEqual(await ids(f('AGE', 'LessThan', '2')), ['C1']);
      assert.deepEqual(await ids(f('AGE', 'LessThanOrEqualTo', '2')), ['C1', 'C2', 'C4']);
      assert.deepEqual(await ids(f('CUSTOMER_IDENTIFIER', 'Like', 'c_')), ['C1', 'C2', 'C3', 'C4', 'C5']);
      assert.deepEqual(await ids(f('EMAIL', 'Like', '%b%')), ['C2']);
      assert.deepEqual(await ids(f('EMAIL', 'IsNull')), ['C3']);
      assert.deepEqual(await ids(f('EMAIL', 'IsNotNull')), ['C1', 'C2', 'C4', 'C5']);
      assert.deepEqual(await ids(f('EMAIL', 'IsEmpty')), ['C3', 'C5']);
      assert.deepEqual(await ids(f('EMAIL', 'IsNotEmpty')), ['C1', 'C2', 'C4']);
      assert.deepEqual(
        await ids({
          filters: [
            { field_name: 'EMAIL', operator: 'IsNotNull' },
            { field_name: 'AGE', operator: 'EqualTo', field_value: '2' },
          ],
        }),
        ['C2', 'C4'],
      );
      // Paging in a stable order; order_by with direction, ties by record id.
      assert.deepEqual(await ids({ skip: 1, take: 2 }), ['C2', 'C3']);
      assert.deepEqual(await ids({ order_by: 'AGE', order_by_direction: 'DESC' }), ['C5', 'C3', 'C2', 'C4', 'C1']);
      assert.deepEqual(await ids({ order_by: 'EMAIL', order_by_direction: 'ASC', take: 3 }), ['C3', 'C5', 'C1']);
      assert.deepEqual(await ids({}, '/lists/contacts/segments/vip/data/search'), ['C2', 'C3']);
      assert.deepEqual(await ids(f('AGE', 'EqualTo', '3'), '/lists/contacts/segments/vip/data/search'), ['C3']);
      for (const bad of [
        {},
        { fields: [] },
        { fields: ['NOPE'] },
        { fields: ['AGE'], filters: [{ field_name: 'AGE', operator: 'In', field_value: '1' }] },
        { fields: ['AGE'], filters: [{ field_name: 'X', operator: 'EqualTo', field_value: '1' }] },
        { fields: ['AGE'], filters: [{ field_name: 'AGE', operator: 'EqualTo', field_value: 'abc' }] },
        { fields: ['AGE'], filters: [{ field_name: 'AGE', operator: 'EqualTo', field_value: 2 }] },
        { fields: ['AGE'], take: 0 },
        { fields: ['AGE'], skip: -1 },
        { fields: ['AGE'], order_by: 'NOPE' },
        { fields: ['AGE'], order_by_direction: 'UP' },
      ]) {
        const r = await c.call('POST', '/lists/contacts/data/search', bad);
        assert.equal(r.status, 400, JSON.stringify(bad));
        assert.equal(r.json.result_code, 'ValidationFailed');
      }
      assert.equal(
        (await c.call('POST', '/lists/contacts/segments/ghost/data/search', { fields: ['AGE'] })).status,
        404,
      );
    }));

  test('search: a page holds at most 1,000 rows; a larger take is capped, a missing one is 100', () =>
    withSim({}, async (c) => {
      const rows = Array.from({ length: 1500 }, (_, i) => [`C${i}`, 'e', i]);
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, rows)).json.number_of_inserted_records, 1500);
      const search = (body: Record<string, unknown>) =>
        c.call('POST', '/lists/contacts/data/search', { fields: ['AGE'], ...body });
      assert.equal((await search({ take: 5000 })).json.data.length, 1000);
      assert.equal((await search({})).json.data.length, 100);
      const last = await search({ skip: 1000, take: 1000, order_by: 'AGE' });
      assert.equal(last.json.data.length, 500);
      assert.deepEqual(last.json.data[0], [1000]);
    }));
});
