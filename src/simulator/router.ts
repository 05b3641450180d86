/**
 * Path and query parsing. The raw path is split on '/' first and each segment is then URL-decoded, so an
 * encoded '/' (%2F) inside a name never splits the path. Literal parts and query parameter names match
 * case-insensitively.
 */

import type { RouteName } from './types.js';

export interface RouteMatch {
  kind: 'api';
  /** Route name when the method is allowed on this path, else null (405). */
  route: RouteName | null;
  allow: string[];
  org: string;
  list?: string;
  segment?: string;
}

export type PathMatch =
  RouteMatch | { kind: 'control'; parts: string[] } | { kind: 'unknown' } | { kind: 'badEncoding' };

export interface ParsedQuery {
  /** Lower-case name -> first value. */
  byLower: Map<string, string>;
  /** As sent, for the request log. */
  raw: Record<string, string>;
}

export function parseQuery(search: string): ParsedQuery {
  const byLower = new Map<string, string>();
  const raw: Record<string, string> = {};
  if (search) {
    for (const [k, v] of new URLSearchParams(search)) {
      const lower = k.toLowerCase();
      if (!byLower.has(lower)) byLower.set(lower, v);
      if (!(k in raw)) raw[k] = v;
    }
  }
  return { byLower, raw };
}

function decode(parts: string[]): string[] | null {
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return null;
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Table = Partial<Record<Method, RouteName>>;

function pick(method: string, table: Table, base: Omit<RouteMatch, 'route' | 'allow' | 'kind'>): RouteMatch {
  const allow = Object.keys(table);
  const route = (table as Record<string, RouteName | undefined>)[method] ?? null;
  return { kind: 'api', route, allow, ...base };
}

export function matchPath(method: string, rawPath: string): PathMatch {
  const rawParts = rawPath.split('/');
  // A leading '' (absolute path); tolerate one trailing slash.
  if (rawParts.length > 1 && rawParts[rawParts.length - 1] === '') rawParts.pop();
  const parts = decode(rawParts.slice(1));
  if (!parts) return { kind: 'badEncoding' };
  const lower = parts.map((p) => p.toLowerCase());

  if (lower[0] === '__simulator') return { kind: 'control', parts: lower.slice(1) };
  if (lower[0] === 'portal' && lower[1] === 'api' && lower[2] === 'status' && parts.length === 3)
    return pick(method, { GET: 'status' }, { org: '' });
  if (lower[0] !== 'portal' || lower[1] !== 'api' || lower[2] !== 'organizations' || parts.length < 4)
    return { kind: 'unknown' };
  const org = parts[3];
  if (!org) return { kind: 'unknown' };
  const rest = parts.slice(4);
  const lrest = lower.slice(4);
  if (rest.some((p) => p === '')) return { kind: 'unknown' };
  const n = rest.length;

  if (n === 0) return pick(method, { GET: 'getOrganization' }, { org });
  if (lrest[0] !== 'lists') return { kind: 'unknown' };
  if (n === 1) return pick(method, { POST: 'createList' }, { org });
  const list = rest[1];
  if (n === 2) return pick(method, { GET: 'getList' }, { org, list });
  switch (lrest[2]) {
    case 'fields':
      if (n === 3) return pick(method, { GET: 'getFields', POST: 'createFields' }, { org, list });
      break;
    case 'records':
      if (n === 3) return pick(method, { GET: 'countRecords' }, { org, list });
      break;
    case 'businesskey':
      if (n === 3) return pick(method, { PUT: 'setBusinessKey' }, { org, list });
      break;
    case 'data':
      if (n === 4 && lrest[3] === 'load') return pick(method, { POST: 'loadList' }, { org, list });
      if (n === 4 && lrest[3] === 'search') return pick(method, { POST: 'searchList' }, { org, list });
      break;
    case 'segments': {
      if (n === 3) return pick(method, { GET: 'listSegments' }, { org, list });
      const segment = rest[3];
      if (n === 4) {
        // `segments/static` is both "create a static segment" (POST) and "get the segment named static" (GET).
        const table: Table = { GET: 'getSegment' };
        if (lrest[3] === 'static') table.POST = 'createStaticSegment';
        return pick(method, table, { org, list, segment });
      }
      if (n === 5 && lrest[4] === 'data') return pick(method, { DELETE: 'deleteSegmentData' }, { org, list, segment });
      if (n === 6 && lrest[4] === 'data') {
        if (lrest[5] === 'load') return pick(method, { POST: 'loadSegment' }, { org, list, segment });
        if (lrest[5] === 'clear') return pick(method, { DELETE: 'clearSegment' }, { org, list, segment });
        if (lrest[5] === 'search') return pick(method, { POST: 'searchSegment' }, { org, list, segment });
      }
      break;
    }
    default:
      break;
  }
  return { kind: 'unknown' };
}
