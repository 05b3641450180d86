import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputText, rowsFileText, stateText } from '../../src/demo/show.ts';

test('the input is numbered as the report and the rejected-rows file number rows: 1 = the first data row', () => {
  assert.deepEqual(inputText('a,b\n1,2\n3,4\n').split('\n'), ['  header  a,b', '  row 1  1,2', '  row 2  3,4']);
});

test('Segment members are shown by their key, records with the fields that hold a value', () => {
  const text = stateText(
    {
      lists: [
        {
          api_name: 'Master_Contacts',
          records: [
            { ID: 7, KEY: 'C1', MAIL: null, FIRST_NAME: 'Mei' },
            { ID: 9, KEY: 'C2', MAIL: null, FIRST_NAME: null },
          ],
          segments: [
            { api_name: 'vip', type: 'Static', members: [9, 7] },
            { api_name: 'empty', members: [] },
          ],
        },
      ],
    },
    'master_contacts',
    'KEY',
  );
  assert.deepEqual(text.split('\n'), [
    'List Master_Contacts: 2 record(s)',
    '  ID 7   KEY=C1 FIRST_NAME=Mei',
    '  ID 9   KEY=C2',
    'Segment vip: 2 member(s): C2, C1',
    'Segment empty: 0 member(s)',
  ]);
});

test('a List the simulator does not hold is said so', () => {
  assert.equal(stateText({ lists: [] }, 'master_contacts', 'KEY'), 'List master_contacts is not in the simulator');
});

test('the rows file: its path and each line, or that none was written', () => {
  assert.equal(
    rowsFileText('/tmp/r.jsonl', '{"row":1}\n{"row":2}\n'),
    '/tmp/r.jsonl (2 line(s)):\n  {"row":1}\n  {"row":2}',
  );
  assert.equal(rowsFileText(null, null), 'no rows file: every row was loaded');
});
