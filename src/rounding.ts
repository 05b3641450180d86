/** `value` to `digits` decimal places, as figures are shown in reports, logs and benchmark tables. */
export function roundTo(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Seconds to the millisecond, as the report gives them. */
export function roundSeconds(value: number): number {
  return roundTo(value, 3);
}
