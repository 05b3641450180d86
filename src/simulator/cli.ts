/**
 * `selligent-export simulate`: runs the local Selligent API simulator until SIGINT, SIGTERM or SIGHUP.
 * Exit codes: 0 stopped by a signal, 2 bad options or configuration (the port in use included), 1 the
 * state could not be saved or the simulator failed in an unexpected way.
 */

import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_ORGANIZATION,
  DEFAULT_PORT,
  DEV_API_KEY,
  DEV_API_SECRET,
  PortInUseError,
  SimulatorOptionsError,
  startSimulator,
  type SimulatorHandle,
} from './index.js';
import { parseSimulatorOptions } from './options.js';
import { SeedError } from './state.js';
import type { SimulatorOptions } from './types.js';

export const SIMULATE_USAGE = `Usage: selligent-export simulate [options]

Starts a local simulator of the Selligent (Marigold Engage) V1 REST API and runs until Ctrl+C.

Options:
  --port N             port to listen on (default ${DEFAULT_PORT}; 0 = any free port)
  --host HOST          address to bind (default 127.0.0.1, loopback only)
  --organization NAME  organization to create; repeatable (default ${DEFAULT_ORGANIZATION})
  --key KEY            API key to accept (default ${DEV_API_KEY})
  --secret SECRET      API secret to accept (default ${DEV_API_SECRET})
  --state FILE         load state from FILE at start (when it exists) and save it there on exit
  --config FILE        JSON or YAML file with simulator options (see docs/simulator.md)
  --control            enable every /__simulator/ control route (seed, reset, faults, config, ...);
                       without it only the read-only ones answer (GET state, requests, watermarks)
  --latency-ms N       add N ms of latency to every API answer
  --help               show this help

The first line printed is "Selligent simulator listening on http://HOST:PORT". What has arrived (Lists,
records, Segment members): curl -s http://HOST:PORT/__simulator/state

Exit codes: 0 stopped by Ctrl+C, SIGTERM or SIGHUP; 2 a bad option or configuration, or the port in use;
1 the state file could not be read or saved.
`;

class UsageError extends Error {}

async function readConfig(file: string): Promise<SimulatorOptions> {
  const text = await readFile(file, 'utf8');
  const ext = extname(file).toLowerCase();
  let value: unknown;
  if (ext === '.yml' || ext === '.yaml') {
    const YAML = await import('yaml');
    value = YAML.parse(text);
  } else {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${file}: not valid JSON (${(e as Error).message}); use a .yml or .yaml name for YAML`);
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`${file}: the configuration must be an object`);
  let options: SimulatorOptions;
  try {
    options = parseSimulatorOptions(value);
  } catch (e) {
    if (e instanceof SimulatorOptionsError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
  // A relative statePath is relative to the configuration file.
  if (typeof options.statePath === 'string') options.statePath = resolve(dirname(file), options.statePath);
  return options;
}

function intOption(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

export async function simulateCommand(argv: string[]): Promise<number> {
  let options: SimulatorOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        organization: { type: 'string', multiple: true },
        key: { type: 'string' },
        secret: { type: 'string' },
        state: { type: 'string' },
        config: { type: 'string' },
        control: { type: 'boolean' },
        'latency-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(SIMULATE_USAGE);
      return 0;
    }
    options = values.config ? await readConfig(values.config) : {};
    if (values.port !== undefined) {
      options.port = intOption(values.port, 'port');
      if (options.port > 65535) throw new UsageError('--port must be at most 65535');
    }
    if (values.host !== undefined) options.host = values.host;
    if (values.organization?.length) options.organizations = values.organization;
    if ((values.key === undefined) !== (values.secret === undefined))
      throw new UsageError('--key and --secret go together');
    if (values.key !== undefined && values.secret !== undefined) {
      if (values.key === '' || values.key.includes(':'))
        throw new UsageError('--key must be non-empty and must not contain ":"');
      options.credentials = [{ key: values.key, secret: values.secret }];
    }
    if (values.state !== undefined) options.statePath = resolve(values.state);
    if (values.control) options.enableControlRoutes = true;
    // A person running the simulator looks at what arrived; the library keeps every control route off.
    options.inspectRoutes ??= true;
    if (values['latency-ms'] !== undefined) options.latencyMs = intOption(values['latency-ms'], 'latency-ms');
  } catch (e) {
    process.stderr.write(`selligent-export simulate: ${(e as Error).message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }

  let sim: SimulatorHandle;
  try {
    sim = await startSimulator(options);
  } catch (e) {
    return startFailure(e, options);
  }

  const host = options.host ?? '127.0.0.1';
  const cred = options.credentials?.[0] ?? { key: DEV_API_KEY, secret: DEV_API_SECRET };
  const orgs = options.organizations?.length ? options.organizations : [DEFAULT_ORGANIZATION];
  const lines = [
    `Selligent simulator listening on http://${host.includes(':') ? `[${host}]` : host}:${sim.port}`,
    `base URL:      ${sim.baseUrl}`,
    `organization:  ${orgs.join(', ')}`,
    `API key:       ${cred.key}`,
    `API secret:    ${cred.secret}`,
    `export SELLIGENT_BASE_URL=${sim.baseUrl} SELLIGENT_API_KEY=${cred.key} SELLIGENT_API_SECRET=${cred.secret}`,
  ];
  const lists = orgs.flatMap((org) => sim.lists(org).map((list) => (orgs.length > 1 ? `${org}/${list}` : list)));
  if (lists.length) lines.push(`lists:         ${lists.join(', ')}`);
  if (options.enableControlRoutes)
    lines.push(`control routes: ${sim.baseUrl}/__simulator/ (state, requests, faults, config, reset)`);
  if (options.enableControlRoutes || options.inspectRoutes) {
    lines.push(`what arrived:  curl -s ${sim.baseUrl}/__simulator/state`);
    lines.push(`requests:      curl -s ${sim.baseUrl}/__simulator/requests`);
  }
  if (options.statePath) lines.push(`state file:    ${options.statePath}`);
  lines.push('Press Ctrl+C to stop.');

  // The handlers go in before the first line is out: whoever waits for that line may signal at once.
  const stopped = new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      for (const s of STOP_SIGNALS) process.off(s, stop);
      sim.close().then(
        () => {
          process.stderr.write(
            `Simulator stopped (${signal})${options.statePath ? `; state saved to ${options.statePath}` : ''}\n`,
          );
          resolveExit(0);
        },
        (e: unknown) => {
          process.stderr.write(`Simulator stopped (${signal}); saving the state failed: ${(e as Error).message}\n`);
          resolveExit(1);
        },
      );
    };
    for (const s of STOP_SIGNALS) process.on(s, stop);
  });
  process.stdout.write(lines.join('\n') + '\n');
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    process.stderr.write(
      `warning: bound to ${host}; the simulator accepts its well-known credentials, and shows its state, to anyone who can reach it\n`,
    );
  }
  return stopped;
}

/** A closed terminal (SIGHUP) stops the simulator like Ctrl+C, so it never keeps its port after its session. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function startFailure(e: unknown, options: SimulatorOptions): number {
  const prefix = 'selligent-export simulate: cannot start the simulator';
  if (e instanceof PortInUseError) {
    process.stderr.write(
      `${prefix}: port ${e.port} on ${e.host} is already in use (another simulator may still be running; ` +
        `stop it, or choose another port with --port N, or --port 0 for any free port)\n`,
    );
    return 2;
  }
  if (e instanceof SimulatorOptionsError || e instanceof SeedError) {
    process.stderr.write(`${prefix}: ${e.message}\n`);
    return 2;
  }
  const state = options.statePath ? ` (state file ${options.statePath})` : '';
  process.stderr.write(`${prefix}${state}: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
}
