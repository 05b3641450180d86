/**
 * The V1 API endpoints (contract sections 3 and 4). Each handler validates, mutates the store and returns a
 * Reply; HTTP concerns (auth, rate limit, faults, latency, body limits) live in server.ts.
 */

import {
  canonicalOperator,
  deleteMembers,
  likePattern,
  loadList,
  loadSegment,
  makePlan,
  zeroCounters,
  search,
  SEARCH_OPERATORS,
  UNARY_OPERATORS,
  type Deduplication,
  type ImportOption,
  type SearchFilter,
} from './bulk.js';
import { parseJsonExact } from '../json-exact.js';
import { notFound, ok, ReplyError, validationFailed, type Reply } from './http-util.js';
import type { ParsedQuery } from './router.js';
import { canonicalListType, Field, keyOf, Segment, type ListState, type Organization, type Store } from './state.js';
import type { SegmentSemantics } from './types.js';
import { canonicalDataType, checkValue, coerceValue, isApiName, MAX_TEXT_LENGTH } from './validation.js';
import { scalarText } from '../scalar-text.js';

export interface HandlerSettings {
  segmentSemantics: SegmentSemantics;
  /** Variant V6: the business key must equal keyFields, cover them, or is not checked. */
  keyIndexGuard: 'none' | 'exact' | 'covers';
  /** Variant V11. */
  acceptStrings: boolean;
  /** Told the number of data rows once the body is checked, before anything is applied (may throw a 408). */
  onRows?: (rows: number) => void;
}

// ---------------------------------------------------------------------------------------------------
// Lookups

export function requireOrg(store: Store, name: string, status = 404): Organization {
  const org = store.org(name);
  if (!org) throw new ReplyError(notFound(`Organization ${name} not found`, status));
  return org;
}

export function requireList(org: Organization, name: string, status = 404): ListState {
  const list = org.list(name);
  if (!list) throw new ReplyError(notFound(`List ${name} not found`, status));
  return list;
}

export function requireSegment(list: ListState, name: string, status = 404): Segment {
  const seg = list.segment(name);
  if (!seg) throw new ReplyError(notFound(`Segment ${name} not found in list ${list.apiName}`, status));
  return seg;
}

/** The type a Segment reports: a static one may report External or Unknown (variant V10) and still take loads. */
export function reportedType(seg: Segment, staticType: string): string {
  return seg.type === 'Static' ? staticType : seg.type;
}

export function requireStatic(seg: Segment): void {
  if (seg.type !== 'Static') {
    throw new ReplyError(
      validationFailed(`Segment ${seg.apiName} is a ${seg.type} segment; only static segments can be changed`),
    );
  }
}

/** List positions of the named fields, and the names that are no field of the List. */
function positionsOf(list: ListState, names: readonly string[]): { positions: number[]; unknown: string[] } {
  const positions: number[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const p = list.position(name);
    if (p === undefined) unknown.push(name);
    else positions.push(p);
  }
  return { positions, unknown };
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function asObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ReplyError(validationFailed('The request body must be a JSON object'));
  return body as Record<string, unknown>;
}

function optionalString(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new ReplyError(validationFailed(`${key} must be a string`));
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Organization, lists, fields, segments

export function getOrganization(org: Organization): Reply {
  return { status: 200, json: { name: org.name, description: null } };
}

export function getList(list: ListState): Reply {
  return {
    status: 200,
    json: { api_name: list.apiName, name: list.name, type: list.type, description: list.description, tags: list.tags },
  };
}

export function createList(store: Store, org: Organization, body: unknown): Reply {
  const o = asObject(body);
  const problems: string[] = [];
  if (!isApiName(o.api_name))
    problems.push('api_name is required and may contain letters, digits and underscores only');
  if (typeof o.name !== 'string' || o.name.trim() === '') problems.push('name is required');
  const type = canonicalListType(o.type);
  if (!type) problems.push('type is required: Userlist, Datalist or Optionlist');
  let tags: string[] = [];
  if (o.tags !== undefined && o.tags !== null) {
    if (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== 'string'))
      problems.push('tags must be an array of strings');
    else tags = o.tags as string[];
  }
  if (problems.length) throw new ReplyError(validationFailed('The list is not valid', problems));
  const apiName = o.api_name as string;
  if (org.list(apiName)) throw new ReplyError(validationFailed(`A list with api_name ${apiName} already exists`));
  store.createList(org, apiName, o.name as string, type as string, optionalString(o, 'description'), tags);
  return ok(`List ${apiName} created`);
}

export function fieldJson(f: Field): Record<string, unknown> {
  return { name: f.name, data_type: f.dataType, length: f.length, allow_null: f.allowNull, description: f.description };
}

export function getFields(list: ListState): Reply {
  return { status: 200, json: { fields: list.fields.map(fieldJson) } };
}

export function createFields(list: ListState, body: unknown): Reply {
  const o = asObject(body);
  if (!Array.isArray(o.fields) || o.fields.length === 0)
    throw new ReplyError(validationFailed('fields must be a non-empty array'));
  const problems: string[] = [];
  const created: Field[] = [];
  const seen = new Set<string>();
  o.fields.forEach((raw: unknown, i: number) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`fields[${i}] must be an object`);
      return;
    }
    const f = raw as Record<string, unknown>;
    const label = typeof f.name === 'string' ? f.name : `fields[${i}]`;
    if (!isApiName(f.name)) {
      problems.push(`${label}: name is required and may contain letters, digits and underscores only`);
      return;
    }
    const upper = f.name.toUpperCase();
    if (list.field(f.name) || seen.has(upper)) {
      problems.push(`${f.name}: a field with this name already exists`);
      return;
    }
    seen.add(upper);
    const dataType = canonicalDataType(f.data_type);
    if (!dataType) {
      problems.push(
        `${f.name}: data_type must be one of Boolean, Numeric, Long, Float, Date, DateTime, Text, LongText, Json`,
      );
      return;
    }
    let length: number | null = null;
    if (dataType === 'Text') {
      if (typeof f.length !== 'number' || !Number.isInteger(f.length) || f.length < 1 || f.length > MAX_TEXT_LENGTH) {
        problems.push(`${f.name}: a Text field requires a length between 1 and ${MAX_TEXT_LENGTH}`);
        return;
      }
      length = f.length;
    }
    if (f.allow_null !== undefined && f.allow_null !== null && typeof f.allow_null !== 'boolean') {
      problems.push(`${f.name}: allow_null must be a boolean`);
      return;
    }
    if (f.description !== undefined && f.description !== null && typeof f.description !== 'string') {
      problems.push(`${f.name}: description must be a string`);
      return;
    }
    created.push(
      new Field(
        f.name,
        dataType,
        length,
        (f.allow_null as boolean | undefined) ?? true,
        (f.description as string | undefined) ?? null,
      ),
    );
  });
  if (problems.length) throw new ReplyError(validationFailed('The fields are not valid; none were created', problems));
  for (const f of created) list.addField(f);
  return ok(`${created.length} field(s) created`, 201);
}

/**
 * `GET .../segments`. With a page size (variant V4) `skip` and `take` are honoured, `take` defaults to the
 * page size and is capped at it, and `segment_count` is the total; without one everything comes in one
 * answer and `skip`/`take` are ignored.
 */
export function listSegments(list: ListState, query: ParsedQuery, pageSize: number | null, staticType: string): Reply {
  if (list.segments.size === 0) return { status: 204 };
  let all = [...list.segments.values()];
  const total = all.length;
  if (pageSize !== null) {
    const skip = queryInt(query, 'skip', 0, 0);
    const take = Math.min(queryInt(query, 'take', pageSize, 1), pageSize);
    all = all.slice(skip, skip + take);
  }
  const segments = all.map((s) => ({ segment_type: reportedType(s, staticType), api_name: s.apiName }));
  return { status: 200, json: { segments, segment_count: total } };
}

function queryInt(query: ParsedQuery, name: string, dflt: number, min: number): number {
  const raw = query.byLower.get(name);
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
    throw new ReplyError(validationFailed(`${name} must be an integer of at least ${min}`));
  }
  return Number(raw);
}

export function getSegment(seg: Segment, staticType: string): Reply {
  return {
    status: 200,
    json: { type: reportedType(seg, staticType), api_name: seg.apiName, name: seg.name, description: seg.description },
  };
}

export function createStaticSegment(list: ListState, body: unknown): Reply {
  const o = asObject(body);
  const problems: string[] = [];
  if (!isApiName(o.api_name))
    problems.push('api_name is required and may contain letters, digits and underscores only');
  if (typeof o.name !== 'string' || o.name.trim() === '') problems.push('name is required');
  if (problems.length) throw new ReplyError(validationFailed('The segment is not valid', problems));
  const apiName = o.api_name as string;
  if (list.segment(apiName))
    throw new ReplyError(validationFailed(`A segment with api_name ${apiName} already exists in list ${list.apiName}`));
  list.segments.set(
    apiName.toLowerCase(),
    new Segment(apiName, o.name as string, 'Static', optionalString(o, 'description')),
  );
  return ok(`Segment ${apiName} created`);
}

export function clearSegment(seg: Segment): Reply {
  const n = seg.members.size;
  seg.members.clear();
  seg.noteSize();
  return ok(`Segment ${seg.apiName} cleared (${n} member(s) removed)`);
}

export function countRecords(list: ListState): Reply {
  return { status: 200, json: { count: list.records.size } };
}

/** The most key fields a business key may have under the 'max3' variant (changelog: "1-3 fields"). */
export const MAX_BUSINESS_KEY_FIELDS = 3;

export function setBusinessKey(list: ListState, body: unknown, maxFields = Infinity): Reply {
  const o = asObject(body);
  const names = o.fields;
  if (!isStringArray(names) || names.length === 0)
    throw new ReplyError(validationFailed('fields must be a non-empty array of field names'));
  if (names.length > maxFields) {
    throw new ReplyError(validationFailed(`A business key has 1 to ${maxFields} fields; ${names.length} were given`));
  }
  const named = positionsOf(list, names);
  if (named.unknown.length) throw new ReplyError(validationFailed(`Unknown field(s): ${named.unknown.join(', ')}`));
  const positions = [...new Set(named.positions)].sort((a, b) => a - b);
  // A unique index cannot be created over duplicate values.
  const seen = new Set<unknown>();
  for (const values of list.records.values()) {
    const k = keyOf(values, positions);
    if (k === null) continue;
    if (seen.has(k)) {
      throw new ReplyError(
        validationFailed(
          `The list holds duplicate values for ${names.join(', ')}; the unique key index cannot be created`,
        ),
      );
    }
    seen.add(k);
  }
  list.businessKey = positions.map((p) => list.fieldAt(p).name);
  return ok(`Business key set on ${list.businessKey.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------------
// Bulk load

function enumParam<T extends string>(query: ParsedQuery, name: string, values: readonly T[], dflt: T): T {
  const raw = query.byLower.get(name.toLowerCase());
  if (raw === undefined || raw === '') return dflt;
  const found = values.find((v) => v.toLowerCase() === raw.toLowerCase());
  if (!found) throw new ReplyError(loadValidationFailed(`${name} must be one of ${values.join(', ')}`));
  return found;
}

function splitNames(raw: string): string[] {
  return raw.split(',').map((s) => s.trim());
}

/** A load-shaped 400 (LoadDataResponseModel with zero counters). */
export function loadValidationFailed(message: string, descriptions: string[] = [message]): Reply {
  const reply = validationFailed(message, descriptions);
  Object.assign(reply.json as object, zeroCounters());
  return reply;
}

/** Makes a 404 (or other envelope) load-shaped. */
export function asLoadReply(reply: Reply): Reply {
  if (reply.json && typeof reply.json === 'object' && !Array.isArray(reply.json))
    Object.assign(reply.json, zeroCounters());
  return reply;
}

interface LoadOptions {
  deduplication: Deduplication;
  importOption: ImportOption;
  stopOnError: boolean;
}

/** Checks the query parameters that do not depend on the body. */
export function parseLoadOptions(query: ParsedQuery, isSegment: boolean): LoadOptions {
  enumParam(query, 'mode', ['Sync', 'Stream'] as const, 'Sync');
  const deduplication = enumParam(
    query,
    'deduplication',
    ['ImportLastMatch', 'ImportFirstMatch'] as const,
    'ImportLastMatch',
  );
  // data_import_option is not a segment-load parameter; it is ignored there.
  const importOption = isSegment
    ? 'InsertAndUpdate'
    : enumParam(
        query,
        'data_import_option',
        ['InsertAndUpdate', 'OnlyInsert', 'OnlyUpdate'] as const,
        'InsertAndUpdate',
      );
  const errorHandling = enumParam(
    query,
    'errorHandling',
    ['ContinueOnError', 'StopOnError'] as const,
    'ContinueOnError',
  );
  const keyFields = query.byLower.get('keyfields');
  if (keyFields === undefined || keyFields.trim() === '')
    throw new ReplyError(loadValidationFailed('keyFields is required'));
  return { deduplication, importOption, stopOnError: errorHandling === 'StopOnError' };
}

function parseRows(body: Buffer): unknown[] {
  let rows: unknown;
  try {
    // Long values keep their exact digits: two keys that differ only past 2^53 are two records.
    rows = parseJsonExact(body.toString('utf8'));
  } catch (e) {
    throw new ReplyError(loadValidationFailed(`The request body is not valid JSON: ${(e as Error).message}`));
  }
  if (!Array.isArray(rows)) throw new ReplyError(loadValidationFailed('The request body must be a JSON array of rows'));
  return rows;
}

function resolveColumns(list: ListState, query: ParsedQuery, rows: unknown[], settings: HandlerSettings) {
  let names: string[];
  let start = 0;
  const fieldsParam = query.byLower.get('fields');
  if (fieldsParam !== undefined && fieldsParam.trim() !== '') {
    names = splitNames(fieldsParam);
  } else {
    const header = rows[0];
    if (!isStringArray(header) || header.length === 0) {
      throw new ReplyError(
        loadValidationFailed('Without the fields parameter the first row must be the header: an array of field names'),
      );
    }
    names = header.map((s) => s.trim());
    start = 1;
  }
  if (names.some((n) => n === '')) throw new ReplyError(loadValidationFailed('fields holds an empty field name'));
  const { positions: columns, unknown } = positionsOf(list, names);
  if (unknown.length) {
    throw new ReplyError(
      loadValidationFailed(
        `Unknown field(s) in fields: ${unknown.join(', ')}`,
        unknown.map((n) => `Field ${n} does not exist in list ${list.apiName}`),
      ),
    );
  }
  if (new Set(columns).size !== columns.length)
    throw new ReplyError(loadValidationFailed('fields names a field more than once'));

  // parseLoadOptions has refused a load without keyFields.
  const keyNames = splitNames(query.byLower.get('keyfields') ?? '');
  if (keyNames.some((n) => n === '')) throw new ReplyError(loadValidationFailed('keyFields holds an empty field name'));
  const keys = positionsOf(list, keyNames);
  if (keys.unknown.length) {
    throw new ReplyError(
      loadValidationFailed(
        `Unknown field(s) in keyFields: ${keys.unknown.join(', ')}`,
        keys.unknown.map((n) => `Key field ${n} does not exist in list ${list.apiName}`),
      ),
    );
  }
  const keyPositions = [...new Set(keys.positions)];
  const missing = keyPositions.filter((p) => !columns.includes(p)).map((p) => list.fieldAt(p).name);
  if (missing.length)
    throw new ReplyError(loadValidationFailed(`Key field(s) ${missing.join(', ')} are not among the loaded fields`));

  if (settings.keyIndexGuard !== 'none') {
    const bk = new Set((list.businessKey ?? []).map((n) => n.toUpperCase()));
    const wantedKeys = new Set(keyPositions.map((p) => list.fieldAt(p).upper));
    const covered =
      (settings.keyIndexGuard === 'covers' || bk.size === wantedKeys.size) && [...wantedKeys].every((k) => bk.has(k));
    if (!covered) {
      const wanted = keyPositions.map((p) => list.fieldAt(p).name).join(', ');
      const current = list.businessKey
        ? `the current key index covers ${list.businessKey.join(', ')}`
        : 'the list has no key index';
      throw new ReplyError(
        loadValidationFailed(`No unique key index covers the key fields ${wanted}`, [
          `Missing unique key index (business key) on ${wanted} of list ${list.apiName}; ${current}. Create it with PUT /lists/${list.apiName}/businesskey`,
        ]),
      );
    }
  }
  return { columns, keyPositions, start };
}

export function handleLoadList(list: ListState, query: ParsedQuery, body: Buffer, settings: HandlerSettings): Reply {
  const opts = parseLoadOptions(query, false);
  const rows = parseRows(body);
  const { columns, keyPositions, start } = resolveColumns(list, query, rows, settings);
  settings.onRows?.(rows.length - start);
  const result = loadList(
    list,
    makePlan(columns, keyPositions, { ...opts, acceptStrings: settings.acceptStrings }),
    rows,
    start,
  );
  return { status: 200, json: result };
}

export function handleLoadSegment(
  list: ListState,
  seg: Segment,
  query: ParsedQuery,
  body: Buffer,
  settings: HandlerSettings,
): Reply {
  const opts = parseLoadOptions(query, true);
  const rows = parseRows(body);
  const { columns, keyPositions, start } = resolveColumns(list, query, rows, settings);
  settings.onRows?.(rows.length - start);
  const result = loadSegment(
    list,
    seg,
    makePlan(columns, keyPositions, { ...opts, acceptStrings: settings.acceptStrings }),
    rows,
    start,
    settings.segmentSemantics,
  );
  return { status: 200, json: result };
}

/** `DELETE .../segments/{segment}/data`: the segment load's parameters and body; removes memberships only. */
export function handleDeleteSegmentData(
  list: ListState,
  seg: Segment,
  query: ParsedQuery,
  body: Buffer,
  settings: HandlerSettings,
): Reply {
  const opts = parseLoadOptions(query, true);
  const rows = parseRows(body);
  // Removing references needs no unique key index.
  const { columns, keyPositions, start } = resolveColumns(list, query, rows, { ...settings, keyIndexGuard: 'none' });
  settings.onRows?.(rows.length - start);
  const result = deleteMembers(
    list,
    seg,
    makePlan(columns, keyPositions, { ...opts, acceptStrings: settings.acceptStrings }),
    rows,
    start,
  );
  return { status: 200, json: result };
}

// ---------------------------------------------------------------------------------------------------
// Search

/** The page size when `take` is absent (unpublished by the vendor; clients must always send take). */
export const DEFAULT_TAKE = 100;
/** The largest page: a larger `take` is capped to it. */
export const MAX_TAKE = 1000;

/**
 * The vendor's search model: `{fields (required), filters: [{field_name, operator, field_value}], skip, take,
 * order_by, order_by_direction}`; answers `{fields, data: [[...]], result_code, errors}`.
 */
export function handleSearch(list: ListState, seg: Segment | undefined, body: unknown): Reply {
  const o = asObject(body);
  if (!isStringArray(o.fields) || o.fields.length === 0)
    throw new ReplyError(validationFailed('fields is required: a non-empty array of field names'));
  const { positions, unknown } = positionsOf(list, o.fields);
  if (unknown.length) throw new ReplyError(validationFailed(`Unknown field(s): ${unknown.join(', ')}`));
  const filters: SearchFilter[] = [];
  if (o.filters !== undefined && o.filters !== null) {
    if (!Array.isArray(o.filters)) throw new ReplyError(validationFailed('filters must be an array'));
    for (const raw of o.filters) {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new ReplyError(validationFailed('each filter must be an object {field_name, operator, field_value}'));
      }
      const f = raw as Record<string, unknown>;
      const position = typeof f.field_name === 'string' ? list.position(f.field_name) : undefined;
      if (position === undefined)
        throw new ReplyError(validationFailed(`Unknown filter field_name: ${String(f.field_name)}`));
      const operator = canonicalOperator(f.operator);
      if (!operator)
        throw new ReplyError(
          validationFailed(
            `Unsupported filter operator ${String(f.operator)}; supported: ${SEARCH_OPERATORS.join(', ')}`,
          ),
        );
      filters.push({
        position,
        operator,
        value: UNARY_OPERATORS.has(operator) ? null : filterValue(list, position, operator, f.field_value),
      });
    }
  }
  const skip = intParam(o.skip, 'skip', 0, 0, Number.MAX_SAFE_INTEGER);
  const take = Math.min(intParam(o.take, 'take', DEFAULT_TAKE, 1, Number.MAX_SAFE_INTEGER), MAX_TAKE);
  let orderBy: number | undefined;
  if (o.order_by !== undefined && o.order_by !== null && o.order_by !== '') {
    orderBy = typeof o.order_by === 'string' ? list.position(o.order_by) : undefined;
    if (orderBy === undefined)
      throw new ReplyError(validationFailed(`Unknown order_by field: ${scalarText(o.order_by)}`));
  }
  let descending = false;
  if (o.order_by_direction !== undefined && o.order_by_direction !== null) {
    const d = typeof o.order_by_direction === 'string' ? o.order_by_direction.toUpperCase() : '';
    if (d !== 'ASC' && d !== 'DESC') throw new ReplyError(validationFailed('order_by_direction must be ASC or DESC'));
    descending = d === 'DESC';
  }
  return { status: 200, json: search(list, seg, { positions, filters, skip, take, orderBy, descending }) };
}

/** A filter's field_value (a string) in the form the field stores, so comparisons follow the field's type. */
function filterValue(list: ListState, position: number, operator: string, raw: unknown): unknown {
  const field = list.fieldAt(position);
  if (typeof raw !== 'string')
    throw new ReplyError(validationFailed(`The ${operator} filter on ${field.name} needs field_value as a string`));
  if (operator === 'Like') return likePattern(raw);
  switch (field.dataType) {
    case 'Long':
    case 'Numeric':
    case 'Float':
    case 'Boolean': {
      // field_value is always a string, whatever the value-typing variant.
      const v = coerceValue(field.dataType, raw, true);
      if (v === null || checkValue({ ...field, allowNull: false }, v)) {
        throw new ReplyError(
          validationFailed(`field_value ${JSON.stringify(raw)} is not a valid ${field.dataType} for ${field.name}`),
        );
      }
      return v;
    }
    default:
      return raw;
  }
}
function intParam(v: unknown, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ReplyError(validationFailed(`${name} must be an integer between ${min} and ${max}`));
  }
  return v;
}
