import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FIXTURES, assertBalanced, runCli } from '../helpers/cli.ts';
import { LIST, ORG, members, record, records, seededList, selligentEnv, simulator } from '../helpers/sim.ts';

const sampleSettings = (name: string) =>
  parse(readFileSync(join(FIXTURES, `${name}.settings.yml`), 'utf8')) as Record<string, unknown>;

test('basic sample: three customers into an existing List and a new Segment', async () => {
  const sim = await simulator({ seed: seededList() });
  try {
    const result = await runCli({
      settings: sampleSettings('basic'),
      input: join(FIXTURES, 'basic.csv'),
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = result.report!;
    assert.equal(report.status, 'succeeded');
    assertBalanced(report);
    assert.equal(report.accounting!.loaded, 3);
    assert.equal(report.list!.inserted, 3);
    assert.deepEqual(members(sim, 'active_customers'), ['C001', 'C002', 'C003']);
    assert.equal(record(sim, 'C002')!.EMAIL, 'bob@example.com');
    assert.equal(record(sim, 'C003')!.LAST_NAME, 'Nguyen');
    assert.equal(records(sim).length, 3);
    assert.equal(report.segments[0]!.created, true);
    assert.equal(report.segments[0]!.members_loaded, 3);
    // The routing column is never sent as a field.
    assert.ok(!('SELLIGENT_SEGMENT' in record(sim, 'C001')!));
    assert.match(result.stdout.trim().split('\n').at(-1)!, /^selligent-export: succeeded - 3 rows read, 3 loaded/);
  } finally {
    await sim.close();
  }
});

test('multi-Segment sample into an empty tenant: List, typed fields, business key and three Segments created', async () => {
  const sim = await simulator();
  try {
    const settings = { ...sampleSettings('multi_segment'), create_list_if_not_exists: true };
    const result = await runCli({ settings, input: join(FIXTURES, 'multi_segment.csv'), env: selligentEnv(sim) });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assertBalanced(result.report);
    const fields = Object.fromEntries(sim.listFields(ORG, LIST).map((field) => [field.name, field]));
    assert.equal(fields.CUSTOMER_IDENTIFIER!.data_type, 'Text');
    assert.equal(fields.CUSTOMER_IDENTIFIER!.length, 255, 'sized from the longest value');
    assert.equal(fields.LIFETIME_VALUE!.data_type, 'Float');
    assert.equal(fields.LAST_PURCHASE_AT!.data_type, 'DateTime');
    assert.equal(fields.SELLIGENT_SEGMENT, undefined);
    assert.deepEqual(sim.businessKey(ORG, LIST), ['CUSTOMER_IDENTIFIER']);
    assert.equal(record(sim, 'C101')!.LIFETIME_VALUE, 1520.5);
    assert.equal(record(sim, 'C101')!.LAST_PURCHASE_AT, '2026-05-01T10:15:00.000Z');
    assert.deepEqual(members(sim, 'vip_customers'), ['C101']);
    assert.deepEqual(members(sim, 're_engagement'), ['C204']);
    assert.deepEqual(members(sim, 'standard_customers'), ['C319']);
    assert.deepEqual(
      sim.segments(ORG, LIST).map((s) => s.type),
      ['Static', 'Static', 'Static'],
    );
    const report = result.report!;
    assert.equal(report.list!.created, true);
    assert.equal(report.input.types_from, 'inferred');
    assert.deepEqual(
      report.segments.map((s) => s.api_name),
      ['re_engagement', 'standard_customers', 'vip_customers'],
    );
  } finally {
    await sim.close();
  }
});

test('running the same export twice converges to the same state', async () => {
  const sim = await simulator();
  try {
    const settings = { ...sampleSettings('multi_segment'), create_list_if_not_exists: true };
    const first = await runCli({ settings, input: join(FIXTURES, 'multi_segment.csv'), env: selligentEnv(sim) });
    assert.equal(first.code, 0);
    const before = JSON.stringify({ r: records(sim), m: members(sim, 'vip_customers') });
    const second = await runCli({ settings, input: join(FIXTURES, 'multi_segment.csv'), env: selligentEnv(sim) });
    assert.equal(second.code, 0, second.stdout);
    assert.equal(second.report!.list!.updated, 3);
    assert.equal(second.report!.list!.created, false);
    assert.equal(JSON.stringify({ r: records(sim), m: members(sim, 'vip_customers') }), before);
  } finally {
    await sim.close();
  }
});
