/**
 * Fault injection against the built CLI and the local Selligent simulator: rate limits, 5xx storms, lost
 * connections, slow answers, oversized bodies, revoked credentials and signals. Every scenario asserts the
 * state left in Selligent (List records, Segment members) and the report's accounting, not only the exit
 * code. Every byte the exporter writes in every scenario is kept and checked for secrets at the end.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import { BASE_SETTINGS, LIST, ORG, seededList, simulator, type SimulatorHandle } from '../helpers/sim.ts';
import type { SimulatorOptions } from '../../src/simulator/index.ts';
import { localStateStore } from '../../src/state/local-store.ts';
import { readState } from '../../src/state/reader.ts';
import { s3StateStore } from '../../src/state/s3-store.ts';
import type { StateStore } from '../../src/state/store.ts';
import { startTestS3 } from '../servers/s3rver.ts';

// Distinctive credentials: none of these may appear in anything the exporter writes.
const API_KEY = 'fltKey-9c41e7d2b0';
const API_SECRET = 'fltSecret-5b83aa01f6Q';
const AWS_KEY_ID = 'AKIAFAULTSUITE7Q2X9Z';
const AWS_SECRET = 'awsFault/Secret+Key-77Qz0plm';
const SECRETS = [API_KEY, API_SECRET, `${API_KEY}:${API_SECRET}`, AWS_KEY_ID, AWS_SECRET];
/** A proxy that echoes the request's auth header back in its error page. */
const ECHO_BODY = `<html><body>502 upstream refused request; X-ApiKey: ${API_KEY}:${API_SECRET}</body></html>`;

const SETTINGS = {
  ...BASE_SETTINGS,
  batch_rows: 5,
  // Fixed, small Segment batches: many requests, so faults land in the middle of a load.
  segment_batch_rows: 5,
  segment_batch_rows_max: 5,
  max_attempts: 4,
  retry_budget_seconds: 30,
  request_timeout_seconds: 5,
  connect_timeout_seconds: 2,
};

const ADVERSE = new Set([401, 408, 413, 429, 500, 502, 503, 504]);

// ------------------------------------------------------------------------------------------ the ledger

interface Written {
  scenario: string;
  text: string;
}
const written: Written[] = [];
const ledger = {
  scenarios: 0,
  runs: 0,
  faultsInjected: 0,
  faultsSurvived: 0,
  faultsFailedAsDesigned: 0,
  rowsChecked: 0,
  rowsLost: 0,
};
/** Faults per run, for the figures in docs/resilience.md. */
const perRun: string[] = [];

/** Everything a run wrote: stdout, stderr and every file in its directory (report, rejected rows, ...). */
function collect(scenario: string, result: CliResult): void {
  const files = readdirSync(result.dir)
    .map((name) => join(result.dir, name))
    .filter((path) => statSync(path).isFile() && !path.endsWith('.csv') && !path.endsWith('.yml'));
  written.push({
    scenario,
    text: [result.stdout, result.stderr, ...files.map((path) => readFileSync(path, 'utf8'))].join('\n'),
  });
}

/** Faults the simulator answered with since the log was last cleared. */
function faultsIn(sim: SimulatorHandle): number {
  return sim.requestLog().filter((entry) => entry.fault !== undefined || ADVERSE.has(entry.status)).length;
}

// ------------------------------------------------------------------------------------------ data

interface Dataset {
  csv: string;
  keys: string[];
  email: Map<string, string>;
  members: Map<string, string[]>;
}

/** `n` rows, routed round-robin to `segments`; `wide` rows get a FIRST_NAME of that many characters. */
function dataset(n: number, segments = ['seg_a', 'seg_b'], wide: Record<number, number> = {}): Dataset {
  const lines = ['selligent_segment,customer_identifier,email,first_name'];
  const keys: string[] = [];
  const email = new Map<string, string>();
  const members = new Map<string, string[]>(segments.map((segment) => [segment, []]));
  for (let i = 1; i <= n; i++) {
    const key = `C${String(i).padStart(4, '0')}`;
    const segment = segments[(i - 1) % segments.length]!;
    const mail = `${key.toLowerCase()}@example.com`;
    lines.push(`${segment},${key},${mail},${wide[i] ? 'W'.repeat(wide[i]!) : `Name${i}`}`);
    keys.push(key);
    email.set(key, mail);
    members.get(segment)!.push(key);
  }
  return { csv: lines.join('\n') + '\n', keys, email, members };
}

/** The same rows with new e-mail addresses for `keys`: the rows a changes-only run must send. */
function withNewEmails(data: Dataset, keys: string[]): Dataset {
  const email = new Map(data.email);
  for (const key of keys) email.set(key, `${key.toLowerCase()}.new@example.com`);
  const lines = data.csv
    .trimEnd()
    .split('\n')
    .map((line, index) => {
      if (index === 0) return line;
      const [segment, key, , firstName] = line.split(',');
      return `${segment},${key},${email.get(key!)},${firstName}`;
    });
  return { ...data, csv: lines.join('\n') + '\n', email };
}

/**
 * The state a clean run leaves: every input key once in the List with its values, every Segment with
 * exactly its rows' keys. Counts what is missing or doubled as lost rows (the suite requires 0).
 */
function assertConverged(
  sim: SimulatorHandle,
  data: Dataset,
  options: { otherRecords?: string[]; rejected?: string[]; exactSegments?: boolean } = {},
): void {
  const rejected = new Set(options.rejected ?? []);
  const records = sim.listRecords(ORG, LIST);
  const byKey = new Map<string, number>();
  for (const record of records)
    byKey.set(String(record.CUSTOMER_IDENTIFIER), (byKey.get(String(record.CUSTOMER_IDENTIFIER)) ?? 0) + 1);
  let lost = 0;
  for (const key of data.keys) {
    if (rejected.has(key)) continue;
    ledger.rowsChecked++;
    const record = records.find((r) => r.CUSTOMER_IDENTIFIER === key);
    if (!record || byKey.get(key) !== 1 || record.EMAIL !== data.email.get(key)) lost++;
  }
  for (const [segment, keys] of data.members) {
    const got = new Set(sim.segmentMembers(ORG, LIST, segment).map((member) => String(member.CUSTOMER_IDENTIFIER)));
    for (const key of keys) if (!rejected.has(key) && !got.has(key)) lost++;
  }
  ledger.rowsLost += lost;
  assert.equal(lost, 0, 'rows lost or doubled');
  const expectedKeys = [...data.keys.filter((key) => !rejected.has(key)), ...(options.otherRecords ?? [])].sort();
  assert.deepEqual([...byKey.keys()].sort(), expectedKeys, 'List records');
  assert.ok(
    [...byKey.values()].every((count) => count === 1),
    'a record is doubled',
  );
  if (options.exactSegments !== false) {
    for (const [segment, keys] of data.members) {
      assert.deepEqual(
        sim
          .segmentMembers(ORG, LIST, segment)
          .map((member) => String(member.CUSTOMER_IDENTIFIER))
          .sort(),
        keys.filter((key) => !rejected.has(key)).sort(),
        `members of ${segment}`,
      );
    }
  }
}

// ------------------------------------------------------------------------------------------ running

async function startSim(
  options: SimulatorOptions & { seedList?: Parameters<typeof seededList>[0] | null } = {},
): Promise<SimulatorHandle> {
  const { seedList, ...rest } = options;
  return simulator({
    credentials: [{ key: API_KEY, secret: API_SECRET }],
    ...(seedList === null ? {} : { seed: seededList(seedList ?? {}) }),
    ...rest,
  });
}

interface Run {
  settings?: Record<string, unknown>;
  data: Dataset;
  onStart?: (child: ChildProcess) => void;
  timeoutMs?: number;
  /** The exit code this run must end with; faults in a run ending 0 count as survived. */
  expectCode?: number;
  /** Faults the simulator's log does not show (a signal, an object storage refusal). */
  extraFaults?: number;
  /** Added to the run's environment (the state's object storage). */
  env?: Record<string, string | undefined>;
}

async function run(sim: SimulatorHandle, scenario: string, spec: Run): Promise<CliResult> {
  sim.clearRequestLog();
  const dir = tempDir();
  const input = writeInput(dir, 'input.csv', spec.data.csv);
  const started = performance.now();
  const result = await runCli({
    settings: { ...SETTINGS, ...spec.settings },
    input,
    dir,
    onStart: spec.onStart,
    timeoutMs: spec.timeoutMs ?? 90_000,
    env: {
      SELLIGENT_BASE_URL: sim.baseUrl,
      SELLIGENT_API_KEY: API_KEY,
      SELLIGENT_API_SECRET: API_SECRET,
      AWS_ACCESS_KEY_ID: AWS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      AWS_REGION: 'eu-west-1',
      LOG_LEVEL: 'trace',
      ...spec.env,
    },
  });
  const seconds = (performance.now() - started) / 1000;
  collect(scenario, result);
  ledger.runs++;
  const faults = faultsIn(sim) + (spec.extraFaults ?? 0);
  ledger.faultsInjected += faults;
  const expected = spec.expectCode ?? 0;
  const context = `${scenario}: exit ${result.code} after ${seconds.toFixed(1)} s\n${result.stdout.trim().split('\n').at(-1)}\n${result.stderr}`;
  // Never hangs, never crashes.
  assert.equal(result.signal, null, context);
  assert.equal(result.code, expected, context);
  assert.ok(result.report, context);
  assertBalanced(result.report);
  if (expected === 0) ledger.faultsSurvived += faults;
  else ledger.faultsFailedAsDesigned += faults;
  perRun.push(`${faults} fault(s), exit ${result.code}: ${scenario}`);
  return result;
}

/** One scenario: its own simulator, closed afterwards. */
function scenario(
  name: string,
  options: Parameters<typeof startSim>[0],
  body: (sim: SimulatorHandle, name: string) => Promise<void>,
) {
  return test(name, async () => {
    ledger.scenarios++;
    const sim = await startSim(options);
    try {
      await body(sim, name);
    } finally {
      await sim.close();
    }
  });
}

/** Holds the List's bulk lock with a load whose body never finishes, until released. */
function holdBulkLock(sim: SimulatorHandle): { release(): Promise<void> } {
  const request = http.request(
    `${sim.baseUrl}/Portal/Api/organizations/${ORG}/lists/${LIST}/data/load?keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER`,
    {
      method: 'POST',
      headers: { 'X-ApiKey': `${API_KEY}:${API_SECRET}`, 'content-type': 'application/json', 'content-length': '64' },
    },
  );
  const done = new Promise<void>((resolve) => {
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve());
    });
    request.on('error', () => resolve());
  });
  // Not valid JSON once complete: the held load itself changes nothing.
  request.write('[["HOLDER"]');
  return {
    async release() {
      request.end(' '.repeat(64 - '[["HOLDER"]'.length));
      await done;
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function routes(sim: SimulatorHandle, route: string) {
  return sim.requestLog().filter((entry) => entry.route === route);
}

// ------------------------------------------------------------------------------------------ scenarios

describe('fault injection', { concurrency: 4 }, () => {
  // ---------------------------------------------------------------------------------------- 429

  scenario(
    'a burst of 429 with X-RateLimit-* headers on List loads is waited out and survived',
    {},
    async (sim, name) => {
      const data = dataset(20);
      sim.faults.add({ route: 'loadList', status: 429, afterCalls: 1, times: 3 });
      const result = await run(sim, name, { data });
      const h = result.report!.http;
      assert.equal(h.rate_limited, 3);
      assert.ok(h.retries >= 3);
      assert.equal(h.rate_limit_waits, 3);
      // X-RateLimit-Reset: 1 is honoured: at least a second per wait.
      assert.ok(h.rate_limit_wait_seconds >= 3, String(h.rate_limit_wait_seconds));
      assert.equal(result.report!.status, 'succeeded');
      assert.equal(result.report!.accounting!.loaded, 20);
      assertConverged(sim, data);
    },
  );

  scenario(
    'a burst of 429 without any rate-limit header on Segment loads backs off and is survived',
    {},
    async (sim, name) => {
      const data = dataset(20);
      sim.faults.add({ route: 'loadSegment', status: 429, times: 3, headers: {} });
      const result = await run(sim, name, { data });
      assert.equal(result.report!.http.rate_limited, 3);
      assert.ok(result.report!.http.retries >= 3);
      assert.equal(routes(sim, 'loadSegment').filter((entry) => entry.status === 429).length, 3);
      assertConverged(sim, data);
    },
  );

  scenario('429 with Retry-After on every kind of call is honoured and survived', {}, async (sim, name) => {
    const data = dataset(10);
    for (const route of ['getOrganization', 'listSegments', 'createStaticSegment', 'loadList'] as const) {
      sim.faults.add({ route, status: 429, times: 1, headers: { 'Retry-After': '1' } });
    }
    const result = await run(sim, name, { data });
    assert.equal(result.report!.http.rate_limited, 4);
    assert.ok(result.report!.http.rate_limit_wait_seconds >= 4, String(result.report!.http.rate_limit_wait_seconds));
    assertConverged(sim, data);
  });

  scenario(
    'a small per-key quota (6 per 2 s): the exporter paces itself on X-RateLimit-Remaining 0 and finishes',
    { rateLimit: { limit: 6, windowMs: 2_000 } },
    async (sim, name) => {
      const data = dataset(20);
      const result = await run(sim, name, { data });
      // Answers saying no quota is left hold the next request until X-RateLimit-Reset; a 429 that still
      // happens (a window that turned late) is retried.
      assert.ok(result.report!.http.pacing_wait_seconds > 0, JSON.stringify(result.report!.http));
      assert.equal(result.report!.http.rate_limited, result.report!.http.rate_limit_waits);
      assertConverged(sim, data);
    },
  );

  scenario(
    'the per-List 429 (another bulk operation in progress) is waited out as a busy List, not made to wait for the quota window',
    // A long quota window: X-RateLimit-Reset is tens of seconds while X-RateLimit-Remaining is far from 0.
    { rateLimit: { limit: 100, windowMs: 600_000 } },
    async (sim, name) => {
      const data = dataset(20);
      let holder: { release(): Promise<void> } | undefined;
      const released = (async () => {
        await until(
          () => holder !== undefined && routes(sim, 'loadList').some((entry) => entry.status === 429),
          'a per-List 429',
        );
        await holder!.release();
      })();
      const result = await run(sim, name, { data, onStart: () => (holder = holdBulkLock(sim)) });
      await released;
      const lock429 = routes(sim, 'loadList').filter((entry) => entry.status === 429);
      assert.ok(lock429.length >= 1);
      assert.equal(result.report!.http.rate_limited, lock429.length);
      assert.equal(result.report!.http.list_busy_waits, lock429.length);
      assert.equal(result.report!.http.rate_limit_waits, 0);
      assert.ok(result.report!.http.rate_limit_wait_seconds < 5, String(result.report!.http.rate_limit_wait_seconds));
      // The held load was refused once released: the List holds exactly the input.
      assertConverged(sim, data);
    },
  );

  // ---------------------------------------------------------------------------------------- 5xx

  scenario('a 503 storm over every route (the next 3 calls) is survived', {}, async (sim, name) => {
    const data = dataset(20);
    sim.faults.add({ route: '*', status: 503, afterCalls: 4, times: 3 });
    const result = await run(sim, name, { data });
    assert.equal(result.report!.http.by_status['503'], 3);
    assert.equal(result.report!.http.retries, 3);
    assertConverged(sim, data);
  });

  scenario(
    '503 with Retry-After and 502/504 from a proxy (HTML bodies echoing the API key) are survived',
    {},
    async (sim, name) => {
      const data = dataset(15);
      sim.faults.add({ route: 'loadList', status: 503, afterCalls: 1, times: 1, headers: { 'Retry-After': '1' } });
      sim.faults.add({
        route: 'loadSegment',
        status: 502,
        times: 2,
        body: ECHO_BODY,
        headers: { 'Content-Type': 'text/html' },
      });
      sim.faults.add({
        route: 'getFields',
        status: 504,
        times: 1,
        body: ECHO_BODY,
        headers: { 'Content-Type': 'text/html' },
      });
      const result = await run(sim, name, { data });
      assert.equal(result.report!.http.retries, 4);
      assertConverged(sim, data);
    },
  );

  scenario(
    'a 503 storm longer than max_attempts fails with exit 5 SELLIGENT_UNAVAILABLE; a rerun after the storm converges',
    {},
    async (sim, name) => {
      const data = dataset(20);
      sim.faults.add({ route: 'loadList', status: 503, afterCalls: 2, times: 50, body: ECHO_BODY });
      const failed = await run(sim, name, { data, settings: { max_attempts: 3 }, expectCode: 5 });
      const report = failed.report!;
      assert.equal(report.status, 'failed');
      assert.equal(report.error!.code, 'SELLIGENT_UNAVAILABLE');
      assert.equal(report.error!.stage, 'list-load');
      assert.match(report.error!.message, /answered 503 after 3 attempts/);
      // The proxy echoed the credentials; the message keeps the body, scrubbed.
      assert.match(report.error!.message, /\[REDACTED\]/);
      assert.equal(report.accounting!.loaded, 10);
      assert.equal(report.accounting!.not_applied_by_reason.not_sent, 10);
      assert.equal(sim.listRecords(ORG, LIST).length, 10);
      assert.match(
        failed.stdout.trim().split('\n').at(-1)!,
        /^selligent-export: failed - .*error SELLIGENT_UNAVAILABLE in list-load: .*exit 5/,
      );
      sim.faults.clear();
      await run(sim, `${name} (rerun)`, { data });
      assertConverged(sim, data);
    },
  );

  const stages: Array<{
    stage: string;
    route: string;
    status: 500 | 502 | 503 | 504;
    afterCalls?: number;
    newList?: boolean;
    replace?: boolean;
  }> = [
    { stage: 'preflight', route: 'getList', status: 500 },
    { stage: 'list-setup', route: 'createList', status: 503, newList: true },
    { stage: 'list-setup', route: 'createFields', status: 502, newList: true },
    { stage: 'list-setup', route: 'setBusinessKey', status: 504, newList: true },
    { stage: 'list-load', route: 'loadList', status: 500, afterCalls: 2 },
    { stage: 'segment-setup', route: 'createStaticSegment', status: 503, afterCalls: 1 },
    { stage: 'segment-load', route: 'clearSegment', status: 500, afterCalls: 1, replace: true },
    { stage: 'segment-load', route: 'loadSegment', status: 502, afterCalls: 2 },
  ];
  for (const { stage, route, status, afterCalls, newList, replace } of stages) {
    scenario(
      `a ${status} on call ${(afterCalls ?? 0) + 1} of ${route} (${stage}) is retried and survived`,
      newList
        ? { seedList: null }
        : replace
          ? { seedList: { segments: [{ api_name: 'seg_a' }, { api_name: 'seg_b' }] } }
          : {},
      async (sim, name) => {
        const data = dataset(12);
        sim.faults.add({ route, status, afterCalls, times: 1 });
        const result = await run(sim, name, {
          data,
          settings: {
            ...(newList ? { create_list_if_not_exists: true } : {}),
            ...(replace ? { segment_data_import_option: 'replace' } : {}),
          },
        });
        const calls = routes(sim, route);
        assert.equal(calls[afterCalls ?? 0]!.status, status);
        assert.equal(calls[afterCalls ?? 0]!.fault, `status ${status}`);
        assert.ok(calls.length >= (afterCalls ?? 0) + 2, `${route} was retried`);
        assert.equal(result.report!.http.retries, 1);
        if (newList) {
          assert.equal(result.report!.list!.created, true);
          assert.deepEqual(sim.businessKey(ORG, LIST), ['CUSTOMER_IDENTIFIER']);
        }
        if (replace) assert.ok(result.report!.segments.every((segment) => segment.cleared));
        assertConverged(sim, data);
      },
    );
  }

  scenario(
    'storms in list-setup (fields, then unique key) fail with exit 5 and leave a half-set-up List; each rerun finishes the set-up and the last converges',
    { seedList: null, requireBusinessKey: true },
    async (sim, name) => {
      const data = dataset(12);
      const settings = { create_list_if_not_exists: true, max_attempts: 2 };
      sim.faults.add({ route: 'createFields', status: 503, times: 2 });
      const first = await run(sim, name, { data, settings, expectCode: 5 });
      assert.deepEqual(
        [first.report!.error!.code, first.report!.error!.stage],
        ['SELLIGENT_UNAVAILABLE', 'list-setup'],
      );
      assert.equal(first.report!.list!.created, true);
      assert.deepEqual(first.report!.list!.fields_created, []);
      assert.equal(first.report!.accounting!.not_applied_by_reason.not_sent, 12);
      assert.ok(sim.hasList(ORG, LIST));
      assert.equal(sim.listRecords(ORG, LIST).length, 0);

      sim.faults.add({ route: 'setBusinessKey', status: 503, times: 2 });
      const second = await run(sim, `${name} (rerun 1)`, { data, settings, expectCode: 5 });
      assert.deepEqual(
        [second.report!.error!.code, second.report!.error!.stage],
        ['SELLIGENT_UNAVAILABLE', 'list-setup'],
      );
      assert.equal(second.report!.list!.created, false);
      assert.deepEqual(second.report!.list!.fields_created, ['CUSTOMER_IDENTIFIER', 'EMAIL', 'FIRST_NAME']);
      assert.equal(sim.businessKey(ORG, LIST), undefined);

      const third = await run(sim, `${name} (rerun 2)`, { data, settings });
      assert.equal(third.report!.list!.business_key_set, true);
      assert.deepEqual(third.report!.list!.fields_created, []);
      assert.deepEqual(sim.businessKey(ORG, LIST), ['CUSTOMER_IDENTIFIER']);
      assertConverged(sim, data);
    },
  );

  // ---------------------------------------------------------------------------------------- dropped connections

  scenario(
    'connections dropped mid-response on List and Segment loads: retried, no row lost or doubled',
    {},
    async (sim, name) => {
      const data = dataset(25);
      // Without a status the request is processed first, then the answer is cut: the retry repeats work already done.
      sim.faults.add({ route: 'loadList', dropConnection: true, afterCalls: 1, times: 2 });
      sim.faults.add({ route: 'loadSegment', dropConnection: true, afterCalls: 1, times: 2 });
      const result = await run(sim, name, { data });
      assert.equal(sim.requestLog().filter((entry) => entry.fault === 'drop').length, 4);
      assert.ok(result.report!.http.retries >= 4);
      // The batch whose answers were lost was applied three times; Selligent counts the last as updates, and
      // the accounting counts each row once.
      assert.equal(result.report!.accounting!.loaded, 25);
      assert.deepEqual([result.report!.list!.inserted, result.report!.list!.updated], [20, 5]);
      assert.deepEqual(
        result.report!.segments.map((segment) => segment.members_loaded),
        [13, 12],
      );
      assertConverged(sim, data);
    },
  );

  scenario(
    'answers to creates (List, fields, business key, Segment) lost mid-response: the retry finds them created',
    { seedList: null },
    async (sim, name) => {
      const data = dataset(10);
      for (const route of ['createList', 'createFields', 'setBusinessKey', 'createStaticSegment'] as const)
        sim.faults.add({ route, dropConnection: true, times: 1 });
      const result = await run(sim, name, { data, settings: { create_list_if_not_exists: true } });
      assert.equal(sim.requestLog().filter((entry) => entry.fault === 'drop').length, 4);
      assert.equal(result.report!.list!.created, true);
      assert.deepEqual(result.report!.list!.fields_created, ['CUSTOMER_IDENTIFIER', 'EMAIL', 'FIRST_NAME']);
      assert.ok(result.report!.segments.every((segment) => segment.created));
      assertConverged(sim, data);
    },
  );

  // ---------------------------------------------------------------------------------------- slow answers

  const slow = { request_timeout_seconds: 2, max_attempts: 6 };

  scenario(
    'a List load answered after request_timeout_seconds times out, is retried and succeeds',
    {},
    async (sim, name) => {
      const data = dataset(15);
      sim.faults.add({ route: 'loadList', delayMs: 4_500, afterCalls: 1, times: 1 });
      const result = await run(sim, name, { data, settings: slow });
      assert.equal(result.report!.http.by_status.ETIMEDOUT, 1);
      assert.equal(result.report!.http.split_batches, 0);
      assertConverged(sim, data);
    },
  );

  scenario('a batch timing out twice in a row is split in half; the halves load', {}, async (sim, name) => {
    const data = dataset(12);
    sim.faults.add({ route: 'loadList', delayMs: 4_500, afterCalls: 1, times: 2 });
    sim.faults.add({ route: 'loadSegment', delayMs: 4_500, times: 2 });
    const result = await run(sim, name, {
      data,
      settings: { ...slow, batch_rows: 6, segment_batch_rows: 6, segment_batch_rows_max: 6 },
    });
    assert.equal(result.report!.http.by_status.ETIMEDOUT, 4);
    assert.equal(result.report!.http.split_batches, 2);
    // 2 batches, the second split into two halves.
    assert.equal(result.report!.list!.requests, 2 + 2);
    assert.equal(result.report!.list!.rows_sent, 12);
    assert.equal(result.rejected.length, 0);
    assertConverged(sim, data);
  });

  scenario(
    'a service slower than request_timeout_seconds on every load: exit 5 SELLIGENT_TIMEOUT in bounded time, no row reported rejected; a rerun converges',
    {},
    async (sim, name) => {
      const data = dataset(4);
      sim.faults.add({ route: 'loadList', delayMs: 4_500 });
      const started = performance.now();
      const failed = await run(sim, name, {
        data,
        settings: { ...slow, max_attempts: 3, batch_rows: 4 },
        expectCode: 5,
        timeoutMs: 60_000,
      });
      assert.ok(performance.now() - started < 45_000);
      assert.equal(failed.report!.error!.code, 'SELLIGENT_TIMEOUT');
      assert.equal(failed.report!.error!.stage, 'list-load');
      assert.match(failed.report!.error!.message, /timed out after 3 attempts/);
      // Split down to one row, which is retried rather than rejected: it may well have been loaded.
      assert.equal(failed.report!.http.split_batches, 2);
      assert.equal(failed.rejected.length, 0);
      assert.equal(failed.report!.accounting!.rejected, 0);
      assert.equal(failed.report!.accounting!.not_applied_by_reason.not_sent, 4);
      sim.faults.clear();
      await run(sim, `${name} (rerun)`, { data });
      assertConverged(sim, data);
    },
  );

  // ---------------------------------------------------------------------------------------- 413

  scenario(
    '413 on large batches (maxBodyBytes 2 KB): batches split down, a row alone over the limit is rejected as BATCH_TOO_LARGE, the rest load',
    { maxBodyBytes: 2_048 },
    async (sim, name) => {
      const data = dataset(30, ['seg_a', 'seg_b'], { 7: 3_000, 8: 95, 9: 95, 10: 95, 11: 95, 12: 95 });
      const result = await run(sim, name, {
        data,
        settings: { batch_rows: 50, segment_batch_rows: 50, segment_batch_rows_max: 50 },
      });
      const report = result.report!;
      assert.ok(report.http.by_status['413']! >= 2);
      assert.ok(report.http.split_batches >= 1);
      assert.equal(report.status, 'partial');
      assert.equal(report.accounting!.rejected, 1);
      assert.equal(report.accounting!.loaded, 29);
      assert.equal(result.rejected.length, 1);
      const [row] = result.rejected;
      assert.equal(row!.code, 'BATCH_TOO_LARGE');
      assert.equal(row!.row, 7);
      assert.equal(row!.stage, 'list-load');
      assert.deepEqual(row!.key, { CUSTOMER_IDENTIFIER: 'C0007' });
      assert.match(String(row!.message), /413/);
      // The rejected key is not routed to its Segment either.
      assertConverged(sim, data, { rejected: ['C0007'] });
      assert.equal(report.segments.find((segment) => segment.api_name === 'seg_a')!.skipped_rejected_keys, 1);
    },
  );

  // ---------------------------------------------------------------------------------------- 401

  scenario(
    '401 mid-run on a Segment load: exit 4, the report names segment-load, the List load had completed',
    {},
    async (sim, name) => {
      const data = dataset(20);
      sim.faults.add({ route: 'loadSegment', status: 401, afterCalls: 2, times: 1, body: ECHO_BODY });
      const result = await run(sim, name, { data, expectCode: 4 });
      const report = result.report!;
      assert.equal(report.status, 'failed');
      assert.equal(report.error!.code, 'SELLIGENT_UNAUTHORIZED');
      assert.equal(report.error!.stage, 'segment-load');
      assert.match(report.error!.message, /answered 401/);
      // Not retried: credentials do not heal.
      assert.equal(routes(sim, 'loadSegment').length, 3);
      assert.equal(report.list!.rows_sent, 20);
      assert.equal(report.accounting!.loaded, 20);
      assert.equal(sim.listRecords(ORG, LIST).length, 20);
      // seg_a done (2 batches), seg_b failed on its first batch.
      assert.deepEqual(
        report.segments.map((segment) => [segment.api_name, segment.status, segment.members_loaded]),
        [
          ['seg_a', 'succeeded', 10],
          ['seg_b', 'failed', 0],
        ],
      );
      assertConverged(sim, { ...data, members: new Map([['seg_a', data.members.get('seg_a')!]]) });
    },
  );

  // ---------------------------------------------------------------------------------------- signals

  scenario(
    'SIGTERM mid-List-load: failed, INTERRUPTED in list-load, exit 5, balanced; the rerun ends as one clean run',
    { latencyMs: 150 },
    async (sim, name) => {
      const data = dataset(30);
      const failed = await run(sim, name, {
        data,
        expectCode: 5,
        extraFaults: 1,
        onStart: (child) =>
          void until(() => routes(sim, 'loadList').length >= 2, 'the List load').then(() => child.kill('SIGTERM')),
      });
      const report = failed.report!;
      assert.equal(report.status, 'failed');
      assert.equal(report.error!.code, 'INTERRUPTED');
      assert.equal(report.error!.stage, 'list-load');
      assert.ok(report.accounting!.loaded > 0 && report.accounting!.loaded < 30, String(report.accounting!.loaded));
      assert.equal(report.accounting!.not_applied_by_reason.not_sent, 30 - report.accounting!.loaded);
      assert.equal(sim.listRecords(ORG, LIST).length, report.accounting!.loaded);
      assert.equal(routes(sim, 'loadSegment').length, 0);
      assert.match(failed.stdout, /received SIGTERM/);
      sim.configure({ latencyMs: 0 });
      // The rerun, and one clean run on a fresh simulator, end in the same state.
      const fresh = await startSim();
      try {
        await Promise.all([run(sim, `${name} (rerun)`, { data }), run(fresh, `${name} (clean run)`, { data })]);
        assertConverged(sim, data);
        assertConverged(fresh, data);
        const state = (s: SimulatorHandle) => ({
          records: s
            .listRecords(ORG, LIST)
            .map(({ ID: _id, ...rest }) => rest)
            .sort((a, b) => String(a.CUSTOMER_IDENTIFIER).localeCompare(String(b.CUSTOMER_IDENTIFIER))),
          segments: Object.fromEntries(
            [...data.members.keys()].map((segment) => [
              segment,
              s
                .segmentMembers(ORG, LIST, segment)
                .map((m) => m.CUSTOMER_IDENTIFIER)
                .sort(),
            ]),
          ),
        });
        assert.deepEqual(state(sim), state(fresh));
      } finally {
        await fresh.close();
      }
    },
  );

  scenario(
    'SIGTERM mid-Segment-load in replace mode, then a rerun: every Segment ends with exactly its members, others untouched',
    {
      latencyMs: 150,
      seedList: {
        records: [{ CUSTOMER_IDENTIFIER: 'OLD1' }, { CUSTOMER_IDENTIFIER: 'OLD2' }, { CUSTOMER_IDENTIFIER: 'OLD3' }],
        segments: [
          { api_name: 'seg_a', members: [{ CUSTOMER_IDENTIFIER: 'OLD1' }] },
          { api_name: 'seg_b', members: [{ CUSTOMER_IDENTIFIER: 'OLD2' }] },
          { api_name: 'seg_z', members: [{ CUSTOMER_IDENTIFIER: 'OLD3' }, { CUSTOMER_IDENTIFIER: 'OLD1' }] },
        ],
      },
    },
    async (sim, name) => {
      const data = dataset(24, ['seg_a', 'seg_b', 'seg_c']);
      const settings = { segment_data_import_option: 'replace', segment_batch_rows: 2, segment_batch_rows_max: 2 };
      const failed = await run(sim, name, {
        data,
        settings,
        expectCode: 5,
        extraFaults: 1,
        onStart: (child) =>
          void until(() => routes(sim, 'loadSegment').length >= 2, 'the first Segment load').then(() =>
            child.kill('SIGTERM'),
          ),
      });
      const report = failed.report!;
      assert.equal(report.error!.code, 'INTERRUPTED');
      assert.equal(report.error!.stage, 'segment-load');
      assert.equal(report.accounting!.loaded, 24);
      const [a, b, c] = report.segments;
      // seg_a was cleared and is partly loaded; the later ones are untouched, except that the missing
      // seg_c was created (empty) before the first Segment load.
      assert.equal(a!.cleared, true);
      assert.equal(a!.status, 'failed');
      assert.ok(a!.members_loaded > 0 && a!.members_loaded < 8);
      assert.deepEqual([b!.status, b!.cleared, c!.status, c!.created], ['pending', false, 'pending', true]);
      assert.deepEqual(
        sim.segmentMembers(ORG, LIST, 'seg_b').map((m) => m.CUSTOMER_IDENTIFIER),
        ['OLD2'],
      );
      assert.deepEqual(sim.segmentMembers(ORG, LIST, 'seg_c'), []);
      sim.configure({ latencyMs: 0 });
      const rerun = await run(sim, `${name} (rerun)`, { data, settings });
      assert.deepEqual(
        rerun.report!.segments.map((segment) => [segment.api_name, segment.cleared, segment.created]),
        [
          ['seg_a', true, false],
          ['seg_b', true, false],
          ['seg_c', true, false],
        ],
      );
      // Exactly the intended members (old ones replaced), the List never deleted from, seg_z untouched.
      assertConverged(sim, data, { otherRecords: ['OLD1', 'OLD2', 'OLD3'] });
      assert.deepEqual(
        sim
          .segmentMembers(ORG, LIST, 'seg_z')
          .map((m) => m.CUSTOMER_IDENTIFIER)
          .sort(),
        ['OLD1', 'OLD3'],
      );
    },
  );
});

// ------------------------------------------------------------------------------------------ changes-only sync

/** Load requests (List, Segment, removal) in the request log since it was last cleared. */
function loadRequests(sim: SimulatorHandle): number {
  const loads = new Set(['loadList', 'loadSegment', 'deleteSegmentData', 'clearSegment']);
  return sim.requestLog().filter((entry) => entry.route && loads.has(entry.route)).length;
}

/** The generation in force, and the state's manifests and pointer kept for the secret check. */
async function stateInForce(store: StateStore, scenario: string): Promise<number | undefined> {
  try {
    const state = await readState(store);
    if (state) written.push({ scenario: `${scenario} (state)`, text: JSON.stringify(state.manifest) });
    return state?.manifest.generation;
  } finally {
    await store.close();
  }
}

/**
 * A proxy in front of an S3 server that, while `refusing`, answers 503 SlowDown to every write of the
 * state's pointer: the object storage fails exactly when a run commits its state.
 */
async function pointerRefusingProxy(target: string): Promise<{
  endpoint: string;
  refusing: boolean;
  refused: number;
  close(): Promise<void>;
}> {
  const upstream = new URL(target);
  const proxy = {
    endpoint: '',
    refusing: false,
    refused: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((request, response) => {
    if (proxy.refusing && request.method === 'PUT' && request.url?.includes('CURRENT.json')) {
      proxy.refused++;
      request.resume();
      response.writeHead(503, { 'content-type': 'application/xml' });
      response.end(
        '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
      return;
    }
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}

describe('fault injection: changes-only sync', { concurrency: 4 }, () => {
  const changes = (stateUri: string) => ({ sync_mode: 'changes', state_uri: stateUri });

  scenario(
    'changes-only under 429s and a 503 storm: only the changed rows are sent, the state is committed, the next run sends nothing',
    {},
    async (sim, name) => {
      const stateDir = tempDir();
      const data = dataset(20);
      const first = await run(sim, `${name} (first run)`, { data, settings: changes(stateDir) });
      assert.equal(first.report!.changes!.generation_written, 1);
      const changed = withNewEmails(data, ['C0003', 'C0011', 'C0016']);
      sim.faults.add({ route: 'loadList', status: 429, times: 1, headers: { 'Retry-After': '1' } });
      sim.faults.add({ route: '*', status: 503, afterCalls: 2, times: 3 });
      const second = await run(sim, name, { data: changed, settings: changes(stateDir) });
      assert.ok(faultsIn(sim) >= 4, String(faultsIn(sim)));
      const report = second.report!;
      assert.equal(report.status, 'succeeded');
      assert.equal(report.list!.rows_sent, 3);
      assert.equal(report.accounting!.loaded, 3);
      assert.equal(report.accounting!.unchanged, 17);
      assert.equal(report.changes!.changed, 3);
      assert.equal(report.changes!.generation_written, 2);
      assertConverged(sim, changed);
      const third = await run(sim, `${name} (unchanged)`, { data: changed, settings: changes(stateDir) });
      assert.equal(loadRequests(sim), 0);
      assert.equal(third.report!.accounting!.unchanged, 20);
      assert.equal(await stateInForce(localStateStore(stateDir), name), 3);
    },
  );

  scenario(
    'changes-only, SIGTERM mid-List-load: the state compared with goes in force again with the rows sent unconfirmed; the rerun sends the difference again and converges, and so does an input changed back',
    {},
    async (sim, name) => {
      const stateDir = tempDir();
      const data = dataset(60);
      await run(sim, `${name} (first run)`, { data, settings: changes(stateDir) });
      const changedKeys = data.keys.filter((_, index) => index % 2 === 0);
      const changed = withNewEmails(data, changedKeys);
      /** A run sending `input`, stopped with SIGTERM once its List load has begun. */
      const stopped = (label: string, input: Dataset) => {
        sim.configure({ latencyMs: 150 });
        return run(sim, label, {
          data: input,
          settings: changes(stateDir),
          expectCode: 5,
          extraFaults: 1,
          onStart: (child) =>
            void until(() => routes(sim, 'loadList').length >= 1, 'the List load of the changes').then(() =>
              child.kill('SIGTERM'),
            ),
        });
      };
      const killed = await stopped(name, changed);
      assert.equal(killed.report!.error!.code, 'INTERRUPTED');
      assert.equal(killed.report!.changes!.generation_written, 2);
      assert.equal(await stateInForce(localStateStore(stateDir), name), 2, "the first run's state, again");
      sim.configure({ latencyMs: 0 });
      const rerun = await run(sim, `${name} (rerun)`, { data: changed, settings: changes(stateDir) });
      // Compared with the state in force, every changed row is sent again: what the killed run loaded too.
      assert.equal(rerun.report!.list!.rows_sent, changedKeys.length);
      assert.equal(rerun.report!.changes!.generation_written, 3);
      assertConverged(sim, changed);
      await run(sim, `${name} (unchanged)`, { data: changed, settings: changes(stateDir) });
      assert.equal(loadRequests(sim), 0);

      // Stopped again while sending the changes, then the input changed back: the rows it sent go again.
      const again = await stopped(`${name} (stopped again)`, data);
      assert.equal(again.report!.changes!.generation_written, 5);
      sim.configure({ latencyMs: 0 });
      const back = await run(sim, `${name} (changed back)`, { data: changed, settings: changes(stateDir) });
      assert.ok(back.report!.list!.rows_sent >= 1, 'the rows the stopped run sent');
      assertConverged(sim, changed);
    },
  );

  scenario(
    'changes-only when Selligent counts failed rows without naming them: no row of that request is recorded, the next run sends them again',
    { variants: { failedRowDetail: 'count-only' } },
    async (sim, name) => {
      const stateDir = tempDir();
      // Row 3's FIRST_NAME is longer than the field: its batch (rows 1-5) fails one row without saying which.
      const data = dataset(10, ['seg_a', 'seg_b'], { 3: 150 });
      const settings = { ...changes(stateDir), max_rejected_rows: 5 };
      const first = await run(sim, `${name} (first run)`, { data, settings });
      assert.equal(first.report!.status, 'partial');
      assert.equal(first.report!.accounting!.not_applied_by_reason.failed_without_detail, 1);
      assert.equal(first.report!.changes!.generation_written, 1);
      const second = await run(sim, name, { data, settings });
      // Nothing of the first request was recorded as sent: its five rows go again, the other five do not.
      assert.equal(second.report!.list!.rows_sent, 5);
      assert.equal(second.report!.accounting!.unchanged, 5);
      assert.equal(second.report!.accounting!.not_applied_by_reason.failed_without_detail, 1);
      assert.equal(sim.listRecords(ORG, LIST).length, 9);
      assert.equal(await stateInForce(localStateStore(stateDir), name), 2);
    },
  );

  scenario(
    'changes-only when a request of changed rows fails rows without naming them: they are recorded unconfirmed, so an input changed back is sent too',
    {},
    async (sim, name) => {
      const stateDir = tempDir();
      const settings = { ...changes(stateDir), max_rejected_rows: 5 };
      const data = dataset(10);
      await run(sim, `${name} (first run)`, { data, settings });
      // C0001 and C0002 get new e-mail addresses, C0003 a first name longer than its field: one request
      // of three rows, two applied and one failed, and the answer does not say which.
      sim.setVariants({ failedRowDetail: 'count-only' });
      const changed = withNewEmails(dataset(10, ['seg_a', 'seg_b'], { 3: 150 }), ['C0001', 'C0002']);
      const second = await run(sim, name, { data: changed, settings });
      assert.equal(second.report!.list!.rows_sent, 3);
      assert.equal(second.report!.accounting!.not_applied_by_reason.failed_without_detail, 1);
      assert.equal(
        sim.listRecords(ORG, LIST).find((r) => r.CUSTOMER_IDENTIFIER === 'C0001')!.EMAIL,
        'c0001.new@example.com',
      );
      sim.setVariants({ failedRowDetail: 'listed' });
      // The input as it was before: Selligent holds other values for C0001 and C0002, so they must go again.
      const back = await run(sim, `${name} (changed back)`, { data, settings });
      assert.equal(back.report!.status, 'succeeded');
      assert.equal(back.report!.list!.rows_sent, 3);
      assert.equal(back.report!.changes!.changed, 3);
      assert.equal(back.report!.accounting!.unchanged, 7);
      assertConverged(sim, data);
      await run(sim, `${name} (unchanged)`, { data, settings });
      assert.equal(loadRequests(sim), 0);
      assert.equal(await stateInForce(localStateStore(stateDir), name), 4);
    },
  );

  scenario(
    "changes-only with the state on S3 whose storage refuses the commit: the run's writes stand, it says the state was not committed, the next run sends the difference again",
    {},
    async (sim, name) => {
      const s3 = await startTestS3();
      const proxy = await pointerRefusingProxy(s3.endpoint);
      try {
        const env = { ...s3.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint };
        const stateUri = `s3://${s3.bucket}/faults-${Date.now()}/`;
        const store = () => s3StateStore(stateUri, { env });
        const data = dataset(12);
        await run(sim, `${name} (first run)`, { data, settings: changes(stateUri), env });
        const changed = withNewEmails(data, ['C0002', 'C0007']);
        proxy.refusing = true;
        const refused = await run(sim, name, { data: changed, settings: changes(stateUri), env, extraFaults: 1 });
        assert.ok(proxy.refused >= 1);
        assert.equal(refused.report!.status, 'succeeded');
        assert.equal(refused.report!.list!.rows_sent, 2);
        assert.match(refused.report!.changes!.commit_error ?? '', /^STATE_NOT_COMMITTED: /);
        assert.ok(refused.report!.warnings.some((warning) => warning.code === 'STATE_NOT_COMMITTED'));
        assert.match(refused.stdout, /warning/);
        assertConverged(sim, changed);
        assert.equal(await stateInForce(store(), name), 1);
        proxy.refusing = false;
        const rerun = await run(sim, `${name} (rerun)`, { data: changed, settings: changes(stateUri), env });
        assert.equal(rerun.report!.list!.rows_sent, 2);
        assert.equal(rerun.report!.changes!.generation_written, 2);
        assertConverged(sim, changed);
        assert.equal(await stateInForce(store(), name), 2);
      } finally {
        await proxy.close();
        await s3.close();
      }
    },
  );
});

// ------------------------------------------------------------------------------------------ secrets

test('no secret in any byte written across every fault scenario (stdout, stderr, report, rejected rows) at LOG_LEVEL=trace', (t) => {
  assert.ok(written.length >= ledger.runs && ledger.runs >= 25, `only ${written.length} runs collected`);
  const all = written.map((entry) => entry.text).join('\n');
  for (const entry of written) {
    for (const secret of SECRETS)
      assert.ok(!entry.text.includes(secret), `${entry.scenario}: output contains ${secret}`);
  }
  // The echoing proxy's pages did reach the output, scrubbed: the check above looked at real exposure.
  assert.match(all, /X-ApiKey: \[REDACTED\]/);
  assert.ok(all.length > 100_000, `${all.length} bytes`);
  t.diagnostic(
    `fault suite figures: ${ledger.scenarios} scenarios, ${ledger.runs} runs, ${ledger.faultsInjected} faults injected, ` +
      `${ledger.faultsSurvived} survived within a run, ${ledger.faultsFailedAsDesigned} ended a run as designed (then converged on rerun), ` +
      `${ledger.rowsChecked} row checks, ${ledger.rowsLost} rows lost; ${all.length} bytes of output checked for ${SECRETS.length} secrets`,
  );
  for (const line of perRun) t.diagnostic(line);
  assert.equal(ledger.rowsLost, 0);
});
