import { convertValue, type ColumnType } from '../schema/types.js';
import type { StateIdentity } from './format.js';

/**
 * A recorded key as the JSON array of values a Segment request takes (its key fields in order): what
 * removing the membership of a key that left the input needs, since its row is no longer at hand.
 * Canonical keys join their values with U+0000, as the deduplication's keys do.
 */
export function keyValuesJson(key: string, types: readonly ColumnType[], form: StateIdentity['key_form']): string {
  const parts = types.length === 1 ? [key] : key.split('\u0000');
  if (parts.length !== types.length)
    throw new RangeError(`a recorded key has ${parts.length} values, the key has ${types.length} fields`);
  return `[${parts.map((text, i) => valueJson(text, types[i]!, form)).join(',')}]`;
}

function valueJson(text: string, type: ColumnType, form: StateIdentity['key_form']): string {
  if (text === '') return 'null';
  // Typed canonical forms of these types are already the JSON the value is sent as (see keyForm).
  if (form === 'typed' && type !== 'string' && type !== 'long' && type !== 'double') return text;
  const conversion = convertValue(text, type);
  return conversion.ok ? conversion.json : JSON.stringify(text);
}
