import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simulateCommand } from '../../src/simulator/cli.ts';
import { startSimulator, type SeedState } from '../../src/simulator/index.ts';
import { client, FIELDS3, KEY } from './helpers.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'selligent-sim-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SEED: SeedState = {
  lists: [
    {
      api_name: 'contacts',
      fields: [
        { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
        { name: 'EMAIL', data_type: 'Text', length: 50 },
        { name: 'AGE', data_type: 'Long' },
      ],
      records: [
        { CUSTOMER_IDENTIFIER: 'S1', EMAIL: 's1@x', AGE: 1 },
        { ID: 10, customer_identifier: 'S10' },
      ],
      segments: [
        { api_name: 'vip', members: [10, { CUSTOMER_IDENTIFIER: 'S1' }] },
        { api_name: 'dyn', type: 'Dynamic', name: 'Dynamic one' },
      ],
      business_key: ['customer_identifier'],
    },
  ],
};

describe('seed, reset and inspection', () => {
  test('seeded lists, records (IDs kept or assigned), segments by ID or by values, business key', async () => {
    const sim = await startSimulator({ port: 0, seed: SEED });
    try {
      assert.deepEqual(
        sim.listRecords('my_org', 'contacts').map((r) => [r.ID, r.CUSTOMER_IDENTIFIER]),
        [
          [1, 'S1'],
          [10, 'S10'],
        ],
      );
      assert.deepEqual(
        sim.segmentMembers('my_org', 'contacts', 'vip').map((r) => r.ID),
        [1, 10],
      );
      assert.deepEqual(sim.segments('my_org', 'contacts'), [
        { api_name: 'vip', type: 'Static' },
        { api_name: 'dyn', type: 'Dynamic' },
      ]);
      assert.deepEqual(sim.businessKey('my_org', 'contacts'), ['CUSTOMER_IDENTIFIER']);
      assert.equal(sim.businessKey('my_org', 'nope'), undefined);
      assert.equal(sim.hasList('my_org', 'nope'), false);
      assert.deepEqual(
        [
          sim.listRecords('my_org', 'nope'),
          sim.segments('nope', 'x'),
          sim.segmentMembers('my_org', 'contacts', 'nope'),
          sim.listFields('my_org', 'nope'),
        ],
        [[], [], [], []],
      );
      assert.deepEqual(sim.listFields('my_org', 'contacts').slice(4), [
        { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50, allow_null: true },
        { name: 'EMAIL', data_type: 'Text', length: 50, allow_null: true },
        { name: 'AGE', data_type: 'Long', allow_null: true },
      ]);
      const c = client(sim);
      const r = await c.load('contacts', `${KEY}&${FIELDS3}`, [['N1', 'n', 5]]);
      assert.equal(r.json.number_of_inserted_records, 1);
      assert.equal(sim.listRecords('my_org', 'contacts').at(-1)?.ID, 11); // after the highest seeded ID

      sim.seed({ organizations: ['second'], lists: [{ organization: 'second', api_name: 'other', type: 'Datalist' }] });
      assert.equal(sim.hasList('second', 'other'), true);
      assert.equal((await c.call('GET', '/lists/other', undefined, { org: 'second' })).status, 200);
      assert.throws(() => sim.seed({ lists: [{ api_name: 'bad', records: [{ NOPE: 1 }] }] }), /NOPE/);
      assert.throws(
        () => sim.seed({ lists: [{ api_name: 'bad2', segments: [{ api_name: 's', members: [99] }] }] }),
        /99/,
      );

      sim.faults.add({ route: 'getList', status: 500 });
      sim.reset();
      assert.deepEqual(sim.faults.list(), []);
      assert.equal(sim.requestLog().length, 0);
      assert.equal(sim.hasList('second', 'other'), false);
      assert.equal(sim.listRecords('my_org', 'contacts').length, 2); // back to the seed
    } finally {
      await sim.close();
    }
  });

  test('request log entries; bounded ring; can be disabled and cleared', async () => {
    const sim = await startSimulator({ port: 0, seed: SEED, requestLogSize: 3 });
    try {
      const c = client(sim);
      await c.load('contacts', `${KEY}&${FIELDS3}`, [['N1', 'n', 5]]);
      const e = sim.requestLog()[0]!;
      assert.equal(e.method, 'POST');
      assert.equal(e.path, '/Portal/Api/organizations/my_org/lists/contacts/data/load');
      assert.deepEqual(e.query, { keyFields: 'CUSTOMER_IDENTIFIER', fields: 'CUSTOMER_IDENTIFIER,EMAIL,AGE' });
      assert.equal(e.status, 200);
      assert.equal(e.route, 'loadList');
      assert.equal(e.requestBytes, JSON.stringify([['N1', 'n', 5]]).length);
      assert.ok(e.responseBytes > 100);
      assert.ok(e.durationMs >= 0);
      assert.ok(!Number.isNaN(Date.parse(e.startedAt)));
      for (let i = 0; i < 5; i++) await c.call('GET', `/lists/contacts/segments/${i}`);
      const log = sim.requestLog();
      assert.equal(log.length, 3);
      assert.deepEqual(
        log.map((x) => x.path.at(-1)),
        ['2', '3', '4'],
      );
      sim.clearRequestLog();
      assert.equal(sim.requestLog().length, 0);
    } finally {
      await sim.close();
    }
    const quiet = await startSimulator({ port: 0, logRequests: false });
    try {
      await client(quiet).call('GET', '');
      assert.equal(quiet.requestLog().length, 0);
    } finally {
      await quiet.close();
    }
  });

  test('close() ends promptly with idle keep-alive connections', async () => {
    const sim = await startSimulator({ port: 0 });
    await client(sim).call('GET', '');
    const t = performance.now();
    await sim.close();
    assert.ok(performance.now() - t < 1000);
    await sim.close(); // idempotent
  });
});

describe('state file', () => {
  test('saved on close and on save(); loaded at start instead of the seed', async () => {
    const statePath = join(dir, 'state.json');
    const sim = await startSimulator({ port: 0, statePath, seed: SEED });
    const c = client(sim);
    await c.load('contacts', `${KEY}&${FIELDS3}`, [['N1', 'n', 5]]);
    await c.call('POST', '/lists/contacts/segments/static', { api_name: 'fresh', name: 'Fresh' });
    await c.loadSegment('contacts', 'fresh', KEY, [['CUSTOMER_IDENTIFIER'], ['N1']]);
    await c.call('POST', '/lists', { api_name: 'empty', name: 'E', type: 'Datalist' });
    await sim.save();
    const saved = JSON.parse(await readFile(statePath, 'utf8'));
    assert.equal(saved.lists.length, 2);
    assert.equal(saved.lists[0].records.length, 3);
    await c.load('contacts', `${KEY}&${FIELDS3}`, [['N2', 'n', 6]]);
    await sim.close(); // saves again

    const again = await startSimulator({ port: 0, statePath, seed: { lists: [{ api_name: 'ignored' }] } });
    try {
      assert.equal(again.hasList('my_org', 'ignored'), false);
      assert.deepEqual(
        again.listRecords('my_org', 'contacts').map((r) => [r.ID, r.CUSTOMER_IDENTIFIER]),
        [
          [1, 'S1'],
          [10, 'S10'],
          [11, 'N1'],
          [12, 'N2'],
        ],
      );
      assert.deepEqual(
        again.segmentMembers('my_org', 'contacts', 'fresh').map((r) => r.CUSTOMER_IDENTIFIER),
        ['N1'],
      );
      assert.deepEqual(
        again.segmentMembers('my_org', 'contacts', 'vip').map((r) => r.ID),
        [1, 10],
      );
      assert.deepEqual(
        again.segments('my_org', 'contacts').map((s) => s.type),
        ['Static', 'Dynamic', 'Static'],
      );
      assert.deepEqual(again.businessKey('my_org', 'contacts'), ['CUSTOMER_IDENTIFIER']);
      assert.equal(again.hasList('my_org', 'empty'), true);
      const r = await client(again).load('contacts', `${KEY}&${FIELDS3}`, [['N3', 'n', 7]]);
      assert.equal(r.json.number_of_inserted_records, 1);
      assert.equal(again.listRecords('my_org', 'contacts').at(-1)?.ID, 13);
    } finally {
      await again.close();
    }
  });

  test('save() without statePath rejects; a broken state file fails the start', async () => {
    const sim = await startSimulator({ port: 0 });
    await assert.rejects(sim.save(), /statePath/);
    await sim.close();
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"lists": [');
    await assert.rejects(startSimulator({ port: 0, statePath: broken }));
  });
});

/** Captures what simulateCommand writes to stdout/stderr while it runs in this process. */
function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => (out.push(String(chunk)), true);
  process.stderr.write = (chunk: string | Uint8Array) => (err.push(String(chunk)), true);
  return {
    out: () => out.join(''),
    err: () => err.join(''),
    restore: () => {
      process.stdout.write = o;
      process.stderr.write = e;
    },
  };
}

async function waitFor(get: () => string, re: RegExp): Promise<RegExpExecArray> {
  for (let i = 0; i < 500; i++) {
    const m = re.exec(get());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${re}`);
}

describe('simulate command', () => {
  test('in process: YAML config, prints URL/organization/key/secret, serves, stops on SIGTERM and SIGINT saving the state', async () => {
    const config = join(dir, 'sim.yml');
    await writeFile(
      config,
      [
        'organizations: [my_org, second]',
        'statePath: cli-state.json',
        'rateLimit: { limit: 100, windowMs: 60000 }',
        'seed:',
        '  lists:',
        '    - api_name: contacts',
        '      fields: [{ name: CUSTOMER_IDENTIFIER, data_type: Text, length: 20 }]',
      ].join('\n'),
    );
    const cap = capture();
    try {
      const running = simulateCommand([
        '--config',
        config,
        '--port',
        '0',
        '--key',
        'cli-key',
        '--secret',
        'cli-secret',
        '--control',
      ]);
      const m = await waitFor(cap.out, /^Selligent simulator listening on http:\/\/127\.0\.0\.1:(\d+)\n/);
      const text = cap.out();
      assert.match(text, /organization: +my_org, second/);
      assert.match(text, /API key: +cli-key/);
      assert.match(text, /API secret: +cli-secret/);
      const base = `http://127.0.0.1:${m[1]}/Portal/Api/organizations/my_org`;
      const headers = { 'X-ApiKey': 'cli-key:cli-secret', 'Content-Type': 'application/json' };
      const r = await fetch(`${base}/lists/contacts/data/load?keyFields=CUSTOMER_IDENTIFIER`, {
        method: 'POST',
        headers,
        body: '[["CUSTOMER_IDENTIFIER"],["K1"]]',
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ratelimit-limit'), '100, 100;w=60');
      assert.equal((await fetch(`http://127.0.0.1:${m[1]}/__simulator/config`)).status, 200);
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(await running, 0);
      assert.equal(process.listenerCount('SIGTERM'), 0);
      const state = JSON.parse(await readFile(join(dir, 'cli-state.json'), 'utf8'));
      assert.equal(state.lists[0].records[0].CUSTOMER_IDENTIFIER, 'K1');

      const before = cap.out().length;
      const second = simulateCommand(['--state', join(dir, 'cli-state.json'), '--port', '0']);
      const m2 = await waitFor(() => cap.out().slice(before), /listening on http:\/\/127\.0\.0\.1:(\d+)\n/);
      const count = await fetch(`http://127.0.0.1:${m2[1]}/Portal/Api/organizations/my_org/lists/contacts/records`, {
        headers: { 'X-ApiKey': 'simulator-key:simulator-secret' },
      });
      assert.deepEqual(await count.json(), { count: 1 });
      process.emit('SIGINT', 'SIGINT');
      assert.equal(await second, 0);
    } finally {
      cap.restore();
    }
  });

  test('--help exits 0; bad options and configurations exit 2', async () => {
    const badConfig = join(dir, 'bad.json');
    await writeFile(badConfig, '{"port": 1, "colour": "red"}');
    const cap = capture();
    let codes: number[];
    try {
      codes = [
        await simulateCommand(['--help']),
        await simulateCommand(['--bogus']),
        await simulateCommand(['--port', 'abc']),
        await simulateCommand(['--key', 'only']),
        await simulateCommand(['--config', badConfig]),
        await simulateCommand(['extra']),
      ];
    } finally {
      cap.restore();
    }
    assert.deepEqual(codes, [0, 2, 2, 2, 2, 2]);
    assert.match(cap.out(), /Usage: selligent-export simulate/);
    assert.match(cap.err(), /colour/);
  });

  test('as a process: first line, real SIGTERM, exit code 0', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/simulator/cli.ts').then((m) => m.simulateCommand(process.argv.slice(1))).then((code) => process.exit(code))",
        '--',
        '--port',
        '0',
      ],
      { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    for await (const chunk of child.stdout) {
      out += chunk;
      if (out.includes('\n')) break;
    }
    const m = /^Selligent simulator listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
    assert.ok(m, out);
    const r = await fetch(`http://127.0.0.1:${m[1]}/Portal/Api/organizations/my_org`, {
      headers: { 'X-ApiKey': 'simulator-key:simulator-secret' },
    });
    assert.equal(r.status, 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
