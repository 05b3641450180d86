/**
 * Bulk load (list and static segment) and search over the in-memory state. Pure functions of the state
 * and the already-parsed request; the HTTP layer does parsing, auth, limits and envelopes.
 */

import { keyOf, type Field, type ListState, type Segment } from './state.js';
import type { SegmentSemantics } from './types.js';
import { checkValue, coerceValue } from './validation.js';
import { scalarText } from '../scalar-text.js';

export type Deduplication = 'ImportLastMatch' | 'ImportFirstMatch';
export type ImportOption = 'InsertAndUpdate' | 'OnlyInsert' | 'OnlyUpdate';
export type ValidationCode = 'InvalidFieldCount' | 'MaxStringLengthExceeded' | 'InvalidType' | 'Unknown';

export interface InvalidRecord {
  record_index: number;
  field_name: string | null;
  message: string;
  validation_code: ValidationCode;
}

export interface LoadResponse {
  result_code: 'Succeeded' | 'PartiallySucceeded' | 'Failed';
  errors: Array<{ error_code: string; description: string }> | null;
  number_of_inserted_records: number;
  number_of_updated_records: number;
  number_of_failed_records: number;
  number_of_duplicate_records: number;
  number_of_records_not_found: number;
  number_of_deleted_records: number;
  invalid_records: InvalidRecord[];
}

export interface LoadPlan {
  /** List field position of each column of a row. */
  columns: number[];
  /** Column index of each key field, ordered by list position (so the index signature is canonical). */
  keyColumns: number[];
  /** List positions of the key fields, same order as keyColumns. */
  keyPositions: number[];
  deduplication: Deduplication;
  importOption: ImportOption;
  stopOnError: boolean;
  /** Variant V11: strings are taken for Numeric, Long, Float and Boolean fields. */
  acceptStrings?: boolean;
}

/** Builds the plan; keyPositions must be list positions that all appear in `columns`. */
export function makePlan(
  columns: number[],
  keyPositions: number[],
  opts: { deduplication: Deduplication; importOption: ImportOption; stopOnError: boolean; acceptStrings?: boolean },
): LoadPlan {
  const sorted = [...keyPositions].sort((a, b) => a - b);
  return { columns, keyPositions: sorted, keyColumns: sorted.map((p) => columns.indexOf(p)), ...opts };
}

interface Checked {
  /** Row indexes (into `rows`) that survived validation and deduplication, in request order. */
  winners: number[];
  keys: unknown[];
  failed: number;
  duplicates: number;
  invalid: InvalidRecord[];
}

/**
 * Validates rows[start..] and deduplicates them by key. `record_index` is relative to `start`
 * (0-based over the data rows, header excluded).
 */
function checkRows(list: ListState, plan: LoadPlan, rows: unknown[], start: number): Checked {
  const ncols = plan.columns.length;
  const fields: Field[] = plan.columns.map((p) => list.fieldAt(p));
  const isKeyColumn = new Array<boolean>(ncols).fill(false);
  for (const c of plan.keyColumns) isKeyColumn[c] = true;
  const coerce = fields.map(
    (f) => f.dataType === 'Long' || f.dataType === 'Numeric' || f.dataType === 'Float' || f.dataType === 'Boolean',
  );
  const acceptStrings = plan.acceptStrings === true;
  const invalid: InvalidRecord[] = [];
  let failed = 0;
  const n = rows.length - start;
  const valid = new Uint8Array(n);
  const keys = new Array<unknown>(n);

  for (let i = 0; i < n; i++) {
    const row = rows[start + i];
    if (!Array.isArray(row) || row.length !== ncols) {
      const got = Array.isArray(row) ? `${row.length} values` : 'not an array';
      invalid.push({
        record_index: i,
        field_name: null,
        message: `Record has ${got}; ${ncols} expected`,
        validation_code: 'InvalidFieldCount',
      });
      failed++;
      continue;
    }
    let ok = true;
    for (const [c, field] of fields.entries()) {
      let v: unknown = row[c];
      if (coerce[c] && v !== null && typeof v !== 'boolean') {
        v = coerceValue(field.dataType, v, acceptStrings);
        row[c] = v;
      }
      const problem = checkValue(field, v);
      if (problem) {
        invalid.push({
          record_index: i,
          field_name: field.name,
          message: problem.message,
          validation_code: problem.code,
        });
        ok = false;
      } else if (isKeyColumn[c] && (v === null || v === '')) {
        invalid.push({
          record_index: i,
          field_name: field.name,
          message: `Key field ${field.name} has no value`,
          validation_code: 'Unknown',
        });
        ok = false;
      }
    }
    if (!ok) {
      failed++;
      continue;
    }
    valid[i] = 1;
    keys[i] = keyOf(row, plan.keyColumns);
  }

  // Deduplication within the request: one winner per key.
  let duplicates = 0;
  const winnerOf = new Map<unknown, number>();
  const first = plan.deduplication === 'ImportFirstMatch';
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    const k = keys[i];
    if (winnerOf.has(k)) {
      duplicates++;
      if (!first) winnerOf.set(k, i);
    } else {
      winnerOf.set(k, i);
    }
  }
  const winners: number[] = [];
  if (duplicates === 0) {
    for (let i = 0; i < n; i++) if (valid[i]) winners.push(i);
  } else {
    for (let i = 0; i < n; i++) if (valid[i] && winnerOf.get(keys[i]) === i) winners.push(i);
  }
  return { winners, keys, failed, duplicates, invalid };
}

/** The counters of a LoadDataResponseModel, all zero (also the counters of a refused load). */
export function zeroCounters(): Omit<LoadResponse, 'result_code' | 'errors'> {
  return {
    number_of_inserted_records: 0,
    number_of_updated_records: 0,
    number_of_failed_records: 0,
    number_of_duplicate_records: 0,
    number_of_records_not_found: 0,
    number_of_deleted_records: 0,
    invalid_records: [],
  };
}

function emptyResponse(): LoadResponse {
  return { result_code: 'Succeeded', errors: null, ...zeroCounters() };
}

function finish(resp: LoadResponse, checked: Checked, total: number, stopped: boolean): LoadResponse {
  resp.number_of_failed_records = checked.failed;
  resp.invalid_records = checked.invalid;
  if (stopped) {
    resp.result_code = 'Failed';
    resp.errors = [
      {
        error_code: 'ERR_VALIDATION',
        description: `${checked.failed} of ${total} records are invalid; errorHandling StopOnError: nothing was loaded`,
      },
    ];
  } else if (checked.failed === 0) {
    resp.result_code = 'Succeeded';
  } else if (checked.failed === total) {
    resp.result_code = 'Failed';
    resp.errors = [{ error_code: 'ERR_VALIDATION', description: `All ${total} records are invalid` }];
  } else {
    resp.result_code = 'PartiallySucceeded';
    resp.errors = [{ error_code: 'ERR_VALIDATION', description: `${checked.failed} of ${total} records are invalid` }];
  }
  return resp;
}

function* ids(entry: number | number[]): Generator<number> {
  if (typeof entry === 'number') yield entry;
  else yield* entry.slice();
}

/** Upserts the winners into the list; calls `onRecord` with each written record id. */
function applyToList(
  list: ListState,
  plan: LoadPlan,
  rows: unknown[],
  start: number,
  checked: Checked,
  resp: LoadResponse,
  onRecord?: (id: number) => void,
): void {
  const { columns, keyPositions, importOption } = plan;
  const idPos = list.idPosition;
  const index = list.index(keyPositions).map;
  // Rows can be stored as they are when their columns are exactly the list's fields in order.
  const asIs = idPos === undefined && columns.length === list.fields.length && columns.every((p, c) => p === c);
  const { winners, keys } = checked;
  for (const i of winners) {
    const row = rows[start + i] as unknown[];
    const existing = index.get(keys[i]);
    if (existing !== undefined) {
      if (importOption === 'OnlyInsert') {
        resp.number_of_duplicate_records++;
        continue;
      }
      for (const id of ids(existing)) {
        list.update(id, columns, row);
        onRecord?.(id);
      }
      resp.number_of_updated_records++;
    } else {
      if (importOption === 'OnlyUpdate') {
        resp.number_of_records_not_found++;
        continue;
      }
      let values: unknown[];
      if (asIs) values = row;
      else {
        values = new Array<unknown>(list.fields.length).fill(null);
        for (const [c, p] of columns.entries()) if (p !== idPos) values[p] = row[c];
      }
      const id = list.insert(values);
      onRecord?.(id);
      resp.number_of_inserted_records++;
    }
  }
}

/** `POST .../lists/{list}/data/load`. `start` is 1 when the first body row is the header. */
export function loadList(list: ListState, plan: LoadPlan, rows: unknown[], start: number): LoadResponse {
  const checked = checkRows(list, plan, rows, start);
  const total = rows.length - start;
  const resp = emptyResponse();
  resp.number_of_duplicate_records = checked.duplicates;
  if (plan.stopOnError && checked.failed > 0) return finish(resp, checked, total, true);
  applyToList(list, plan, rows, start, checked, resp);
  return finish(resp, checked, total, false);
}

/**
 * `POST .../segments/{segment}/data/load`.
 * 'match': each key is looked up in the list; found records become members (new member: inserted,
 * already a member: updated), unknown keys count as not found. 'upsert': rows are upserted into the list
 * (InsertAndUpdate; counters describe the list writes) and every written record becomes a member.
 */
export function loadSegment(
  list: ListState,
  segment: Segment,
  plan: LoadPlan,
  rows: unknown[],
  start: number,
  semantics: SegmentSemantics,
): LoadResponse {
  const checked = checkRows(list, plan, rows, start);
  const total = rows.length - start;
  const resp = emptyResponse();
  resp.number_of_duplicate_records = checked.duplicates;
  if (plan.stopOnError && checked.failed > 0) return finish(resp, checked, total, true);
  if (semantics === 'upsert') {
    applyToList(list, { ...plan, importOption: 'InsertAndUpdate' }, rows, start, checked, resp, (id) =>
      segment.members.add(id),
    );
    return finish(resp, checked, total, false);
  }
  const index = list.index(plan.keyPositions).map;
  for (const i of checked.winners) {
    const existing = index.get(checked.keys[i]);
    if (existing === undefined) {
      resp.number_of_records_not_found++;
      continue;
    }
    let added = false;
    for (const id of ids(existing)) {
      if (!segment.members.has(id)) {
        segment.members.add(id);
        added = true;
      }
    }
    if (added) resp.number_of_inserted_records++;
    else resp.number_of_updated_records++;
  }
  return finish(resp, checked, total, false);
}

export interface DeleteMembersResponse {
  result_code: 'Succeeded' | 'PartiallySucceeded' | 'Failed';
  errors: Array<{ error_code: string; description: string }> | null;
  number_of_deleted_records: number;
  number_of_records_not_found: number;
  invalid_records: InvalidRecord[];
}

/**
 * `DELETE .../segments/{segment}/data`: each valid row's key is matched against the list; matched records
 * that are members lose their membership (deleted), any other key counts as not found. Rows are taken in
 * order, so a key repeated in one request is found once. List records stay.
 */
export function deleteMembers(
  list: ListState,
  segment: Segment,
  plan: LoadPlan,
  rows: unknown[],
  start: number,
): DeleteMembersResponse {
  const checked = checkRows(list, { ...plan, deduplication: 'ImportFirstMatch' }, rows, start);
  const total = rows.length - start;
  const counters = finish(emptyResponse(), checked, total, plan.stopOnError && checked.failed > 0);
  const resp: DeleteMembersResponse = {
    result_code: counters.result_code,
    errors: counters.errors,
    number_of_deleted_records: 0,
    number_of_records_not_found: 0,
    invalid_records: counters.invalid_records,
  };
  if (plan.stopOnError && checked.failed > 0) return resp;
  const index = list.index(plan.keyPositions).map;
  const n = total;
  for (let i = 0; i < n; i++) {
    if (checked.keys[i] === undefined) continue; // invalid row
    const existing = index.get(checked.keys[i]);
    let removed = false;
    if (existing !== undefined) for (const id of ids(existing)) if (segment.members.delete(id)) removed = true;
    if (removed) resp.number_of_deleted_records++;
    else resp.number_of_records_not_found++;
  }
  segment.noteSize();
  return resp;
}

// ---------------------------------------------------------------------------------------------------
// Search (contract section 7)

export const SEARCH_OPERATORS = [
  'EqualTo',
  'NotEqualTo',
  'GreaterThan',
  'GreaterThanOrEqualTo',
  'LessThan',
  'LessThanOrEqualTo',
  'Like',
  'IsNull',
  'IsNotNull',
  'IsEmpty',
  'IsNotEmpty',
] as const;
export type SearchOperator = (typeof SEARCH_OPERATORS)[number];
const OPERATOR_BY_LOWER = new Map<string, SearchOperator>(SEARCH_OPERATORS.map((o) => [o.toLowerCase(), o]));
export function canonicalOperator(v: unknown): SearchOperator | undefined {
  return typeof v === 'string' ? OPERATOR_BY_LOWER.get(v.toLowerCase()) : undefined;
}
/** Operators that take no field_value. */
export const UNARY_OPERATORS: ReadonlySet<SearchOperator> = new Set(['IsNull', 'IsNotNull', 'IsEmpty', 'IsNotEmpty']);

export interface SearchFilter {
  position: number;
  operator: SearchOperator;
  /** field_value in the field's stored form (number, bigint, boolean or string); a RegExp for Like. */
  value: unknown;
}

/** Text compares case-insensitively, like the service's database collation. */
function norm(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

function compare(a: unknown, b: unknown): number {
  const x = norm(a);
  const y = norm(b);
  // number and bigint compare with < and > across types.
  return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0;
}

function matches(list: ListState, values: unknown[], filters: SearchFilter[]): boolean {
  for (const f of filters) {
    const v = list.value(values, f.position);
    switch (f.operator) {
      case 'IsNull':
        if (v !== null) return false;
        break;
      case 'IsNotNull':
        if (v === null) return false;
        break;
      case 'IsEmpty':
        if (v !== null && v !== '') return false;
        break;
      case 'IsNotEmpty':
        if (v === null || v === '') return false;
        break;
      default: {
        // As in SQL, a comparison with null matches nothing (NotEqualTo included).
        if (v === null) return false;
        if (f.operator === 'Like') {
          if (!(f.value as RegExp).test(scalarText(v))) return false;
          break;
        }
        const c = compare(v, f.value);
        const ok =
          f.operator === 'EqualTo'
            ? c === 0
            : f.operator === 'NotEqualTo'
              ? c !== 0
              : f.operator === 'GreaterThan'
                ? c > 0
                : f.operator === 'GreaterThanOrEqualTo'
                  ? c >= 0
                  : f.operator === 'LessThan'
                    ? c < 0
                    : c <= 0;
        if (!ok) return false;
      }
    }
  }
  return true;
}

/** A SQL LIKE pattern (% any run, _ one character, [..] kept literal) as a case-insensitive RegExp. */
export function likePattern(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

export interface SearchRequest {
  positions: number[];
  filters: SearchFilter[];
  skip: number;
  take: number;
  orderBy?: number;
  descending: boolean;
}

export interface SearchResult {
  fields: string[];
  data: unknown[][];
  result_code: 'Succeeded';
  errors: null;
}

/** The filtered, ordered records of the last search of a List or Segment, while nothing has changed. */
interface OrderedHits {
  signature: string;
  listVersion: number;
  memberVersion: number;
  hits: unknown[][];
}
const orderedCache = new WeakMap<ListState | Segment, OrderedHits>();

/** What decides a search's ordered result apart from the paging: filters, order and the List's fields. */
function searchSignature(list: ListState, req: SearchRequest): string {
  const filters = req.filters.map((f) => {
    const v = f.value;
    return `${f.position}:${f.operator}:${typeof v}:${v instanceof RegExp ? v.source : String(v)}`;
  });
  return `${list.fields.length}|${req.orderBy ?? ''}|${req.descending ? 'D' : 'A'}|${filters.join('|')}`;
}

/**
 * Records (of the list, or of the segment's members) filtered, ordered by `orderBy` (nulls first, record id
 * breaking ties) or by record id, then paged. Rows hold the values in the order of `positions`. The ordered
 * records are kept until the List or the Segment changes, so reading a large Segment page by page costs
 * one sort, not one per page; the pages are the same as a fresh sort's.
 */
export function search(list: ListState, segment: Segment | undefined, req: SearchRequest): SearchResult {
  const hits = orderedHits(list, segment, req);
  const data = hits
    .slice(req.skip, req.skip + req.take)
    .map((values) => req.positions.map((p) => list.value(values, p)));
  return { fields: req.positions.map((p) => list.fieldAt(p).name), data, result_code: 'Succeeded', errors: null };
}

function orderedHits(list: ListState, segment: Segment | undefined, req: SearchRequest): unknown[][] {
  const owner = segment ?? list;
  const signature = searchSignature(list, req);
  const memberVersion = segment?.members.version ?? 0;
  const cached = orderedCache.get(owner);
  if (
    cached &&
    cached.signature === signature &&
    cached.listVersion === list.version &&
    cached.memberVersion === memberVersion
  )
    return cached.hits;
  // Each hit carries its sort value, taken (and lower-cased) once rather than at every comparison.
  const hits: Array<{ id: number; sortValue: unknown; values: unknown[] }> = [];
  const by = req.orderBy;
  const visit = (id: number, values: unknown[]) => {
    if (matches(list, values, req.filters))
      hits.push({ id, sortValue: by === undefined ? null : norm(list.value(values, by)), values });
  };
  if (segment) {
    for (const id of segment.members) {
      const values = list.records.get(id);
      if (values) visit(id, values);
    }
  } else {
    for (const [id, values] of list.records) visit(id, values);
  }
  const dir = req.descending ? -1 : 1;
  hits.sort((a, b) => {
    if (by !== undefined) {
      const x = a.sortValue;
      const y = b.sortValue;
      // number and bigint compare with < and > across types.
      const c =
        x === null
          ? y === null
            ? 0
            : -1
          : y === null
            ? 1
            : (x as number) < (y as number)
              ? -1
              : (x as number) > (y as number)
                ? 1
                : 0;
      if (c !== 0) return c * dir;
    }
    return (a.id - b.id) * (by === undefined ? dir : 1);
  });
  const ordered = hits.map((h) => h.values);
  orderedCache.set(owner, { signature, listVersion: list.version, memberVersion, hits: ordered });
  return ordered;
}
