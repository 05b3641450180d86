/**
 * Replacing an existing Segment, both strategies side by side: a Segment of N members, an input whose
 * keys are the members shifted by a churn fraction F (F*N leave, F*N join). Runs the built CLI
 * (`npm run build` first) under `/usr/bin/time -v` against an in-process simulator and prints, per
 * strategy, the requests by route, wall time, peak RSS and the lowest member count seen.
 *
 *   node --import tsx scripts/bench-replace.ts [N=200000] [F=0.05]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_API_KEY, DEV_API_SECRET, startSimulator } from '../src/simulator/index.ts';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const LIST = 'master_contacts';
const members = Number(process.argv[2] ?? 200_000);
const churnShare = Number(process.argv[3] ?? 0.05);
const churn = Math.round(members * churnShare);
const id = (i: number) => `C${String(i).padStart(8, '0')}`;

const dir = mkdtempSync(join(tmpdir(), 'bench-replace-'));
const input = join(dir, 'input.csv');
const out = createWriteStream(input);
out.write('selligent_segment,customer_identifier,email\n');
for (let i = churn; i < members + churn; i++) out.write(`seg_a,${id(i)},${id(i).toLowerCase()}@example.com\n`);
await new Promise<void>((resolve) => out.end(() => resolve()));

for (const strategy of ['clear_then_load', 'load_then_remove']) {
  const records = Array.from({ length: members + churn }, (_, i) => ({
    ID: i + 1,
    CUSTOMER_IDENTIFIER: id(i),
    EMAIL: `${id(i).toLowerCase()}@example.com`,
  }));
  const sim = await startSimulator({
    port: 0,
    rateLimit: false,
    seed: {
      lists: [
        {
          api_name: LIST,
          fields: [
            { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
            { name: 'EMAIL', data_type: 'Text', length: 200 },
          ],
          records,
          segments: [{ api_name: 'seg_a', members: records.slice(0, members).map((r) => r.ID) }],
          business_key: ['CUSTOMER_IDENTIFIER'],
        },
      ],
    },
  });
  try {
    sim.resetWatermarks();
    const settings = join(dir, `${strategy}.json`);
    const report = join(dir, `${strategy}-report.json`);
    writeFileSync(
      settings,
      JSON.stringify({
        result_settings: {
          organization: 'my_org',
          list_api_name: LIST,
          segment_column: 'selligent_segment',
          key_fields: 'CUSTOMER_IDENTIFIER',
          segment_data_import_option: 'replace',
          segment_replace_strategy: strategy,
        },
      }),
    );
    const started = Date.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        '/usr/bin/time',
        ['-v', process.execPath, CLI, 'run', '--settings', settings, '--input', input, '--report', report],
        {
          env: {
            PATH: process.env.PATH,
            SELLIGENT_BASE_URL: sim.baseUrl,
            SELLIGENT_API_KEY: DEV_API_KEY,
            SELLIGENT_API_SECRET: DEV_API_SECRET,
            LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let text = '';
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('close', (exit) => resolve({ code: exit, stderr: text }));
    });
    const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 0);
    const result = JSON.parse(readFileSync(report, 'utf8')) as {
      http: { requests: number; by_route: Record<string, number> };
      segments: Array<{ replace?: unknown }>;
    };
    console.log(
      JSON.stringify({
        members,
        churn: churnShare,
        strategy,
        exit: code,
        wallSeconds: (Date.now() - started) / 1000,
        peakRssMb: Math.round(rssKb / 1024),
        requests: result.http.requests,
        byRoute: result.http.by_route,
        replace: result.segments[0]?.replace,
        lowestMembers: sim.watermarks()[LIST]?.seg_a?.min,
      }),
    );
  } finally {
    await sim.close();
  }
}
rmSync(dir, { recursive: true, force: true });
