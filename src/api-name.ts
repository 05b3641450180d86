/**
 * Selligent's rule for an api_name (a List, a Segment or a field): letters, digits and underscores only.
 * The settings, the row validation and the simulator all check names against this one pattern.
 */
export const API_NAME = /^[A-Za-z0-9_]+$/;
