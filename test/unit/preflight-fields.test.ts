import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSettings } from '../../src/config/settings.js';
import { planColumns } from '../../src/pipeline/columns.js';
import type { RunContext } from '../../src/pipeline/context.js';
import { preflight } from '../../src/pipeline/preflight.js';

const settings = parseSettings({
  organization: 'o',
  list_api_name: 'L',
  segment_column: 'seg',
  key_fields: 'customer_id',
});
const silent = { info() {}, warn() {}, debug() {} };

/** A context whose client answers the reads preflight makes with a List holding `fields`. */
function context(fields: Array<{ name: string; data_type: string }>): RunContext {
  const client = {
    getList: async () => ({ api_name: 'L', name: 'L', type: 'Userlist' }),
    getFields: async () => fields,
    countRecords: async () => 1,
    listSegments: async () => [{ api_name: 'seg_a', segment_type: 'Static' }],
    getSegment: async () => ({ api_name: 'seg_a', type: 'Static' }),
  };
  // Preflight only reads settings, client and logger.
  return { settings, client, logger: silent } as unknown as RunContext;
}

describe('preflight: fields of an existing List', () => {
  it('names each field as the List spells it and sends values in the form of its type', async () => {
    const plan = planColumns(['customer_id', 'seg', 'email', 'score', 'birth'], settings, undefined, 'inferred');
    await preflight(
      context([
        { name: 'Customer_Id', data_type: 'Long' },
        { name: 'eMail', data_type: 'Text' },
        { name: 'Score', data_type: 'Numeric' },
        { name: 'BIRTH', data_type: 'Date' },
      ]),
      plan,
      new Map([['seg_a', 1]]),
    );
    assert.deepEqual(
      plan.fields.map((column) => [column.name, column.field, column.sendType]),
      [
        ['customer_id', 'Customer_Id', 'long'],
        ['email', 'eMail', 'string'],
        ['score', 'Score', 'numeric'],
        ['birth', 'BIRTH', 'date'],
      ],
    );
    assert.deepEqual(
      plan.keys.map((key) => key.field),
      ['Customer_Id'],
    );
  });
});
