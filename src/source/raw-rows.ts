/** A row the reader could not turn into cells; validation skips it with this reason. */
export interface RowProblem {
  problem: string;
  reason: 'malformed_row' | 'unknown_field' | 'blank_row';
}

/** A row as the reader hands it on: its cells, or why it has none. */
export type RawRow = string[] | RowProblem;

/**
 * A line with nothing on it but spaces. Inside the input it is a row like any other (invalid, reported
 * as blank_row), so the rows after it keep their numbers; the blank lines that end an object are not
 * records (a file ending in an extra newline or two has no rows there).
 */
export const BLANK_LINE: RowProblem = { problem: 'the row is blank (an empty line)', reason: 'blank_row' };

/** A row whose text is larger than max_field_bytes: it was not kept, only measured. */
export function oversizedRow(bytes: number, maxFieldBytes: number): RowProblem {
  return {
    problem: `the row is ${bytes} bytes, larger than ${maxFieldBytes} bytes (max_field_bytes); its values were not read`,
    reason: 'malformed_row',
  };
}
