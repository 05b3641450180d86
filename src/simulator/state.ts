/**
 * In-memory model of organizations, lists, fields, records and segments.
 *
 * Records are stored as arrays indexed by the list's field positions (not objects) to keep memory per
 * record modest. Key lookups go through hash indexes keyed by the key value itself (one key field) or a
 * length-prefixed composite string (several key fields); an index is built on first use for a set of key
 * fields and then kept up to date on every write.
 */

import {
  type DataType,
  type SeedField,
  type SeedList,
  type SeedSegment,
  type SeedState,
  SEGMENT_TYPES,
  type SegmentType,
} from './types.js';
import { canonicalDataType, MAX_TEXT_LENGTH } from './validation.js';
import { scalarText } from '../scalar-text.js';

export class Field {
  readonly upper: string;
  constructor(
    readonly name: string,
    readonly dataType: DataType,
    readonly length: number | null,
    readonly allowNull: boolean,
    readonly description: string | null,
  ) {
    this.upper = name.toUpperCase();
  }
}

/**
 * A Segment's member record ids. Counts its changes, so a search can reuse its ordered members while
 * nothing changed (a paged read of a large Segment would otherwise sort every member for each page).
 */
export class MemberSet extends Set<number> {
  version = 0;

  override add(id: number): this {
    if (!this.has(id)) {
      this.version++;
      super.add(id);
    }
    return this;
  }

  override delete(id: number): boolean {
    const deleted = super.delete(id);
    if (deleted) this.version++;
    return deleted;
  }

  override clear(): void {
    this.version++;
    super.clear();
  }
}

export class Segment {
  readonly members = new MemberSet();
  /** The fewest members seen since the last watermark reset (or since the Segment was made). */
  lowWater = 0;
  constructor(
    readonly apiName: string,
    public name: string,
    readonly type: SegmentType,
    public description: string | null,
  ) {}

  /** Called after members were removed, so the watermark sees every low point. */
  noteSize(): void {
    if (this.members.size < this.lowWater) this.lowWater = this.members.size;
  }

  /** Starts a new watermark period at the current size. */
  markWater(): void {
    this.lowWater = this.members.size;
  }
}

export const LIST_TYPES = ['Userlist', 'Datalist', 'Optionlist'] as const;
const LIST_TYPE_BY_LOWER = new Map<string, string>(LIST_TYPES.map((t) => [t.toLowerCase(), t]));
export function canonicalListType(value: unknown): string | undefined {
  return typeof value === 'string' ? LIST_TYPE_BY_LOWER.get(value.toLowerCase()) : undefined;
}
const SEGMENT_TYPE_BY_LOWER = new Map<string, SegmentType>(SEGMENT_TYPES.map((t) => [t.toLowerCase(), t]));

/** Default fields of a new Userlist. */
export const USERLIST_DEFAULT_FIELDS: ReadonlyArray<Field> = [
  new Field('ID', 'Long', null, false, 'Record id'),
  new Field('MAIL', 'Text', 255, true, 'E-mail address'),
  new Field('NAME', 'Text', 255, true, 'Name'),
  // Numeric, not Boolean: 0 or null = opted in; 9, 911, 10 and others = opted out.
  new Field('OPTOUT', 'Numeric', null, true, 'Opt-out code'),
];

export type IndexEntry = number | number[];

/** The key of a record (or row) for the given value positions; null when any key value is null. */
export function keyOf(values: ReadonlyArray<unknown>, positions: ReadonlyArray<number>): unknown {
  let key = '';
  for (const p of positions) {
    const v = values[p];
    if (v === null || v === undefined) return null;
    // One key field: the value itself is the key.
    if (positions.length === 1) return typeof v === 'object' ? 'j' + JSON.stringify(v) : v;
    const s =
      typeof v === 'string'
        ? 's' + v
        : typeof v === 'object'
          ? 'j' + JSON.stringify(v)
          : (typeof v).charAt(0) + scalarText(v);
    key += s.length + ':' + s;
  }
  return key;
}

export class KeyIndex {
  readonly map = new Map<unknown, IndexEntry>();
  constructor(readonly positions: number[]) {}

  add(key: unknown, id: number): void {
    if (key === null) return;
    const cur = this.map.get(key);
    if (cur === undefined) this.map.set(key, id);
    else if (typeof cur === 'number') this.map.set(key, cur === id ? cur : [cur, id]);
    else if (!cur.includes(id)) cur.push(id);
  }

  remove(key: unknown, id: number): void {
    if (key === null) return;
    const cur = this.map.get(key);
    if (cur === undefined) return;
    if (typeof cur === 'number') {
      if (cur === id) this.map.delete(key);
      return;
    }
    const i = cur.indexOf(id);
    if (i >= 0) cur.splice(i, 1);
    const [first] = cur;
    if (first === undefined) this.map.delete(key);
    else if (cur.length === 1) this.map.set(key, first);
  }
}

export class ListState {
  readonly fields: Field[] = [];
  readonly fieldIndex = new Map<string, number>();
  readonly records = new Map<number, unknown[]>();
  readonly segments = new Map<string, Segment>();
  private readonly indexes = new Map<string, KeyIndex>();
  /** The same indexes as an array, for the write paths. */
  private indexList: KeyIndex[] = [];
  nextId = 1;
  businessKey: string[] | undefined;
  /** Set while a bulk operation (list load, segment load, segment clear) runs on this list. */
  busy = false;
  /** Counts writes to records and fields, so a search can tell whether its ordered result still holds. */
  version = 0;

  constructor(
    readonly apiName: string,
    public name: string,
    readonly type: string,
    public description: string | null,
    public tags: string[],
  ) {}

  addField(field: Field): void {
    this.version++;
    this.fieldIndex.set(field.upper, this.fields.length);
    this.fields.push(field);
  }

  /** The field at a position taken from this List (position(), a key index): always there. */
  fieldAt(position: number): Field {
    const f = this.fields[position];
    if (!f) throw new Error(`list ${this.apiName} has no field at position ${position}`);
    return f;
  }

  field(name: string): Field | undefined {
    const i = this.fieldIndex.get(name.toUpperCase());
    return i === undefined ? undefined : this.fields[i];
  }

  position(name: string): number | undefined {
    return this.fieldIndex.get(name.toUpperCase());
  }

  get idPosition(): number | undefined {
    return this.fieldIndex.get('ID');
  }

  segment(apiName: string): Segment | undefined {
    return this.segments.get(apiName.toLowerCase());
  }

  /** The (lazily built) index over the given list field positions. */
  index(positions: number[]): KeyIndex {
    const sig = positions.join(',');
    let idx = this.indexes.get(sig);
    if (!idx) {
      idx = new KeyIndex(positions.slice());
      for (const [id, values] of this.records) idx.add(keyOf(values, idx.positions), id);
      this.indexes.set(sig, idx);
      this.indexList.push(idx);
    }
    return idx;
  }

  /** Inserts a record (values in list field order); assigns and returns its id. */
  insert(values: unknown[], id?: number): number {
    this.version++;
    const recordId = id ?? this.nextId;
    if (recordId >= this.nextId) this.nextId = recordId + 1;
    const idPos = this.idPosition;
    if (idPos !== undefined) {
      while (values.length <= idPos) values.push(null);
      values[idPos] = recordId;
    }
    this.records.set(recordId, values);
    for (const idx of this.indexList) idx.add(keyOf(values, idx.positions), recordId);
    return recordId;
  }

  /** Writes `row[i]` into list position `targets[i]` of record `id` (ID is never overwritten). */
  update(id: number, targets: ReadonlyArray<number>, row: ReadonlyArray<unknown>): void {
    const values = this.records.get(id);
    if (!values) return;
    this.version++;
    const idPos = this.idPosition;
    // The indexes whose key changes, with the old key.
    let touched: Array<[KeyIndex, unknown]> | undefined;
    for (const idx of this.indexList) {
      for (const p of idx.positions) {
        const t = targets.indexOf(p);
        if (t >= 0 && p !== idPos && values[p] !== row[t]) {
          (touched ??= []).push([idx, keyOf(values, idx.positions)]);
          break;
        }
      }
    }
    for (const [i, p] of targets.entries()) {
      if (p === idPos) continue;
      while (values.length < p) values.push(null);
      values[p] = row[i];
    }
    for (const [idx, oldKey] of touched ?? []) {
      idx.remove(oldKey, id);
      idx.add(keyOf(values, idx.positions), id);
    }
  }

  value(values: ReadonlyArray<unknown>, position: number): unknown {
    const v = values[position];
    return v === undefined ? null : v;
  }

  /** A record as an object keyed by upper-case field names. */
  recordObject(values: ReadonlyArray<unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.fields.forEach((f, p) => (out[f.upper] = this.value(values, p)));
    return out;
  }
}

export class Organization {
  readonly lists = new Map<string, ListState>();
  constructor(readonly name: string) {}
  list(apiName: string): ListState | undefined {
    return this.lists.get(apiName.toLowerCase());
  }
}

export class SeedError extends Error {}

/** All organizations, lists and segments. Names (organization, list, segment, field) match case-insensitively. */
export class Store {
  readonly organizations = new Map<string, Organization>();

  org(name: string): Organization | undefined {
    return this.organizations.get(name.toLowerCase());
  }

  ensureOrg(name: string): Organization {
    let org = this.org(name);
    if (!org) {
      org = new Organization(name);
      this.organizations.set(name.toLowerCase(), org);
    }
    return org;
  }

  list(org: string, list: string): ListState | undefined {
    return this.org(org)?.list(list);
  }

  createList(
    org: Organization,
    apiName: string,
    name: string,
    type: string,
    description: string | null,
    tags: string[],
  ): ListState {
    const list = new ListState(apiName, name, type, description, tags);
    if (type === 'Userlist') for (const f of USERLIST_DEFAULT_FIELDS) list.addField(f);
    org.lists.set(apiName.toLowerCase(), list);
    return list;
  }

  clear(): void {
    this.organizations.clear();
  }

  /** Adds seed data (lists are replaced when they already exist). Throws SeedError on bad seeds. */
  seed(state: SeedState, defaultOrg: string): void {
    for (const name of state.organizations ?? []) this.ensureOrg(name);
    for (const seedList of state.lists ?? []) this.seedList(seedList, defaultOrg);
  }

  private seedList(s: SeedList, defaultOrg: string): void {
    if (!s || typeof s.api_name !== 'string' || !s.api_name) throw new SeedError('a seeded list needs an api_name');
    const org = this.ensureOrg(s.organization ?? defaultOrg);
    const type = s.type === undefined ? 'Userlist' : canonicalListType(s.type);
    if (!type) throw new SeedError(`list ${s.api_name}: unknown type ${String(s.type)}`);
    org.lists.delete(s.api_name.toLowerCase());
    const list = new ListState(s.api_name, s.name ?? s.api_name, type, s.description ?? null, s.tags ?? []);
    org.lists.set(s.api_name.toLowerCase(), list);
    const given = new Set((s.fields ?? []).map((f) => String(f.name).toUpperCase()));
    if (type === 'Userlist') for (const f of USERLIST_DEFAULT_FIELDS) if (!given.has(f.upper)) list.addField(f);
    for (const f of s.fields ?? []) list.addField(seedField(s.api_name, f));
    for (const r of s.records ?? []) {
      const values: unknown[] = new Array(list.fields.length).fill(null);
      let id: number | undefined;
      for (const [k, v] of Object.entries(r)) {
        const p = list.position(k);
        if (p === undefined && k.toUpperCase() === 'ID' && typeof v === 'number') {
          id = v; // the record id of a list without an ID field
          continue;
        }
        if (p === undefined) throw new SeedError(`list ${s.api_name}: record field ${k} is not a field of the list`);
        if (k.toUpperCase() === 'ID' && typeof v === 'number') id = v;
        values[p] = v;
      }
      if (id !== undefined && list.records.has(id))
        throw new SeedError(`list ${s.api_name}: duplicate record ID ${id}`);
      list.insert(values, id);
    }
    for (const seg of s.segments ?? []) seedSegment(list, seg);
    if (s.business_key) {
      const names: string[] = [];
      for (const k of s.business_key) {
        const f = list.field(k);
        if (!f) throw new SeedError(`list ${s.api_name}: business key field ${k} is not a field of the list`);
        names.push(f.name);
      }
      list.businessKey = names;
    }
  }
}

function seedField(listName: string, f: SeedField): Field {
  const dataType = canonicalDataType(f.data_type);
  if (!dataType) throw new SeedError(`list ${listName}: field ${f.name}: unknown data_type ${String(f.data_type)}`);
  let length: number | null = null;
  if (dataType === 'Text') {
    length = typeof f.length === 'number' ? f.length : 255;
    if (length < 1 || length > MAX_TEXT_LENGTH) throw new SeedError(`list ${listName}: field ${f.name}: bad length`);
  }
  return new Field(String(f.name), dataType, length, f.allow_null ?? true, f.description ?? null);
}

function seedSegment(list: ListState, s: SeedSegment): void {
  if (!s || typeof s.api_name !== 'string' || !s.api_name)
    throw new SeedError(`list ${list.apiName}: a segment needs an api_name`);
  const type = s.type === undefined ? 'Static' : SEGMENT_TYPE_BY_LOWER.get(String(s.type).toLowerCase());
  if (!type) throw new SeedError(`segment ${s.api_name}: unknown type ${String(s.type)}`);
  const seg = new Segment(s.api_name, s.name ?? s.api_name, type, s.description ?? null);
  list.segments.set(s.api_name.toLowerCase(), seg);
  for (const m of s.members ?? []) {
    if (typeof m === 'number') {
      if (!list.records.has(m)) throw new SeedError(`segment ${s.api_name}: no record with ID ${m}`);
      seg.members.add(m);
      continue;
    }
    const entries = Object.entries(m).map(([k, v]) => {
      const p = list.position(k);
      if (p === undefined) throw new SeedError(`segment ${s.api_name}: member field ${k} is not a field of the list`);
      return [p, v] as const;
    });
    let found = false;
    for (const [id, values] of list.records) {
      if (entries.every(([p, v]) => list.value(values, p) === v)) {
        seg.members.add(id);
        found = true;
      }
    }
    if (!found) throw new SeedError(`segment ${s.api_name}: no record matches member ${JSON.stringify(m)}`);
  }
  seg.markWater();
}
