/**
 * The `/__simulator/*` routes: state, request log, faults, variants, settings, watermarks, seed, reset,
 * save. They are not part of the vendor's API: no credentials, not logged, off unless enabled. With only
 * the read-only views enabled, the GET routes answer and every other route is refused.
 */

import { FaultValidationError, normalizeRule } from './faults.js';
import { ReplyError, type Reply } from './http-util.js';
import { SimulatorOptionsError } from './options.js';
import { snapshot } from './persist.js';
import type { ParsedQuery } from './router.js';
import { SeedError, type Store } from './state.js';
import type { SeedState, SimulatorHandle } from './types.js';

/** What the control routes act on: the simulator's handle and its state. */
export interface ControlTarget extends SimulatorHandle {
  readonly store: Store;
  readonly statePath: string | undefined;
  effectiveConfig(): Record<string, unknown>;
}

export interface ControlRequest {
  method: string;
  /** The path below /__simulator/, lower case, without the leading slash. */
  path: string;
  query: ParsedQuery;
  /** The JSON body, or undefined when empty. */
  body(): Promise<unknown>;
}

/** The routes every mode serves: they change nothing. */
const READ_ONLY = new Set(['GET state', 'GET requests', 'GET faults', 'GET config', 'GET watermarks', 'GET variants']);

export async function controlReply(sim: ControlTarget, req: ControlRequest, readOnly: boolean): Promise<Reply> {
  const route = `${req.method} ${req.path}`;
  if (readOnly && !READ_ONLY.has(route)) {
    return {
      status: 404,
      json: { error: `${req.method} /__simulator/${req.path} needs the control routes (simulate --control)` },
    };
  }
  try {
    const reply = await answer(sim, route, req);
    if (reply) return reply;
  } catch (e) {
    if (e instanceof ReplyError) return e.reply;
    if (
      e instanceof FaultValidationError ||
      e instanceof SeedError ||
      e instanceof SimulatorOptionsError ||
      e instanceof Error
    )
      return bad(e.message);
    throw e;
  }
  return { status: 404, json: { error: `unknown control route ${req.method} /__simulator/${req.path}` } };
}

function bad(message: string): Reply {
  return { status: 400, json: { error: message } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

async function answer(sim: ControlTarget, route: string, req: ControlRequest): Promise<Reply | undefined> {
  const organization = req.query.byLower.get('organization');
  switch (route) {
    case 'GET state':
      return { status: 200, json: snapshot(sim.store) };
    case 'POST seed':
      sim.seed((await req.body()) as SeedState);
      return { status: 200, json: { ok: true } };
    case 'POST reset':
      sim.reset();
      return { status: 200, json: { ok: true } };
    case 'POST save':
      await sim.save();
      return { status: 200, json: { ok: true, statePath: sim.statePath } };
    case 'GET requests': {
      let entries = sim.requestLog();
      const only = req.query.byLower.get('route');
      if (only) entries = entries.filter((e) => e.route === only);
      return { status: 200, json: { requests: entries } };
    }
    case 'DELETE requests':
      sim.clearRequestLog();
      return { status: 200, json: { ok: true } };
    case 'GET faults':
      return { status: 200, json: { faults: sim.faults.list() } };
    case 'POST faults': {
      const b = await req.body();
      const rules = (Array.isArray(b) ? b : [b]).map(normalizeRule);
      for (const r of rules) sim.faults.add(r);
      return { status: 200, json: { faults: sim.faults.list() } };
    }
    case 'DELETE faults':
    case 'POST faults/clear':
      sim.faults.clear();
      return { status: 200, json: { faults: [] } };
    case 'POST faults/error-rate': {
      const b = await req.body();
      if (!isObject(b) || typeof b.probability !== 'number') return bad('probability is required');
      if (b.statuses !== undefined && !Array.isArray(b.statuses)) return bad('statuses must be an array');
      sim.faults.errorRate(b.probability, b.statuses as number[] | undefined);
      return { status: 200, json: { faults: sim.faults.list() } };
    }
    case 'GET config':
      return { status: 200, json: sim.effectiveConfig() };
    case 'POST config': {
      const b = await req.body();
      if (!isObject(b)) return bad('the body must be an object');
      sim.configure(b);
      return { status: 200, json: sim.effectiveConfig() };
    }
    case 'GET watermarks':
      return { status: 200, json: sim.watermarks(organization) };
    case 'POST watermarks/reset':
      sim.resetWatermarks();
      return { status: 200, json: sim.watermarks(organization) };
    case 'GET variants':
      return { status: 200, json: sim.variants() };
    case 'PUT variants':
    case 'POST variants': {
      const b = await req.body();
      if (!isObject(b)) return bad('the body must be an object of variant switches');
      return { status: 200, json: sim.setVariants(b) };
    }
  }
  return undefined;
}
