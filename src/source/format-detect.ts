import { InputError } from '../errors.js';

export type InputFormat = 'csv' | 'tsv' | 'jsonl';
export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'tsv', 'jsonl'];

/** The format from an explicit option, else from the object name (after any .gz), else CSV. */
export function formatFor(uri: string, explicit?: string): InputFormat {
  if (explicit) {
    const format = explicit.toLowerCase() as InputFormat;
    if (!INPUT_FORMATS.includes(format)) {
      throw new InputError(
        'INPUT_FORMAT_INVALID',
        `--format: expected one of ${INPUT_FORMATS.join(', ')}, got ${JSON.stringify(explicit)}`,
        { stage: 'read' },
      );
    }
    return format;
  }
  const name = uri.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson') || name.endsWith('.json')) return 'jsonl';
  return 'csv';
}
