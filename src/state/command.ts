import { parseArgs } from 'node:util';
import { ConfigError, ExitCode } from '../errors.js';
import { TOOL_NAME } from '../version.js';
import { openStateStore } from './open.js';
import { readState } from './reader.js';
import { formatStateSummary, stateSummaryJson } from './show.js';

export const STATE_HELP = `Usage: ${TOOL_NAME} state show URI [--json]

Shows a changes-only sync state: identity, generation, rows, members per Segment, size.
URI is s3://bucket/prefix/ or a local directory (the state_uri of the export).
Object storage is reached with the same environment as the input (AWS_REGION, AWS_ENDPOINT_URL_S3, ...).

Options:
  --json       the facts as JSON on stdout.
  -h, --help   this help.
`;

/** `state show URI`: reads the pointer and the manifest (not the pieces) and prints them. */
export async function stateCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    process.stderr.write(`${TOOL_NAME} state: ${(error as Error).message}\n\n${STATE_HELP}`);
    return ExitCode.config;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(STATE_HELP);
    return ExitCode.ok;
  }
  const [action, uri, ...extra] = positionals;
  if (action !== 'show' || uri === undefined || extra.length > 0) {
    process.stderr.write(`${TOOL_NAME} state: expected "state show URI"\n\n${STATE_HELP}`);
    return ExitCode.config;
  }
  const store = await openStateStore(uri, { env });
  try {
    const state = await readState(store);
    if (!state)
      throw new ConfigError(
        'STATE_NOT_FOUND',
        `state ${store.location}: no state here (no CURRENT.json); a changes run writes one`,
        { stage: 'settings' },
      );
    process.stdout.write(
      values.json
        ? `${JSON.stringify(stateSummaryJson(store.location, state.manifest, state.resyncRequired), null, 2)}\n`
        : formatStateSummary(store.location, state.manifest, state.resyncRequired),
    );
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}
