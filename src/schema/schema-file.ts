import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { columnTypeFromName, type ColumnType } from './types.js';

/**
 * Reads the query result's column types from `--schema FILE`: Treasure Data's job result schema
 * (`[["name","type"], ...]`, also as a JSON string inside JSON) or `{"columns":[{"name","type"}]}`.
 * Returns upper-cased column name -> type.
 */
export async function readSchemaFile(path: string): Promise<Map<string, ColumnType>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(
      'SCHEMA_UNREADABLE',
      `--schema ${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { stage: 'read' },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (typeof value === 'string') value = JSON.parse(value);
  } catch (error) {
    throw new InputError('SCHEMA_INVALID', `--schema ${path}: not JSON (${(error as Error).message})`, {
      stage: 'read',
    });
  }
  return parseSchema(value, `--schema ${path}`);
}

export function parseSchema(value: unknown, source: string): Map<string, ColumnType> {
  let pairs: Array<[unknown, unknown]>;
  if (Array.isArray(value)) {
    pairs = value.map((entry, i) => {
      if (!Array.isArray(entry) || entry.length < 2) throw invalid(source, `entry ${i + 1} must be ["name", "type"]`);
      return [entry[0], entry[1]];
    });
  } else if (value && typeof value === 'object' && Array.isArray((value as { columns?: unknown }).columns)) {
    pairs = (value as { columns: unknown[] }).columns.map((entry, i) => {
      if (!entry || typeof entry !== 'object') throw invalid(source, `columns[${i}] must be {"name", "type"}`);
      const column = entry as { name?: unknown; type?: unknown };
      return [column.name, column.type];
    });
  } else {
    throw invalid(source, 'expected [["name","type"], ...] or {"columns": [{"name": ..., "type": ...}]}');
  }
  const types = new Map<string, ColumnType>();
  for (const [name, typeName] of pairs) {
    if (typeof name !== 'string' || name.trim() === '')
      throw invalid(source, `a column name must be non-empty text, got ${JSON.stringify(name)}`);
    if (typeof typeName !== 'string')
      throw invalid(source, `column ${name}: the type must be text, got ${JSON.stringify(typeName)}`);
    const type = columnTypeFromName(typeName);
    if (!type)
      throw invalid(
        source,
        `column ${name}: unknown type ${JSON.stringify(typeName)} (expected a Treasure Data, Presto/Trino or Hive type such as varchar, bigint, double, boolean, timestamp)`,
      );
    types.set(name.trim().toUpperCase(), type);
  }
  return types;
}

function invalid(source: string, message: string): InputError {
  return new InputError('SCHEMA_INVALID', `${source}: ${message}`, { stage: 'read' });
}
