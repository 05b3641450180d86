/**
 * `npm run demo [-- --s3]`: the exporter end to end with nothing but this code. A local Selligent
 * simulator (a List with one customer), the shipped sample exported into it, then what a person looks
 * at afterwards: the log, the report, the simulator's state and the rows file. With `--s3` the
 * sample is read from a local S3 server (s3rver) the demo starts and stops.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { renderReport } from '../report/render.js';
import { countRowsFile } from '../report/rows-file-counts.js';
import { summaryLine } from '../report/summary.js';
import { runCommand } from '../run.js';
import { DEV_API_KEY, DEV_API_SECRET, startSimulator } from '../simulator/index.js';
import { startLocalS3, type LocalS3 } from './local-s3.js';
import {
  DEMO_CSV,
  DEMO_KEY_FIELD,
  DEMO_LIST,
  DEMO_ORGANIZATION,
  DEMO_SEED,
  DEMO_SETTINGS,
  FIRST_NAME_LENGTH,
} from './sample.js';
import { inputText, rowsFileText, stateText, type SimulatorState } from './show.js';

const USAGE = `Usage: npm run demo [-- --s3]

  --s3     read the sample from a local S3 server (s3rver, started and stopped by the demo)
  --help   show this help

LOG_LEVEL and LOG_FORMAT set the exporter's log (default here: info, pretty).
`;

const S3_BUCKET = 'demo-results';
const S3_KEY = 'exports/demo/result_000.csv';

function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

function section(title: string): void {
  print(`\n== ${title} ${'='.repeat(Math.max(0, 96 - title.length))}`);
}

async function demo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { s3: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dir = await mkdtemp(join(tmpdir(), 'selligent-export-demo-'));
  const simulator = await startSimulator({ port: 0, seed: DEMO_SEED, enableControlRoutes: true });
  let s3: LocalS3 | undefined;
  try {
    section('Selligent (local simulator)');
    print(`${simulator.baseUrl}, organization ${DEMO_ORGANIZATION}, credentials ${DEV_API_KEY} / ${DEV_API_SECRET}`);
    print(
      `List ${DEMO_LIST} exists with one customer (C101, in Segment vip_customers); its FIRST_NAME field holds ${FIRST_NAME_LENGTH} characters.`,
    );

    let input = join(dir, 'result_000.csv');
    await writeFile(input, DEMO_CSV);
    if (values.s3) {
      s3 = await startLocalS3(join(dir, 's3rver'), S3_BUCKET);
      await s3.put(S3_KEY, DEMO_CSV);
      input = `s3://${S3_BUCKET}/${S3_KEY}`;
      print(`Local S3 (s3rver) at ${s3.endpoint}: the sample uploaded to ${input}`);
    }

    section(`Input: ${input}`);
    print(inputText(DEMO_CSV));
    section('Settings (result_settings)');
    print(stringify(DEMO_SETTINGS).trimEnd().replace(/^/gm, '  '));

    section('Log');
    const outcome = await runCommand({
      input,
      dryRun: false,
      reportPath: join(dir, 'report.json'),
      printSummary: false,
      env: {
        ...process.env,
        ...s3?.env,
        RESULT_SETTINGS: JSON.stringify(DEMO_SETTINGS),
        SELLIGENT_BASE_URL: simulator.baseUrl,
        SELLIGENT_API_KEY: DEV_API_KEY,
        SELLIGENT_API_SECRET: DEV_API_SECRET,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
      },
    });

    const rowsFile = outcome.report.rejected_rows.file;
    const rowsText = rowsFile ? await readFile(rowsFile, 'utf8').catch(() => null) : null;
    section('Report');
    print(summaryLine(outcome.report, outcome.reportPath));
    print();
    print(renderReport(outcome.report, rowsText === null ? undefined : countRowsFile(rowsText)).trimEnd());
    section('Simulator state after the run (GET /__simulator/state)');
    const state = (await (await fetch(`${simulator.baseUrl}/__simulator/state`)).json()) as SimulatorState;
    print(stateText(state, DEMO_LIST, DEMO_KEY_FIELD));
    section('Rows file (every input row not loaded, with its fate)');
    print(rowsFileText(rowsFile, rowsText));
    print(`\nThe report, the rows file and the input stay in ${dir}`);
    return outcome.exitCode;
  } finally {
    await s3?.close();
    await simulator.close();
  }
}

demo(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
