import type { Settings } from '../config/settings.js';
import { InputError } from '../errors.js';
import type { ColumnType, InferredType } from '../schema/types.js';

/** Selligent field names: the api_name rule (letters, digits, underscores), at most 100 characters. */
const FIELD_NAME = /^[A-Za-z0-9_]+$/;
export const MAX_FIELD_NAME_LENGTH = 100;

export function isFieldName(name: string): boolean {
  return name.length <= MAX_FIELD_NAME_LENGTH && FIELD_NAME.test(name);
}

export interface Column {
  /** Position in the input row. */
  index: number;
  /** The column name as in the input. */
  name: string;
  /** The Selligent field name: the column name in upper case. */
  field: string;
  /** Type the input values are validated against (schema), or the inferred type once reading is done. */
  type: ColumnType;
  /** Type the values are converted to when sent; the List's field type when the List exists. */
  sendType: ColumnType;
}

export interface ColumnPlan {
  /** Every input column except the routing column, in input order. */
  fields: Column[];
  /** The key columns, in `key_fields` order. */
  keys: Column[];
  /** Position of the key columns within `fields`. */
  keyPositions: number[];
  segmentIndex: number;
  /** The routing column's name as in the input. */
  segmentColumn: string;
  width: number;
  typesFrom: 'schema-file' | 'inferred' | 'native';
  /** While inferring: the type each field column's values imply so far. */
  inferred: InferredType[] | undefined;
  /** Per field column: characters of its longest value so far (how a created Text field is sized). */
  longest?: number[];
}

/**
 * Maps the header to fields: every column but `segment_column` becomes the upper-cased field; key
 * fields and the routing column must be present (exit 3 before anything is written).
 */
export function planColumns(
  header: string[],
  settings: Settings,
  schema: Map<string, ColumnType> | undefined,
  typesFrom: ColumnPlan['typesFrom'],
): ColumnPlan {
  const upper = header.map((name) => name.toUpperCase());
  const segmentIndex = upper.indexOf(settings.segment_column.toUpperCase());
  const missing: string[] = [];
  if (segmentIndex < 0) missing.push(`segment_column ${JSON.stringify(settings.segment_column)}`);
  for (const key of settings.key_fields) if (!upper.includes(key)) missing.push(`key field ${key}`);
  if (missing.length > 0) {
    throw new InputError(
      'INPUT_COLUMNS_MISSING',
      `the input has no column for ${missing.join(', ')} (columns: ${header.join(', ')})`,
      {
        stage: 'read',
        details: { missing, columns: header },
      },
    );
  }
  const badNames = header.filter((name, i) => i !== segmentIndex && !isFieldName(name.toUpperCase()));
  if (badNames.length > 0) {
    // Selligent refuses such a field only when it is created, after the List itself: found here, before any write.
    throw new InputError(
      'FIELD_NAME_INVALID',
      `input column${badNames.length > 1 ? 's' : ''} ${badNames.map((name) => JSON.stringify(name)).join(', ')} cannot be ${badNames.length > 1 ? 'Selligent field names' : 'a Selligent field name'}: a field name is 1 to ${MAX_FIELD_NAME_LENGTH} letters, digits and underscores (rename the column in the query, e.g. "e-mail" AS e_mail)`,
      { stage: 'read', details: { columns: badNames } },
    );
  }
  if (schema) {
    const unknown = upper.filter((name, i) => i !== segmentIndex && !schema.has(name));
    if (unknown.length > 0) {
      throw new InputError('SCHEMA_MISMATCH', `--schema gives no type for input column(s) ${unknown.join(', ')}`, {
        stage: 'read',
        details: { columns: unknown },
      });
    }
  }
  const fields: Column[] = [];
  header.forEach((name, index) => {
    if (index === segmentIndex) return;
    const type = schema?.get(upper[index]!) ?? 'string';
    fields.push({ index, name, field: upper[index]!, type, sendType: type });
  });
  const keyPositions = settings.key_fields.map((key) => fields.findIndex((column) => column.field === key));
  return {
    fields,
    keys: keyPositions.map((position) => fields[position]!),
    keyPositions,
    segmentIndex,
    segmentColumn: header[segmentIndex]!,
    width: header.length,
    typesFrom,
    inferred: typesFrom === 'schema-file' ? undefined : fields.map(() => 'unknown'),
    longest: fields.map(() => 0),
  };
}

/** Fixes inferred types once every value has been seen; a column with no value at all is text. */
export function settleInferredTypes(plan: ColumnPlan, native?: InferredType[]): void {
  if (!plan.inferred) return;
  plan.fields.forEach((column, i) => {
    const seen = native ? (native[column.index] ?? 'unknown') : plan.inferred![i]!;
    column.type = seen === 'unknown' ? 'string' : seen;
    column.sendType = column.type;
  });
}
