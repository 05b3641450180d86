/** Per key field, the form its values are compared in (see keyForm in schema/types); none = as given. */
export type KeyForms = ReadonlyArray<((text: string) => string) | undefined>;

/**
 * The identity of a record, which two rows share exactly when they are duplicates: its key values
 * (`cells` at `positions`), each as given or in its type's canonical form, joined by NUL so that no two
 * different keys meet.
 */
export function recordKey(cells: readonly string[], positions: readonly number[], forms?: KeyForms): string {
  let key = '';
  positions.forEach((position, i) => {
    const text = cells[position] ?? '';
    const form = forms?.[i];
    const value = form ? form(text) : text;
    key = i === 0 ? value : key + '\u0000' + value;
  });
  return key;
}
