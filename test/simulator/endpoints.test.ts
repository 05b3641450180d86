import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTH, withSim } from './helpers.ts';

describe('simulator endpoints (contract section 3)', () => {
  test('GET organization: 200 for a known one, 404 NotFound for an unknown one', () =>
    withSim({ organizations: ['my_org', 'other_org'] }, async (c) => {
      const a = await c.call('GET', '');
      assert.equal(a.status, 200);
      assert.equal(a.json.name, 'my_org');
      assert.equal((await c.call('GET', '', undefined, { org: 'other_org' })).status, 200);
      const b = await c.call('GET', '', undefined, { org: 'nope' });
      assert.equal(b.status, 404);
      assert.equal(b.json.result_code, 'NotFound');
      assert.ok(Array.isArray(b.json.errors) && b.json.errors[0].error_code);
    }));

  test('lists: create a Userlist with default fields, get it, duplicate and bad names are ValidationFailed', () =>
    withSim({ seed: {} }, async (c) => {
      assert.equal((await c.call('GET', '/lists/master')).status, 404);
      const created = await c.call('POST', '/lists', { api_name: 'master', name: 'Master', type: 'Userlist' });
      assert.equal(created.status, 200);
      assert.deepEqual(Object.keys(created.json).sort(), ['message', 'result_code']);
      assert.equal(created.json.result_code, 'Succeeded');
      assert.equal(created.headers.get('location'), null);
      const got = await c.call('GET', '/lists/master');
      assert.equal(got.status, 200);
      assert.equal(got.json.api_name, 'master');
      assert.equal(got.json.name, 'Master');
      assert.equal(got.json.type, 'Userlist');
      assert.ok('description' in got.json && Array.isArray(got.json.tags));
      assert.deepEqual(
        c.sim.listFields('my_org', 'master').map((f) => f.name),
        ['ID', 'MAIL', 'NAME', 'OPTOUT'],
      );

      const dup = await c.call('POST', '/lists', { api_name: 'master', name: 'Again', type: 'Userlist' });
      assert.equal(dup.status, 400);
      assert.equal(dup.json.result_code, 'ValidationFailed');
      for (const bad of ['has-dash', 'has space', 'dot.name', '', 'ünï']) {
        const r = await c.call('POST', '/lists', { api_name: bad, name: 'x', type: 'Userlist' });
        assert.equal(r.status, 400, bad);
        assert.equal(r.json.result_code, 'ValidationFailed');
      }
      assert.equal((await c.call('POST', '/lists', { api_name: 'nolist', name: 'x', type: 'Bogus' })).status, 400);
      assert.equal((await c.call('POST', '/lists', { api_name: 'noname', type: 'Userlist' })).status, 400);
      // A Datalist has no default fields.
      assert.equal((await c.call('POST', '/lists', { api_name: 'data1', name: 'D', type: 'Datalist' })).status, 200);
      assert.deepEqual(c.sim.listFields('my_org', 'data1'), []);
      assert.equal(c.sim.hasList('my_org', 'data1'), true);
    }));

  test('fields: get, create (201 + envelope), type and length validation, duplicates, all-or-nothing', () =>
    withSim({}, async (c) => {
      const got = await c.call('GET', '/lists/contacts/fields');
      assert.equal(got.status, 200);
      const names = got.json.fields.map((f: { name: string }) => f.name);
      assert.deepEqual(names, ['ID', 'MAIL', 'NAME', 'OPTOUT', 'CUSTOMER_IDENTIFIER', 'EMAIL', 'AGE']);
      const ci = got.json.fields.find((f: { name: string }) => f.name === 'CUSTOMER_IDENTIFIER');
      assert.deepEqual(Object.keys(ci).sort(), ['allow_null', 'data_type', 'description', 'length', 'name']);
      assert.equal(ci.data_type, 'Text');
      assert.equal(ci.length, 50);

      const all = ['Boolean', 'Numeric', 'Long', 'Float', 'Date', 'DateTime', 'Text', 'LongText', 'Json'];
      const created = await c.call('POST', '/lists/contacts/fields', {
        fields: all.map((t) => ({
          name: `F_${t.toUpperCase()}`,
          data_type: t,
          ...(t === 'Text' ? { length: 4000 } : {}),
        })),
      });
      assert.equal(created.status, 201);
      assert.equal(created.json.result_code, 'Succeeded');
      assert.equal(c.sim.listFields('my_org', 'contacts').length, 7 + all.length);
      assert.equal(c.sim.listFields('my_org', 'contacts').find((f) => f.name === 'F_TEXT')?.length, 4000);

      const bad = [
        { name: 'T1', data_type: 'Text' }, // no length
        { name: 'T2', data_type: 'Text', length: 4001 },
        { name: 'T3', data_type: 'Text', length: 0 },
        { name: 'X1', data_type: 'Integer' },
        { name: 'bad-name', data_type: 'Long' },
        { name: 'email', data_type: 'Long' }, // exists (case-insensitive)
      ];
      for (const f of bad) {
        const r = await c.call('POST', '/lists/contacts/fields', { fields: [f] });
        assert.equal(r.status, 400, JSON.stringify(f));
        assert.equal(r.json.result_code, 'ValidationFailed');
      }
      // One bad field: nothing is created.
      const mixed = await c.call('POST', '/lists/contacts/fields', {
        fields: [
          { name: 'GOOD', data_type: 'Long' },
          { name: 'GOOD', data_type: 'Long' },
        ],
      });
      assert.equal(mixed.status, 400);
      assert.equal(
        c.sim.listFields('my_org', 'contacts').some((f) => f.name === 'GOOD'),
        false,
      );
      assert.equal((await c.call('POST', '/lists/contacts/fields', { fields: [] })).status, 400);
      assert.equal((await c.call('GET', '/lists/missing/fields')).status, 404);
    }));

  test('segments: 204 when none, list, get, create static, duplicate, 404', () =>
    withSim({ seed: { lists: [{ api_name: 'l1' }] } }, async (c) => {
      const empty = await c.call('GET', '/lists/l1/segments');
      assert.equal(empty.status, 204);
      assert.equal(empty.text, '');
      const created = await c.call('POST', '/lists/l1/segments/static', {
        api_name: 'vip',
        name: 'VIP',
        description: 'best',
      });
      assert.equal(created.status, 200);
      assert.equal(created.json.result_code, 'Succeeded');
      const list = await c.call('GET', '/lists/l1/segments');
      assert.equal(list.status, 200);
      assert.deepEqual(list.json, { segments: [{ segment_type: 'Static', api_name: 'vip' }], segment_count: 1 });
      const got = await c.call('GET', '/lists/l1/segments/vip');
      assert.deepEqual(got.json, { type: 'Static', api_name: 'vip', name: 'VIP', description: 'best' });
      assert.equal((await c.call('GET', '/lists/l1/segments/nope')).status, 404);
      const dup = await c.call('POST', '/lists/l1/segments/static', { api_name: 'VIP', name: 'again' });
      assert.equal(dup.status, 400);
      assert.equal(dup.json.result_code, 'ValidationFailed');
      assert.equal((await c.call('POST', '/lists/l1/segments/static', { api_name: 'a-b', name: 'x' })).status, 400);
      assert.equal((await c.call('POST', '/lists/nope/segments/static', { api_name: 'x', name: 'x' })).status, 404);
      assert.deepEqual(c.sim.segments('my_org', 'l1'), [{ api_name: 'vip', type: 'Static' }]);
    }));

  test('a segment named "static" is reachable with GET; POST on it creates', () =>
    withSim({ seed: { lists: [{ api_name: 'l1', segments: [{ api_name: 'static' }] }] } }, async (c) => {
      const got = await c.call('GET', '/lists/l1/segments/static');
      assert.equal(got.status, 200);
      assert.equal(got.json.api_name, 'static');
    }));

  test('record count and businesskey PUT', () =>
    withSim(
      {
        seed: {
          lists: [
            {
              api_name: 'l1',
              fields: [
                { name: 'K', data_type: 'Text', length: 10 },
                { name: 'G', data_type: 'Long' },
              ],
              records: [
                { K: 'a', G: 1 },
                { K: 'b', G: 1 },
              ],
            },
          ],
        },
      },
      async (c) => {
        const count = await c.call('GET', '/lists/l1/records');
        assert.equal(count.status, 200);
        assert.deepEqual(count.json, { count: 2 });
        const put = await c.call('PUT', '/lists/l1/businesskey', { fields: ['k'] });
        assert.equal(put.status, 200);
        assert.equal(put.json.result_code, 'Succeeded');
        assert.deepEqual(c.sim.businessKey('my_org', 'l1'), ['K']);
        const unknown = await c.call('PUT', '/lists/l1/businesskey', { fields: ['NOPE'] });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.json.result_code, 'ValidationFailed');
        // A unique index cannot be built over duplicate values.
        assert.equal((await c.call('PUT', '/lists/l1/businesskey', { fields: ['G'] })).status, 400);
        assert.equal((await c.call('PUT', '/lists/l1/businesskey', { fields: [] })).status, 400);
        assert.equal((await c.call('GET', '/lists/nope/records')).status, 404);
      },
    ));

  test('405 with Allow for a wrong method on a known path; 404 for unknown paths', () =>
    withSim({}, async (c) => {
      const r = await c.call('DELETE', '/lists/contacts');
      assert.equal(r.status, 405);
      assert.equal(r.headers.get('allow'), 'GET');
      assert.equal((await c.call('GET', '/lists/contacts/data/load')).status, 405);
      assert.equal((await c.call('POST', '/lists/contacts/segments/vip/data/clear')).status, 405);
      assert.equal((await c.call('GET', '/lists')).status, 405);
      assert.equal((await c.call('PUT', '/lists/contacts/fields', { fields: [] })).status, 405);
      assert.equal((await c.call('GET', '/lists/contacts/unknown')).status, 404);
      assert.equal((await c.call('GET', `${c.sim.baseUrl}/Portal/Api/else`, undefined, { raw: true })).status, 404);
    }));

  test('literal path parts and query parameter names are case-insensitive', () =>
    withSim({}, async (c) => {
      const base = c.sim.baseUrl;
      const got = await c.call('GET', `${base}/portal/API/Organizations/my_org/LISTS/contacts/Fields`, undefined, {
        raw: true,
      });
      assert.equal(got.status, 200);
      const load = await c.call(
        'POST',
        `${base}/PORTAL/api/organizations/my_org/Lists/contacts/DATA/Load?KEYFIELDS=CUSTOMER_IDENTIFIER&Fields=customer_identifier,email&DEDUPLICATION=ImportFirstMatch`,
        [
          ['C1', 'a@x'],
          ['C1', 'b@x'],
        ],
        { raw: true },
      );
      assert.equal(load.status, 200);
      assert.equal(load.json.number_of_inserted_records, 1);
      assert.equal(c.sim.listRecords('my_org', 'contacts')[0]!.EMAIL, 'a@x');
      // Api names and field names match case-insensitively too.
      assert.equal((await c.call('GET', '/lists/CONTACTS/segments/VIP')).status, 200);
    }));

  test('path parameters are URL-decoded per segment; an encoded / does not split the path', () =>
    withSim(
      {
        organizations: ['my_org', 'org/with slash'],
        seed: { lists: [{ organization: 'org/with slash', api_name: 'l1' }] },
      },
      async (c) => {
        const r = await c.call('GET', '/lists/l1', undefined, { org: 'org/with slash' });
        assert.equal(r.status, 200);
        assert.ok(c.url('/lists/l1', 'org/with slash').includes('org%2Fwith%20slash'));
        const split = await c.call(
          'GET',
          `${c.sim.baseUrl}/Portal/Api/organizations/org/with%20slash/lists/l1`,
          undefined,
          { raw: true },
        );
        assert.equal(split.status, 404);
        const enc = await c.call('GET', '/lists/%6C1'); // "l1" percent-encoded
        assert.equal(enc.status, 404); // my_org has no l1
        const enc2 = await c.call('GET', '/lists/l%31', undefined, { org: 'org/with slash' });
        assert.equal(enc2.status, 200);
        const bad = await c.call('GET', '/lists/%E0%A4%A', undefined);
        assert.equal(bad.status, 400);
      },
    ));
});

describe('simulator auth', () => {
  test('missing, malformed or wrong X-ApiKey answers 401 on every route', () =>
    withSim({}, async (c) => {
      for (const h of [
        { 'X-ApiKey': '' },
        { 'X-ApiKey': 'simulator-key' },
        { 'X-ApiKey': 'simulator-key:wrong' },
        { 'X-ApiKey': 'wrong:simulator-secret' },
      ]) {
        const r = await c.call('GET', '/lists/contacts', undefined, { headers: h });
        assert.equal(r.status, 401, JSON.stringify(h));
      }
      // An Authorization header is not a substitute.
      const r = await c.call('GET', '', undefined, {
        headers: { 'X-ApiKey': '', Authorization: `Basic ${Buffer.from(AUTH).toString('base64')}` },
      });
      assert.equal(r.status, 401);
      const load = await c.call('POST', '/lists/contacts/data/load?keyFields=EMAIL', [['EMAIL'], ['a']], {
        headers: { 'X-ApiKey': 'x:y' },
      });
      assert.equal(load.status, 401);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
    }));

  test('per-credential permissions and organization restriction answer 401', () =>
    withSim(
      {
        organizations: ['my_org', 'other'],
        credentials: [
          { key: 'reader', secret: 's1', permissions: ['getOrganization', 'getList'] },
          { key: 'scoped', secret: 's2', organizations: ['other'] },
          { key: 'admin', secret: 'with:colon' },
        ],
      },
      async (c) => {
        const as = (key: string) => ({ headers: { 'X-ApiKey': key } });
        assert.equal((await c.call('GET', '/lists/contacts', undefined, as('reader:s1'))).status, 200);
        assert.equal((await c.call('GET', '/lists/contacts/fields', undefined, as('reader:s1'))).status, 401);
        assert.equal((await c.call('GET', '', undefined, as('scoped:s2'))).status, 401);
        assert.equal((await c.call('GET', '', undefined, { ...as('scoped:s2'), org: 'other' })).status, 200);
        // Restricted organization: 401 even when it does not exist.
        assert.equal((await c.call('GET', '', undefined, { ...as('scoped:s2'), org: 'ghost' })).status, 401);
        assert.equal((await c.call('GET', '', undefined, as('admin:with:colon'))).status, 200);
        // The dev credential is not accepted when credentials are configured.
        assert.equal((await c.call('GET', '')).status, 401);
      },
    ));
});
