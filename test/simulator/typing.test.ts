import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withSim } from './helpers.ts';

const LONGS = {
  lists: [
    {
      api_name: 'longs',
      type: 'Datalist',
      fields: [
        { name: 'K', data_type: 'Long' },
        { name: 'N', data_type: 'Numeric' },
        { name: 'B', data_type: 'Boolean' },
        { name: 'F', data_type: 'Float' },
      ],
    },
  ],
};

describe('field types (contract section 6, field-type table)', () => {
  test('Long keeps its exact digits: keys that differ only past 2^53 are two records; 2^63-1 is accepted, 2^63 refused', () =>
    withSim({ seed: LONGS, enableControlRoutes: true }, async (c) => {
      const body =
        '[[9007199254740993],[9007199254740992],[9223372036854775807],[-9223372036854775808],[9223372036854775808],[-9223372036854775809]]';
      const r = await c.call('POST', '/lists/longs/data/load?keyFields=K&fields=K', body);
      assert.equal(r.status, 200);
      assert.equal(r.json.number_of_inserted_records, 4);
      assert.equal(r.json.number_of_duplicate_records, 0);
      assert.deepEqual(
        r.json.invalid_records.map((i: { record_index: number; validation_code: string }) => [
          i.record_index,
          i.validation_code,
        ]),
        [
          [4, 'InvalidType'],
          [5, 'InvalidType'],
        ],
      );
      // Read back with exact digits over HTTP (search and the state snapshot).
      const s = await c.call('POST', '/lists/longs/data/search', { fields: ['K'], order_by: 'K' });
      assert.equal(
        s.text,
        '{"fields":["K"],"data":[[-9223372036854775808],[9007199254740992],[9007199254740993],[9223372036854775807]],"result_code":"Succeeded","errors":null}',
      );
      const exact = await c.call('POST', '/lists/longs/data/search', {
        fields: ['K'],
        filters: [{ field_name: 'K', operator: 'EqualTo', field_value: '9007199254740993' }],
      });
      assert.equal(exact.text.includes('[[9007199254740993]]'), true, exact.text);
      const state = await (await fetch(`${c.sim.baseUrl}/__simulator/state`)).text();
      assert.match(state, /"K":9223372036854775807/);
      // A second load updates the right record only.
      const again = await c.call('POST', '/lists/longs/data/load?keyFields=K&fields=K,N', '[[9007199254740993, 7]]');
      assert.deepEqual([again.json.number_of_updated_records, again.json.number_of_inserted_records], [1, 0]);
      const recs = c.sim.listRecords('my_org', 'longs');
      assert.deepEqual(
        recs.filter((x) => x.N === 7).map((x) => x.K),
        [9007199254740993n],
      );
    }));

  test('Numeric is a 32-bit integer: fractions and out-of-range values are InvalidType', () =>
    withSim({ seed: LONGS }, async (c) => {
      const r = await c.call('POST', '/lists/longs/data/load?keyFields=K&fields=K,N', [
        [1, 2147483647],
        [2, -2147483648],
        [3, 2147483648],
        [4, 1.5],
        [5, -2147483649],
        [6, 0],
      ]);
      assert.equal(r.json.number_of_inserted_records, 3);
      assert.deepEqual(
        r.json.invalid_records.map((i: { record_index: number; field_name: string }) => [i.record_index, i.field_name]),
        [
          [2, 'N'],
          [3, 'N'],
          [4, 'N'],
        ],
      );
    }));

  test('Date is YYYY-MM-DD; DateTime runs from 1753-01-01 to 9999-12-31', () =>
    withSim(
      {
        seed: {
          lists: [
            {
              api_name: 'dates',
              type: 'Datalist',
              fields: [
                { name: 'K', data_type: 'Long' },
                { name: 'D', data_type: 'Date' },
                { name: 'DT', data_type: 'DateTime' },
              ],
            },
          ],
        },
      },
      async (c) => {
        const rows = [
          [1, '2026-05-01', '1753-01-01T00:00:00.000Z'],
          [2, '9999-12-31', '9999-12-31T23:59:59.999Z'],
          [3, '2026-05-01T00:00:00Z', null],
          [4, '2026-5-1', null],
          [5, null, '1752-12-31T23:59:59.999Z'],
          [6, null, '0001-01-01T00:00:00Z'],
        ];
        const r = await c.call('POST', '/lists/dates/data/load?keyFields=K&fields=K,D,DT', rows);
        assert.equal(r.json.number_of_inserted_records, 2);
        assert.deepEqual(
          r.json.invalid_records.map((i: { record_index: number; field_name: string }) => [
            i.record_index,
            i.field_name,
          ]),
          [
            [2, 'D'],
            [3, 'D'],
            [4, 'DT'],
            [5, 'DT'],
          ],
        );
      },
    ));

  test('the default Userlist field OPTOUT is Numeric', () =>
    withSim({ seed: {} }, async (c) => {
      await c.call('POST', '/lists', { api_name: 'u', name: 'U', type: 'Userlist' });
      const fields = (await c.call('GET', '/lists/u/fields')).json.fields;
      assert.equal(fields.find((f: { name: string }) => f.name === 'OPTOUT').data_type, 'Numeric');
      const r = await c.call('POST', '/lists/u/data/load?keyFields=MAIL&fields=MAIL,OPTOUT', [
        ['a@x', 0],
        ['b@x', 911],
        ['c@x', null],
        ['d@x', true],
      ]);
      assert.equal(r.json.number_of_inserted_records, 3);
      assert.equal(r.json.invalid_records[0].field_name, 'OPTOUT');
    }));
});
