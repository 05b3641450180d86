/**
 * Fault injection: rules matched against each API request by route name, evaluated in the order added.
 * Every rule counts the calls that match its route; the first rule whose conditions hold fires.
 */

import { ROUTE_NAMES, type FaultControls, type FaultRule } from './types.js';

const ROUTES = new Set<string>(ROUTE_NAMES);
export const DEFAULT_ERROR_STATUSES = [500, 502, 503, 504];

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  fired: number;
  errorRate: boolean;
}

export class FaultValidationError extends Error {}

function checkStatus(s: unknown, what: string): void {
  // 2xx is allowed so a rule can answer a success status with a failure envelope (e.g. 200 + "Failed").
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 200 || s > 599) {
    throw new FaultValidationError(`${what} must be an HTTP status between 200 and 599`);
  }
}

function checkNonNegative(v: unknown, what: string): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new FaultValidationError(`${what} must be a non-negative number`);
  }
}

/** Validates and copies a rule (also used for rules arriving over HTTP). */
export function normalizeRule(input: unknown): FaultRule {
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw new FaultValidationError('a fault rule must be an object');
  const r = input as Record<string, unknown>;
  const known = new Set([
    'route',
    'status',
    'times',
    'afterCalls',
    'dropConnection',
    'delayMs',
    'headers',
    'body',
    'probability',
    'statuses',
  ]);
  for (const k of Object.keys(r)) if (!known.has(k)) throw new FaultValidationError(`unknown fault rule property ${k}`);
  if (r.route !== undefined && r.route !== '*' && !(typeof r.route === 'string' && ROUTES.has(r.route))) {
    throw new FaultValidationError(`route must be '*' or one of ${[...ROUTES].join(', ')}`);
  }
  if (r.status !== undefined) checkStatus(r.status, 'status');
  if (r.statuses !== undefined) {
    if (!Array.isArray(r.statuses) || r.statuses.length === 0)
      throw new FaultValidationError('statuses must be a non-empty array');
    for (const s of r.statuses) checkStatus(s, 'statuses[]');
  }
  checkNonNegative(r.times, 'times');
  checkNonNegative(r.afterCalls, 'afterCalls');
  checkNonNegative(r.delayMs, 'delayMs');
  if (
    r.probability !== undefined &&
    (typeof r.probability !== 'number' || !(r.probability >= 0 && r.probability <= 1))
  ) {
    throw new FaultValidationError('probability must be between 0 and 1');
  }
  if (r.dropConnection !== undefined && typeof r.dropConnection !== 'boolean')
    throw new FaultValidationError('dropConnection must be a boolean');
  if (r.body !== undefined && typeof r.body !== 'string') throw new FaultValidationError('body must be a string');
  if (r.headers !== undefined) {
    if (!r.headers || typeof r.headers !== 'object' || Array.isArray(r.headers))
      throw new FaultValidationError('headers must be an object');
    for (const v of Object.values(r.headers))
      if (typeof v !== 'string') throw new FaultValidationError('header values must be strings');
  }
  if (r.status === undefined && r.statuses === undefined && !r.dropConnection && r.delayMs === undefined) {
    throw new FaultValidationError('a fault rule needs status, statuses, dropConnection or delayMs');
  }
  const out: FaultRule = {};
  for (const k of known) if (r[k] !== undefined) (out as Record<string, unknown>)[k] = structuredClone(r[k]);
  return out;
}

export class FaultController implements FaultControls {
  private rules: ActiveRule[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(rule: FaultRule): void {
    this.rules.push({ rule: normalizeRule(rule), seen: 0, fired: 0, errorRate: false });
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((r) => structuredClone(r.rule));
  }

  errorRate(probability: number, statuses: number[] = DEFAULT_ERROR_STATUSES): void {
    this.rules = this.rules.filter((r) => !r.errorRate);
    if (probability > 0) {
      const rule = normalizeRule({ route: '*', probability, statuses });
      this.rules.push({ rule, seen: 0, fired: 0, errorRate: true });
    }
  }

  /** Decides whether a fault applies to this call of `route`; returns the rule to apply (status resolved). */
  match(route: string): FaultRule | undefined {
    let chosen: FaultRule | undefined;
    for (const a of this.rules) {
      const r = a.rule;
      if (r.route !== undefined && r.route !== '*' && r.route !== route) continue;
      a.seen++;
      if (chosen) continue;
      if (r.afterCalls !== undefined && a.seen <= r.afterCalls) continue;
      if (r.times !== undefined && a.fired >= r.times) continue;
      if (r.probability !== undefined && this.random() >= r.probability) continue;
      a.fired++;
      chosen = { ...r };
      if (r.statuses && r.statuses.length > 0) {
        chosen.status = r.statuses[Math.floor(this.random() * r.statuses.length)] as FaultRule['status'];
      }
    }
    // Rules that fired their `times` are done.
    this.rules = this.rules.filter((a) => a.rule.times === undefined || a.fired < a.rule.times);
    return chosen;
  }
}
