/**
 * Hostile and malformed input, end to end through the built CLI: each case ends in a clear error (exit 2
 * for settings, exit 3 for input, with a code and a message naming the file, row or field) or in a
 * reported skip (the row in the rejected-rows file with its reason) - never a crash with a stack trace
 * (exit 1) and never a silent drop (the accounting balances).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  LIST,
  ORG,
  records,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';

const SETTINGS = BASE_SETTINGS;
const HEADER = 'selligent_segment,customer_identifier,email,first_name';

interface Case {
  input: string | Buffer;
  file?: string;
  settings?: Record<string, unknown>;
  /** `--schema`: [[name, type], ...] */
  schema?: Array<[string, string]>;
  seed?: Parameters<typeof seededList>[0];
  /** Settings file text instead of SETTINGS (written as is). */
  settingsText?: string;
}

interface Outcome {
  result: CliResult;
  sim: SimulatorHandle;
  input: string;
}

/** Runs one case on a fresh simulator; asserts the things every case must hold. */
async function hostile(c: Case, check: (outcome: Outcome) => void | Promise<void>): Promise<void> {
  const sim = await simulator({ seed: seededList(c.seed ?? {}) });
  try {
    const dir = tempDir();
    const input = writeInput(dir, c.file ?? 'input.csv', c.input);
    const args: string[] = [];
    if (c.schema) {
      writeFileSync(join(dir, 'schema.json'), JSON.stringify(c.schema));
      args.push('--schema', join(dir, 'schema.json'));
    }
    if (c.settingsText !== undefined) {
      writeFileSync(join(dir, 'settings.yml'), c.settingsText);
      args.push('--settings', join(dir, 'settings.yml'));
    }
    const result = await runCli({
      settings: c.settingsText === undefined ? { ...SETTINGS, ...c.settings } : undefined,
      input,
      dir,
      args,
      env: selligentEnv(sim),
    });
    const context = `${result.stdout.trim().split('\n').at(-1)}\n${result.stderr}`;
    assert.notEqual(result.code, 1, `crashed: ${context}`);
    assert.ok(result.code !== null, `killed: ${context}`);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'a stack trace was printed');
    assert.ok(result.report, 'no report');
    if (result.report.accounting) assertBalanced(result.report);
    await check({ result, sim, input });
  } finally {
    await sim.close();
  }
}

/** A clear error: its exit code and code, a message matching `message`, nothing written to Selligent. */
function refused(outcome: Outcome, exit: number, code: string, message: RegExp): void {
  const { result, sim } = outcome;
  assert.equal(result.code, exit, result.stdout);
  assert.equal(result.report!.status, 'failed');
  assert.equal(result.report!.error!.code, code);
  assert.match(result.report!.error!.message, message);
  const summary = result.stdout.trim().split('\n').at(-1)!;
  assert.match(summary, new RegExp(`^selligent-export: failed - .*error ${code} in \\w+: .*exit ${exit}, report `));
  assert.equal(writes(sim).length, 0, 'something was written');
}

/** A reported skip: each listed row in the rejected-rows file with its reason, the rest loaded. */
function skipped(outcome: Outcome, expected: Array<[row: number, code: string]>, loaded: string[]): void {
  const { result, sim } = outcome;
  assert.equal(result.code, 0, result.stdout);
  assert.deepEqual(
    result.rejected.map((entry) => [entry.row, entry.code]),
    expected,
  );
  assert.equal(result.report!.accounting!.skipped, expected.length);
  assert.deepEqual(
    records(sim)
      .map((record) => record.CUSTOMER_IDENTIFIER)
      .sort(),
    loaded.sort(),
  );
}

const lines = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

describe('hostile input', { concurrency: 3 }, () => {
  test('an empty file: exit 3 INPUT_EMPTY naming the file', () =>
    hostile({ input: '' }, (o) => refused(o, 3, 'INPUT_EMPTY', /input\.csv: the file is empty \(no header row\)/)));

  test('a header and no rows: nothing to load, succeeded with 0 rows, columns still checked', async () => {
    await hostile({ input: `${HEADER}\n` }, ({ result, sim }) => {
      assert.equal(result.code, 0, result.stdout);
      assert.equal(result.report!.status, 'succeeded');
      assert.equal(result.report!.accounting!.input_rows, 0);
      assert.match(result.stdout, /the input has a header but no rows: nothing to load/);
      assert.equal(writes(sim).length, 0);
    });
    // The header is still checked against the settings.
    await hostile({ input: 'segment,email\n' }, (o) =>
      refused(
        o,
        3,
        'INPUT_COLUMNS_MISSING',
        /no column for segment_column "selligent_segment", key field CUSTOMER_IDENTIFIER/,
      ),
    );
  });

  test('ragged rows (too few, too many values) are skipped as field_count, naming the row', () =>
    hostile(
      {
        input: lines(
          'seg_a,C1,a@example.com,Ann',
          'seg_a,C2,b@example.com',
          'seg_a,C3,c@example.com,Cy,extra',
          'seg_a,C4,d@example.com,Di',
        ),
      },
      (o) => {
        skipped(
          o,
          [
            [2, 'field_count'],
            [3, 'field_count'],
          ],
          ['C1', 'C4'],
        );
        assert.match(String(o.result.rejected[0]!.message), /has 3 value\(s\), the header has 4/);
        assert.match(String(o.result.rejected[1]!.message), /has 5 value\(s\), the header has 4/);
      },
    ));

  test('duplicate column names (also differing only in case): exit 3 INPUT_HEADER_INVALID naming both columns', () =>
    hostile({ input: 'selligent_segment,customer_identifier,email,EMAIL\nseg_a,C1,a,b\n' }, (o) =>
      refused(o, 3, 'INPUT_HEADER_INVALID', /input\.csv: bad header row: column 4 "EMAIL" repeats column 3/),
    ));

  test('an empty column name: exit 3 INPUT_HEADER_INVALID naming the column', () =>
    hostile({ input: 'selligent_segment,customer_identifier,,first_name\nseg_a,C1,a,b\n' }, (o) =>
      refused(o, 3, 'INPUT_HEADER_INVALID', /bad header row: column 3 has an empty name/),
    ));

  test('an unbalanced quote: exit 3 INPUT_MALFORMED naming the file and the cause; a stray quote inside a value is data', async () => {
    await hostile({ input: lines('seg_a,C1,"a@example.com,Ann', 'seg_a,C2,b@example.com,Bo') }, (o) =>
      refused(o, 3, 'INPUT_MALFORMED', /input\.csv: malformed CSV: .*an unbalanced quote is the usual cause/),
    );
    await hostile({ input: lines('seg_a,C1,a"b@example.com,Ann') }, ({ result, sim }) => {
      assert.equal(result.code, 0, result.stdout);
      assert.equal(records(sim)[0]!.EMAIL, 'a"b@example.com');
    });
  });

  test('invalid UTF-8: exit 3 INPUT_ENCODING naming the file and the byte offset', () => {
    const before = Buffer.from(`${HEADER}\nseg_a,C1,a@example.com,`);
    return hostile({ input: Buffer.concat([before, Buffer.from([0xc3, 0x28]), Buffer.from('\n')]) }, (o) =>
      // The bad sequence starts at 0-based offset before.length (byte before.length + 1 counting from 1).
      refused(
        o,
        3,
        'INPUT_ENCODING',
        new RegExp(`input\\.csv: not valid UTF-8 near byte (${before.length}|${before.length + 1}) `),
      ),
    );
  });

  test('a UTF-8 BOM is dropped: the first column is still the segment column', () =>
    hostile(
      { input: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines('seg_a,C1,a@example.com,Ann'))]) },
      ({ result, sim }) => {
        assert.equal(result.code, 0, result.stdout);
        assert.equal(result.report!.input.columns[0]!.column, 'selligent_segment');
        assert.deepEqual(
          sim.segmentMembers(ORG, LIST, 'seg_a').map((m) => m.CUSTOMER_IDENTIFIER),
          ['C1'],
        );
      },
    ));

  test('CRLF line ends: no carriage return reaches a value', () =>
    hostile(
      { input: `${HEADER}\r\nseg_a,C1,a@example.com,Ann\r\nseg_b,C2,b@example.com,Bo\r\n` },
      ({ result, sim }) => {
        assert.equal(result.code, 0, result.stdout);
        assert.deepEqual(
          records(sim)
            .map((r) => r.FIRST_NAME)
            .sort(),
          ['Ann', 'Bo'],
        );
        assert.deepEqual(
          sim
            .segments(ORG, LIST)
            .map((s) => s.api_name)
            .sort(),
          ['seg_a', 'seg_b'],
        );
      },
    ));

  test('a NUL byte in a value: the row is skipped as nul_byte, naming the field', () =>
    hostile({ input: lines('seg_a,C1,a@example.com,A\0nn', 'seg_a,C2,b@example.com,Bo') }, (o) => {
      skipped(o, [[1, 'nul_byte']], ['C2']);
      assert.equal(o.result.rejected[0]!.field, 'first_name');
    }));

  test('a 10 MB single field: skipped over max_field_bytes (1 MiB), the rest load; under a raised limit rejected by Selligent as too long for the field', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    await hostile({ input: lines(`seg_a,C1,a@example.com,${big}`, 'seg_a,C2,b@example.com,Bo') }, (o) => {
      skipped(o, [[1, 'malformed_row']], ['C2']);
      assert.match(String(o.result.rejected[0]!.message), /larger than 1048576 bytes \(max_field_bytes\)/);
    });
    await hostile(
      {
        input: lines(`seg_a,C1,a@example.com,${big}`, 'seg_a,C2,b@example.com,Bo'),
        settings: { max_field_bytes: 16 * 1024 * 1024 },
      },
      ({ result, sim }) => {
        assert.equal(result.code, 0, result.stdout.slice(-2000));
        assert.equal(result.report!.status, 'partial');
        assert.equal(result.report!.accounting!.rejected, 1);
        const [rejected] = result.rejected;
        assert.deepEqual(
          [rejected!.row, rejected!.code, rejected!.field],
          [1, 'MaxStringLengthExceeded', 'FIRST_NAME'],
        );
        assert.deepEqual(
          records(sim).map((r) => r.CUSTOMER_IDENTIFIER),
          ['C2'],
        );
        assert.deepEqual(
          sim.segmentMembers(ORG, LIST, 'seg_a').map((m) => m.CUSTOMER_IDENTIFIER),
          ['C2'],
        );
      },
    );
  });

  test('a gzip file cut short: exit 3 INPUT_CORRUPT naming the file', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `seg_a,C${i},c${i}@example.com,N${i}`);
    const gz = gzipSync(Buffer.from(lines(...rows)));
    return hostile({ input: gz.subarray(0, Math.floor(gz.length / 2)), file: 'part-0.csv.gz' }, (o) =>
      refused(o, 3, 'INPUT_CORRUPT', /part-0\.csv\.gz: the gzip data is damaged or cut short/),
    );
  });

  test('a gzip bomb (50 MB of one byte) with a small max_decompressed_bytes: exit 3 INPUT_TOO_LARGE, stopped early', () => {
    const bomb = gzipSync(
      Buffer.concat([
        Buffer.from(`${HEADER}\nseg_a,C1,a@example.com,`),
        Buffer.alloc(50 * 1024 * 1024, 0x41),
        Buffer.from('\n'),
      ]),
    );
    return hostile({ input: bomb, file: 'result.csv.gz', settings: { max_decompressed_bytes: 1024 * 1024 } }, (o) => {
      refused(
        o,
        3,
        'INPUT_TOO_LARGE',
        /result\.csv\.gz: more than 1048576 bytes after decompression \(max_decompressed_bytes\)/,
      );
      assert.ok(o.result.report!.input.bytes <= bomb.length);
    });
  });

  test('numbers that do not fit a long (schema says bigint): skipped as type_mismatch naming the field and the value', () =>
    hostile(
      {
        input:
          'selligent_segment,customer_identifier,score\nseg_a,C1,922337203685477580\nseg_a,C2,9223372036854775808\nseg_a,C3,-99999999999999999999\nseg_a,C4,12.5\n',
        schema: [
          ['selligent_segment', 'varchar'],
          ['customer_identifier', 'varchar'],
          ['score', 'bigint'],
        ],
        seed: { fields: [{ name: 'SCORE', data_type: 'Long' }] },
      },
      (o) => {
        skipped(
          o,
          [
            [2, 'type_mismatch'],
            [3, 'type_mismatch'],
            [4, 'type_mismatch'],
          ],
          ['C1'],
        );
        assert.equal(o.result.rejected[0]!.field, 'score');
        assert.match(
          String(o.result.rejected[0]!.message),
          /SCORE \(long\): "9223372036854775808" does not fit a 64-bit long/,
        );
        assert.match(String(o.result.rejected[2]!.message), /"12\.5" is not a whole number/);
      },
    ));

  test('NaN and Infinity for a double column: skipped as type_mismatch', () =>
    hostile(
      {
        input:
          'selligent_segment,customer_identifier,amount\nseg_a,C1,1.5\nseg_a,C2,NaN\nseg_a,C3,Infinity\nseg_a,C4,-inf\nseg_a,C5,1e999\n',
        schema: [
          ['selligent_segment', 'varchar'],
          ['customer_identifier', 'varchar'],
          ['amount', 'double'],
        ],
        seed: { fields: [{ name: 'AMOUNT', data_type: 'Float' }] },
      },
      (o) => {
        skipped(
          o,
          [
            [2, 'type_mismatch'],
            [3, 'type_mismatch'],
            [4, 'type_mismatch'],
            [5, 'type_mismatch'],
          ],
          ['C1'],
        );
        assert.match(String(o.result.rejected[0]!.message), /AMOUNT \(double\): NaN is not a finite number/);
        assert.equal(records(o.sim)[0]!.AMOUNT, 1.5);
      },
    ));

  test('timestamps in other forms: zones and dates are converted to ISO-8601 UTC, unreadable forms are skipped', () =>
    hostile(
      {
        input:
          [
            'selligent_segment,customer_identifier,seen_at',
            'seg_a,C1,2026-05-01 10:15:00',
            'seg_a,C2,2026-05-01T10:15:00+09:00',
            'seg_a,C3,2026/05/01 10:15',
            'seg_a,C4,05/01/2026',
            'seg_a,C5,1714557600',
            'seg_a,C6,2026-05-01',
            'seg_a,C7,2026-02-30 00:00:00',
            'seg_a,C8,2026-05-01 10:15:00.123 UTC',
          ].join('\n') + '\n',
        schema: [
          ['selligent_segment', 'varchar'],
          ['customer_identifier', 'varchar'],
          ['seen_at', 'timestamp'],
        ],
        seed: { fields: [{ name: 'SEEN_AT', data_type: 'DateTime' }] },
      },
      (o) => {
        skipped(
          o,
          [
            [3, 'type_mismatch'],
            [4, 'type_mismatch'],
            [5, 'type_mismatch'],
            [7, 'type_mismatch'],
          ],
          ['C1', 'C2', 'C6', 'C8'],
        );
        assert.match(
          String(o.result.rejected[0]!.message),
          /SEEN_AT \(timestamp\): "2026\/05\/01 10:15" is not a timestamp/,
        );
        const seen = Object.fromEntries(records(o.sim).map((r) => [r.CUSTOMER_IDENTIFIER, r.SEEN_AT]));
        assert.deepEqual(seen, {
          C1: '2026-05-01T10:15:00.000Z',
          C2: '2026-05-01T01:15:00.000Z',
          C6: '2026-05-01T00:00:00.000Z',
          C8: '2026-05-01T10:15:00.123Z',
        });
      },
    ));

  test('Segment names with spaces, slashes, ".." or escapes are skipped as segment_invalid and never reach a URL', () =>
    hostile(
      {
        input: lines(
          'seg a,C1,a@example.com,A',
          'seg/b,C2,b@example.com,B',
          '..,C3,c@example.com,C',
          '../lists,C4,d@example.com,D',
          'seg%2Fc,C5,e@example.com,E',
          'ok_seg,C6,f@example.com,F',
        ),
      },
      (o) => {
        skipped(
          o,
          [1, 2, 3, 4, 5].map((row) => [row, 'segment_invalid'] as [number, string]),
          ['C6'],
        );
        assert.match(String(o.result.rejected[1]!.message), /"seg\/b" is not a Segment api_name/);
        for (const entry of o.sim.requestLog()) {
          assert.doesNotMatch(entry.path, /seg a|seg%20a|seg\/b|seg%2Fb|\/\.\.|%2E%2E|seg%2Fc|seg%252Fc/i, entry.path);
          assert.ok(entry.path.startsWith(`/Portal/Api/organizations/${ORG}`), entry.path);
        }
        assert.deepEqual(
          o.sim.segments(ORG, LIST).map((s) => s.api_name),
          ['ok_seg'],
        );
      },
    ));

  const pathNames: Array<[setting: string, value: string]> = [
    ['organization', '..'],
    ['organization', '../../admin'],
    ['organization', 'my_org/lists/other_list'],
    ['organization', 'my_org%2F..'],
    ['organization', 'my_org?x=1'],
    ['list_api_name', '..'],
    ['list_api_name', 'master_contacts/segments/vip'],
    ['list_api_name', 'a#b'],
    ['list_api_name', 'master contacts'],
  ];
  test('organization and List names that would change the URL path are refused by settings validation (exit 2), nothing sent', async () => {
    for (const [setting, value] of pathNames) {
      await hostile({ input: lines('seg_a,C1,a@example.com,A'), settings: { [setting]: value } }, (o) => {
        refused(o, 2, 'SETTINGS_INVALID', new RegExp(`${setting}: must be `));
        assert.ok(
          o.result.report!.error!.message.includes(`got ${JSON.stringify(value)}`),
          o.result.report!.error!.message,
        );
        assert.equal(o.result.report!.error!.stage, 'settings');
        assert.equal(o.sim.requestLog().length, 0, `${setting} ${value}`);
      });
    }
  });

  test('a settings file that is not YAML: exit 2 SETTINGS_INVALID naming the file and the position', async () => {
    await hostile(
      { input: lines('seg_a,C1,a@example.com,A'), settingsText: '{{{ organization: [my_org\n  - : :\n' },
      (o) => refused(o, 2, 'SETTINGS_INVALID', /settings\.yml: not valid YAML or JSON at line 1, column \d+/),
    );
    await hostile(
      { input: lines('seg_a,C1,a@example.com,A'), settingsText: '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR' },
      (o) => refused(o, 2, 'SETTINGS_INVALID', /settings\.yml: expected a map of result_settings/),
    );
  });

  test('YAML anchors and aliases abuse ("billion laughs"): refused quickly, exit 2', () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const name = String.fromCharCode(97 + i);
      laughs.push(
        `${name}: &${name} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    }
    const text = `${stringify(SETTINGS)}${laughs.join('\n')}\n`;
    const started = performance.now();
    return hostile({ input: lines('seg_a,C1,a@example.com,A'), settingsText: text }, (o) => {
      refused(o, 2, 'SETTINGS_INVALID', /settings\.yml: cannot be read as settings: Excessive alias count/);
      assert.ok(performance.now() - started < 30_000);
    });
  });
});
