import type { StateIdentity } from './format.js';

export interface IdentitySource {
  /** SELLIGENT_BASE_URL: only its host is kept. */
  baseUrl: string;
  organization: string;
  list: string;
  keyFields: readonly string[];
  keyForm: StateIdentity['key_form'];
  /** The fields sent, in order, with their Selligent type (Text, Long, ...). */
  fields: ReadonlyArray<{ name: string; type: string }>;
  segmentColumn: string;
  segmentImportOption: string;
}

export function stateIdentity(source: IdentitySource): StateIdentity {
  let host: string;
  try {
    host = new URL(source.baseUrl).host.toLowerCase();
  } catch {
    host = '';
  }
  return {
    host,
    organization: source.organization,
    list: source.list,
    key_fields: [...source.keyFields],
    key_form: source.keyForm,
    fields: source.fields.map(({ name, type }) => ({ name, type })),
    segment_column: source.segmentColumn,
    segment_import_option: source.segmentImportOption,
  };
}

/**
 * Why a state recorded under `recorded` cannot be trusted for a run under `current` (the run is then a
 * full one), or null when they are the same. The reason names what differs, never a row value.
 */
export function identityResetReason(recorded: StateIdentity, current: StateIdentity): string | null {
  const differs: string[] = [];
  if (recorded.host !== current.host) differs.push(`Selligent host ${recorded.host} -> ${current.host}`);
  if (recorded.organization !== current.organization)
    differs.push(`organization ${recorded.organization} -> ${current.organization}`);
  if (recorded.list !== current.list) differs.push(`List ${recorded.list} -> ${current.list}`);
  if (!sameList(recorded.key_fields, current.key_fields))
    differs.push(`key_fields ${recorded.key_fields.join(',')} -> ${current.key_fields.join(',')}`);
  if (recorded.key_form !== current.key_form)
    differs.push(`key comparison ${recorded.key_form} -> ${current.key_form}`);
  const fields = fieldChanges(recorded.fields ?? [], current.fields);
  if (fields) differs.push(fields);
  if (recorded.segment_column !== current.segment_column)
    differs.push(`segment_column ${recorded.segment_column} -> ${current.segment_column}`);
  if (recorded.segment_import_option !== current.segment_import_option) {
    differs.push(`segment_data_import_option ${recorded.segment_import_option} -> ${current.segment_import_option}`);
  }
  return differs.length === 0 ? null : `the state was recorded for other settings: ${differs.join('; ')}`;
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((value, i) => value === b[i]);
}

function fieldChanges(
  recorded: ReadonlyArray<{ name: string; type: string }>,
  current: ReadonlyArray<{ name: string; type: string }>,
): string | undefined {
  const before = new Map(recorded.map((field) => [field.name, field.type]));
  const after = new Map(current.map((field) => [field.name, field.type]));
  const parts: string[] = [];
  const added = current.filter((field) => !before.has(field.name)).map((field) => field.name);
  const removed = recorded.filter((field) => !after.has(field.name)).map((field) => field.name);
  const retyped = current
    .filter((field) => before.has(field.name) && before.get(field.name) !== field.type)
    .map((field) => `${field.name} ${before.get(field.name)} -> ${field.type}`);
  if (added.length > 0) parts.push(`fields added ${added.join(',')}`);
  if (removed.length > 0) parts.push(`fields removed ${removed.join(',')}`);
  if (retyped.length > 0) parts.push(`field types ${retyped.join(', ')}`);
  if (
    parts.length === 0 &&
    !sameList(
      recorded.map((field) => field.name),
      current.map((field) => field.name),
    )
  )
    parts.push('field order changed');
  return parts.length > 0 ? parts.join('; ') : undefined;
}
