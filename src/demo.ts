/**
 * The embedded demo: an empty local Selligent simulator, and the documented multi-Segment sample
 * exported into it with List and Segment creation on. No credentials or network needed.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { runCommand } from './run.js';
import { DEV_API_KEY, DEV_API_SECRET, startSimulator } from './simulator/index.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

async function demo(): Promise<number> {
  const simulator = await startSimulator({ port: 0 });
  try {
    const sample = parse(await readFile(`${fixtures}multi_segment.settings.yml`, 'utf8')) as Record<string, unknown>;
    const settings: Record<string, unknown> = { ...sample, create_list_if_not_exists: true, create_segment_if_not_exists: true };
    process.stdout.write(`Local Selligent simulator at ${simulator.baseUrl} (organization my_org, empty)\n`);
    process.stdout.write(`Exporting ${fixtures}multi_segment.csv with:\n${stringify(settings).replace(/^/gm, '  ')}\n`);
    const outcome = await runCommand({
      input: `${fixtures}multi_segment.csv`,
      dryRun: false,
      env: {
        ...process.env,
        RESULT_SETTINGS: JSON.stringify(settings),
        SELLIGENT_BASE_URL: simulator.baseUrl,
        SELLIGENT_API_KEY: DEV_API_KEY,
        SELLIGENT_API_SECRET: DEV_API_SECRET,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
    });
    const org = String(settings.organization);
    const list = String(settings.list_api_name);
    process.stdout.write(`\nSimulator state after the run: List ${list} holds ${simulator.listRecords(org, list).length} record(s)\n`);
    for (const segment of simulator.segments(org, list)) {
      const members = simulator.segmentMembers(org, list, segment.api_name).map((record) => record.CUSTOMER_IDENTIFIER);
      process.stdout.write(`  Segment ${segment.api_name}: ${members.join(', ')}\n`);
    }
    process.stdout.write(`Report: ${outcome.reportPath}\n`);
    return outcome.exitCode;
  } finally {
    await simulator.close();
  }
}

demo().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
