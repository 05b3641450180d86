/**
 * Read-only views of the simulator's state for tests and the control routes. A missing organization, List or
 * Segment gives an empty answer (use hasList to tell).
 */

import type { Store } from './state.js';
import type { Watermarks } from './types.js';

export function lists(store: Store, org: string): string[] {
  return [...(store.org(org)?.lists.values() ?? [])].map((l) => l.apiName);
}

export function listRecords(store: Store, org: string, list: string): Array<Record<string, unknown>> {
  const l = store.list(org, list);
  return l ? [...l.records.values()].map((v) => l.recordObject(v)) : [];
}

export function listFields(
  store: Store,
  org: string,
  list: string,
): Array<{ name: string; data_type: string; length?: number }> {
  const l = store.list(org, list);
  if (!l) return [];
  return l.fields.map((f) => {
    const out: { name: string; data_type: string; length?: number; allow_null: boolean } = {
      name: f.name,
      data_type: f.dataType,
      allow_null: f.allowNull,
    };
    if (f.length !== null) out.length = f.length;
    return out;
  });
}

export function segmentMembers(
  store: Store,
  org: string,
  list: string,
  segment: string,
): Array<Record<string, unknown>> {
  const l = store.list(org, list);
  const s = l?.segment(segment);
  if (!l || !s) return [];
  return [...s.members]
    .sort((a, b) => a - b)
    .map((id) => l.records.get(id))
    .filter((v): v is unknown[] => v !== undefined)
    .map((v) => l.recordObject(v));
}

export function segments(store: Store, org: string, list: string): Array<{ api_name: string; type: string }> {
  const l = store.list(org, list);
  return l ? [...l.segments.values()].map((s) => ({ api_name: s.apiName, type: s.type })) : [];
}

export function businessKey(store: Store, org: string, list: string): string[] | undefined {
  const bk = store.list(org, list)?.businessKey;
  return bk ? bk.slice() : undefined;
}

/** Per List and Segment of an organization, the fewest members since the last mark and the current count. */
export function watermarks(store: Store, org: string): Watermarks {
  const out: Watermarks = {};
  for (const list of store.org(org)?.lists.values() ?? []) {
    const segs: Record<string, { min: number; current: number }> = {};
    for (const seg of list.segments.values())
      segs[seg.apiName] = { min: Math.min(seg.lowWater, seg.members.size), current: seg.members.size };
    out[list.apiName] = segs;
  }
  return out;
}

/** Starts a new watermark period: every Segment's low point becomes its current size. */
export function resetWatermarks(store: Store): void {
  for (const o of store.organizations.values())
    for (const l of o.lists.values()) for (const s of l.segments.values()) s.markWater();
}
