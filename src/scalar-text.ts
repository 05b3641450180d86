/**
 * A parsed JSON value as text: scalars as `String()` writes them; arrays and objects as JSON, so that no
 * value is ever shown or compared as "[object Object]".
 */
export function scalarText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'object':
      return value === null ? 'null' : JSON.stringify(value);
    default:
      // Symbols and functions never come out of a parser; their type is all there is to say.
      return typeof value;
  }
}
