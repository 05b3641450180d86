import { AuthError, ConfigError } from '../errors.js';
import { COMPATIBLE_FIELD_TYPES, FIELD_TYPE_FOR, textFieldFor, type ColumnType } from '../schema/types.js';
import type { FieldDefinition } from '../selligent/types.js';
import type { ColumnPlan } from './columns.js';
import type { RunContext } from './context.js';

/** The description of a List this exporter creates: how a later run recognises its own List. */
export const CREATED_LIST_DESCRIPTION = 'Created by selligent-export';

/** Fields every new Userlist has from the start. */
const DEFAULT_USERLIST_FIELDS = ['ID', 'MAIL', 'NAME', 'OPTOUT'];

export interface SegmentTarget {
  /** The routing value that names the Segment when it is created: the most used of `values`. */
  value: string;
  /**
   * Every routing value that names this Segment: Selligent matches api names case-insensitively, so
   * `VIP`, `vip` and `Vip` are one Segment, cleared and loaded once.
   */
  values: string[];
  /** The Segment's api_name as Selligent spells it (names match case-insensitively). */
  apiName: string;
  exists: boolean;
  /** Rows routed to it after validation (before deduplication). */
  validRows: number;
}

export interface PreflightResult {
  listExists: boolean;
  /**
   * The List exists but is one this exporter created, still empty, and `create_list_if_not_exists` is on:
   * an earlier run failed while setting it up, so the set-up (missing fields, unique key) is finished now.
   */
  resumeSetup: boolean;
  fieldsToCreate: FieldDefinition[];
  segments: SegmentTarget[];
}

/** Organization and credentials first: cheap, and the most common failure. */
export async function checkOrganization(ctx: RunContext): Promise<void> {
  const { settings, client } = ctx;
  let organization: Record<string, unknown> | undefined;
  try {
    organization = await client.getOrganization(settings.organization);
  } catch (error) {
    // A service account may hold rights on lists and data but not on the organization itself: the List
    // GET tells a missing right (the run goes on) from wrong credentials (it is refused too).
    if (!(error instanceof AuthError) || error.details?.status !== 401) throw error;
    try {
      await client.getList(settings.organization, settings.list_api_name);
    } catch (listError) {
      if (listError instanceof AuthError) throw error;
      throw listError;
    }
    const message = `GET .../organizations/${settings.organization} answered 401 but the List GET was allowed: the service account lacks only the right to read the organization, which the export does not need; the run goes on`;
    ctx.results.warnings.push({ code: 'ORGANIZATION_GET_REFUSED', message });
    ctx.logger.warn({ organization: settings.organization }, message);
    return;
  }
  if (!organization) {
    throw new ConfigError(
      'ORGANIZATION_NOT_FOUND',
      `organization ${JSON.stringify(settings.organization)} was not found at ${ctx.options.credentials.baseUrl} (check the organization setting and SELLIGENT_BASE_URL)`,
      {
        stage: 'preflight',
      },
    );
  }
}

/**
 * Stage 3: reads only. Checks the List and its fields against the input, and every target Segment,
 * so that a configuration problem fails the run before anything is written.
 */
export async function preflight(
  ctx: RunContext,
  plan: ColumnPlan,
  segmentRows: Map<string, number>,
): Promise<PreflightResult> {
  const { settings, client, logger } = ctx;
  const org = settings.organization;
  const listName = settings.list_api_name;

  const list = await client.getList(org, listName);
  let fieldsToCreate: FieldDefinition[] = [];
  let resumeSetup = false;
  if (!list) {
    if (!settings.create_list_if_not_exists) {
      throw new ConfigError(
        'LIST_NOT_FOUND',
        `List ${listName} was not found in organization ${org}; create it in Selligent or set create_list_if_not_exists: true`,
        { stage: 'preflight' },
      );
    }
    fieldsToCreate = plan.fields
      .filter((column) => !DEFAULT_USERLIST_FIELDS.includes(column.field))
      .map((column) => fieldDefinition(column.field, column.type, plan.longest?.[plan.fields.indexOf(column)]));
  } else {
    const existing = new Map((await client.getFields(org, listName)).map((field) => [field.name.toUpperCase(), field]));
    const missing = plan.fields.filter((column) => !existing.has(column.field)).map((column) => column.field);
    resumeSetup =
      settings.create_list_if_not_exists &&
      list.description === CREATED_LIST_DESCRIPTION &&
      (await client.countRecords(org, listName)) === 0;
    if (resumeSetup) {
      fieldsToCreate = plan.fields
        .filter((column) => !existing.has(column.field) && !DEFAULT_USERLIST_FIELDS.includes(column.field))
        .map((column) => fieldDefinition(column.field, column.type, plan.longest?.[plan.fields.indexOf(column)]));
      logger.info(
        { list: listName, fields: fieldsToCreate.map((field) => field.name) },
        `List ${listName} was created by an earlier run that did not finish setting it up: finishing its fields and unique key`,
      );
    } else if (missing.length > 0) {
      throw new ConfigError(
        'FIELDS_MISSING',
        `List ${listName} has no field${missing.length > 1 ? 's' : ''} ${missing.join(', ')} for input column${missing.length > 1 ? 's' : ''} of the same name; add ${missing.length > 1 ? 'them' : 'it'} to the List (or drop the column from the query)`,
        { stage: 'preflight', details: { missing } },
      );
    }
    for (const column of plan.fields) {
      const field = existing.get(column.field);
      if (!field) continue;
      // Names match case-insensitively; loads name each field as the List spells it.
      column.field = field.name;
      const sendType = sendTypeFor(field.data_type);
      if (!sendType) continue;
      if (!COMPATIBLE_FIELD_TYPES[column.type].includes(field.data_type)) {
        logger.warn(
          { column: column.name, columnType: column.type, field: column.field, fieldType: field.data_type },
          `column ${column.name} (${column.type}) loads into field ${column.field} of type ${field.data_type}: values that do not convert are rejected`,
        );
      }
      column.sendType = sendType;
    }
  }

  const existingSegments = new Map<string, { api_name: string; segment_type?: string }>();
  if (list) {
    for (const segment of await client.listSegments(org, listName))
      existingSegments.set(segment.api_name.toLowerCase(), segment);
  }
  const segments: SegmentTarget[] = [];
  const missing: string[] = [];
  const notStatic: string[] = [];
  const otherType: string[] = [];
  for (const group of groupRoutingValues(segmentRows)) {
    const { value, values, validRows } = group;
    if (values.length > 1) {
      const message = `routing values ${values.join(', ')} name one Segment (Selligent matches api names case-insensitively): its ${validRows} row(s) are loaded into it once`;
      ctx.results.warnings.push({ code: 'SEGMENT_VALUES_MERGED', message });
      logger.warn({ values }, message);
    }
    const found = existingSegments.get(value.toLowerCase());
    if (!found) {
      if (!settings.create_segment_if_not_exists) missing.push(value);
      segments.push({ value, values, apiName: value, exists: false, validRows });
      continue;
    }
    let type = found.segment_type;
    if (type === undefined) type = (await client.getSegment(org, listName, found.api_name))?.type;
    const kind = type?.toLowerCase();
    if (kind === 'dynamic') notStatic.push(`${found.api_name} (${type})`);
    // External and Unknown are what some tenants report for a static Segment: the load decides.
    else if (type !== undefined && kind !== 'static') otherType.push(`${found.api_name} (${type})`);
    segments.push({ value, values, apiName: found.api_name, exists: true, validRows });
  }
  if (otherType.length > 0 && notStatic.length === 0) {
    const message = `Segment${otherType.length > 1 ? 's' : ''} ${otherType.slice(0, 20).join(', ')}${otherType.length > 20 ? ` and ${otherType.length - 20} more` : ''} of List ${listName} ${otherType.length > 1 ? 'report a type' : 'reports a type'} other than Static; the loads go on and Selligent decides (a refusal fails that Segment's load)`;
    ctx.results.warnings.push({ code: 'SEGMENT_TYPE_NOT_STATIC', message });
    logger.warn({ segments: otherType }, message);
  }
  if (notStatic.length > 0) {
    throw new ConfigError(
      'SEGMENT_NOT_STATIC',
      `Segment${notStatic.length > 1 ? 's' : ''} ${notStatic.join(', ')} of List ${listName} ${notStatic.length > 1 ? 'are' : 'is'} not static; rows can be loaded into static Segments only`,
      {
        stage: 'preflight',
        details: { segments: notStatic },
      },
    );
  }
  if (missing.length > 0) {
    throw new ConfigError(
      'SEGMENT_NOT_FOUND',
      `Segment${missing.length > 1 ? 's' : ''} ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ` and ${missing.length - 20} more` : ''} ${missing.length > 1 ? 'do' : 'does'} not exist in List ${listName}; create ${missing.length > 1 ? 'them' : 'it'} or set create_segment_if_not_exists: true`,
      { stage: 'preflight', details: { missing } },
    );
  }
  return { listExists: Boolean(list), resumeSetup, fieldsToCreate, segments };
}

/**
 * Routing values grouped the way Selligent matches api names (case-insensitively), in name order. A
 * group is named by its most used spelling (the first in sort order on a tie), which is also the name a
 * missing Segment is created with.
 */
export function groupRoutingValues(
  segmentRows: Map<string, number>,
): Array<{ value: string; values: string[]; validRows: number }> {
  const groups = new Map<string, string[]>();
  for (const value of [...segmentRows.keys()].sort()) {
    const key = value.toLowerCase();
    const group = groups.get(key);
    if (group) group.push(value);
    else groups.set(key, [value]);
  }
  return [...groups.values()]
    .map((values) => {
      const value = values.reduce((best, next) => (segmentRows.get(next)! > segmentRows.get(best)! ? next : best));
      return { value, values, validRows: values.reduce((sum, v) => sum + segmentRows.get(v)!, 0) };
    })
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/** The field created for a column; a text column's field is sized from its longest value (characters). */
export function fieldDefinition(name: string, type: ColumnType, longest = 0): FieldDefinition {
  const dataType = FIELD_TYPE_FOR[type];
  return dataType === 'Text'
    ? { name, ...textFieldFor(longest), allow_null: true }
    : { name, data_type: dataType, allow_null: true };
}

/** How values must be sent to a field of this Selligent type; undefined for a type the exporter does not convert to. */
function sendTypeFor(dataType: string): ColumnType | undefined {
  switch (dataType) {
    case 'Text':
    case 'LongText':
    case 'Json':
      return 'string';
    case 'Long':
      return 'long';
    case 'Float':
      return 'double';
    case 'Numeric':
      return 'numeric';
    case 'Boolean':
      return 'boolean';
    case 'Date':
      return 'date';
    case 'DateTime':
      return 'timestamp';
    default:
      return undefined;
  }
}
