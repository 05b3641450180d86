import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { closest } from './closest.js';
import { scalarText } from '../scalar-text.js';
import { API_NAME } from '../api-name.js';

/**
 * `result_settings`: the same keys, values and defaults as Treasure Data's own Selligent result export
 * (so a block moves from a `td>` task unchanged), plus optional project extensions.
 */

export const LIST_IMPORT_OPTIONS = ['InsertAndUpdate', 'OnlyInsert', 'OnlyUpdate'] as const;
export const SEGMENT_IMPORT_OPTIONS = ['append', 'replace'] as const;
export const DEDUPLICATION = ['ImportLastMatch', 'ImportFirstMatch'] as const;
export const ERROR_HANDLING = ['ContinueOnError', 'StopOnError'] as const;
export const MODES = ['Sync', 'Stream'] as const;
export const SEGMENT_REPLACE_STRATEGIES = ['clear_then_load', 'load_then_remove'] as const;
export const SYNC_MODES = ['full', 'changes'] as const;
/** Server-side encryption of state writes: none (the bucket's default), SSE-S3, SSE-KMS. */
export const STATE_SSE = ['none', 'AES256', 'aws:kms'] as const;

const MIB = 1024 * 1024;

const REMOVAL_RATIO_RULE = "must be from 0 to 1 (the largest share of a Segment's current members one run may remove)";
const MIN_MEMBERS_RULE = 'must be a whole number of at least 0 (the fewest members a Segment may be left with)';

/** Selligent's business key (the List's unique key index) takes 1 to 3 fields. */
export const MAX_BUSINESS_KEY_FIELDS = 3;

/** digdag interpolation can turn a YAML boolean into the text "true"; nothing looser is accepted. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')]);

const apiName = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `must not be empty`)
    .max(100, `must be at most 100 characters`)
    .regex(API_NAME, `must be a Selligent api_name (letters, digits and underscores only); ${what}`);

const fieldName = z
  .string()
  .trim()
  .min(1)
  .regex(API_NAME, 'each key field must be letters, digits and underscores only');

const keyFields = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(fieldName).min(1, 'must name at least one field'))
  .transform((names) => names.map((name) => name.toUpperCase()))
  .refine((names) => new Set(names).size === names.length, 'must not name the same field twice');

/**
 * digdag interpolation turns `batch_rows: 5000` into the text "5000" as readily as it does booleans:
 * a number written as text is read as that number. Anything else stays text and is refused as a number.
 */
const NUMBER_TEXT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const numeric = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && NUMBER_TEXT.test(value) ? Number(value) : value), schema);

const int = (min: number, max: number) => numeric(z.number().int().min(min).max(max));

const settingsObject = z.strictObject({
  organization: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be an organization name (letters, digits, "_", "." and "-")')
    .refine((name) => name !== '.' && name !== '..', 'must be an organization name, not a path'),
  list_api_name: apiName('the List to load'),
  create_list_if_not_exists: flag.default(false),
  list_data_import_option: z.enum(LIST_IMPORT_OPTIONS).default('InsertAndUpdate'),
  segment_column: z.string().trim().min(1, "must name the input column holding each row's Segment"),
  create_segment_if_not_exists: flag.default(false),
  segment_data_import_option: z.enum(SEGMENT_IMPORT_OPTIONS).default('append'),
  key_fields: keyFields,
  deduplication: z.enum(DEDUPLICATION).default('ImportLastMatch'),
  error_handling: z.enum(ERROR_HANDLING).default('ContinueOnError'),
  mode: z.enum(MODES).default('Sync'),
  skip_invalid_records: flag.default(true),

  // Project extensions.
  batch_rows: int(1, 100_000).default(5_000),
  batch_bytes: int(1024, 32 * MIB).default(10 * MIB),
  segment_batch_rows: int(1, 100_000).default(5_000),
  list_busy_retry_seconds: int(1, 86_400).default(600),
  segment_batch_rows_max: int(1, 1_000_000).nullable().default(null),
  requests_per_minute: int(1, 100_000).default(2_500),
  request_timeout_seconds: numeric(z.number().positive().max(3_600)).default(120),
  connect_timeout_seconds: numeric(z.number().positive().max(600)).default(10),
  max_attempts: int(1, 50).default(8),
  retry_budget_seconds: numeric(z.number().positive().max(86_400)).default(900),
  max_rejected_rows: numeric(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable()).default(null),
  max_rejected_ratio: numeric(z.number().min(0).max(1).nullable()).default(null),
  max_decompressed_bytes: int(1, Number.MAX_SAFE_INTEGER).default(100 * 1024 * MIB),
  max_field_bytes: int(1, 64 * MIB).default(MIB),
  segment_replace_strategy: z.enum(SEGMENT_REPLACE_STRATEGIES).default('clear_then_load'),
  max_segment_removal_ratio: numeric(
    z.number().min(0, REMOVAL_RATIO_RULE).max(1, REMOVAL_RATIO_RULE).nullable(),
  ).default(null),
  min_segment_members: numeric(
    z
      .number()
      .min(0, MIN_MEMBERS_RULE)
      .max(Number.MAX_SAFE_INTEGER)
      // A refinement rather than .int(): its message reaches the user, where .int() says only "expected int".
      .refine(Number.isInteger, MIN_MEMBERS_RULE)
      .nullable(),
  ).default(null),
  force: flag.default(false),
  sync_mode: z.enum(SYNC_MODES).default('full'),
  state_uri: z.string().trim().min(1, 'must not be empty; leave it out to use env STATE_URI').nullable().default(null),
  full_resync: flag.default(false),
  state_sse: z.enum(STATE_SSE).nullable().default(null),
  state_sse_kms_key_id: z.string().trim().min(1, 'must not be empty').nullable().default(null),
});

export const SETTING_NAMES = Object.keys(settingsObject.shape);

export const settingsSchema = settingsObject
  .refine((settings) => !settings.key_fields.includes(settings.segment_column.toUpperCase()), {
    message: 'segment_column is used for routing only and cannot also be a key field',
    path: ['key_fields'],
  })
  .refine((settings) => !settings.create_list_if_not_exists || settings.key_fields.length <= MAX_BUSINESS_KEY_FIELDS, {
    message: `must name at most ${MAX_BUSINESS_KEY_FIELDS} fields when create_list_if_not_exists is true: the exporter defines the List's business key (its unique key index) over key_fields, and Selligent's business key takes 1 to ${MAX_BUSINESS_KEY_FIELDS} fields`,
    path: ['key_fields'],
  })
  .refine(
    (settings) =>
      settings.segment_batch_rows_max === null || settings.segment_batch_rows_max >= settings.segment_batch_rows,
    {
      message:
        "must be at least segment_batch_rows (the first Segment request's size); set both, or leave segment_batch_rows_max out",
      path: ['segment_batch_rows_max'],
    },
  );

/**
 * Segment requests grow up to this many key rows while the service answers fast. Key rows are a few
 * dozen bytes, so even the largest stays far under batch_bytes.
 */
export const DEFAULT_SEGMENT_BATCH_ROWS_MAX = 50_000;

/** The largest Segment request: the setting, else the default, never below the first request's size. */
export function segmentBatchRowsMax(settings: Pick<Settings, 'segment_batch_rows' | 'segment_batch_rows_max'>): number {
  return settings.segment_batch_rows_max ?? Math.max(DEFAULT_SEGMENT_BATCH_ROWS_MAX, settings.segment_batch_rows);
}

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** Validates raw settings into effective settings (defaults filled in), or a ConfigError naming every problem. */
export function parseSettings(raw: unknown, source = 'settings'): Settings {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('SETTINGS_INVALID', `${source}: expected a map of result_settings, got ${describe(raw)}`, {
      stage: 'settings',
    });
  }
  const result = settingsSchema.safeParse(raw);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => formatIssue(issue, raw as Record<string, unknown>));
  throw new ConfigError(
    'SETTINGS_INVALID',
    `${source} ${messages.length === 1 ? 'has a problem' : `has ${messages.length} problems`}:\n  - ${messages.join('\n  - ')}`,
    {
      stage: 'settings',
      details: { problems: messages },
    },
  );
}

type Issue = z.core.$ZodIssue;

function formatIssue(issue: Issue, raw: Record<string, unknown>): string {
  const path = issue.path.map(String).join('.') || '(settings)';
  const top = issue.path[0];
  const given = typeof top === 'string' ? raw[top] : undefined;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = SETTING_NAMES;
      return issue.keys
        .map((key) => {
          const hint = closest(key, known);
          return `${key}: unknown setting${hint ? ` (did you mean ${hint}?)` : ''}`;
        })
        .join('\n  - ');
    }
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const text = `${path}: expected one of ${allowed.join(', ')}, got ${describe(given)}`;
      const match =
        typeof given === 'string' ? allowed.find((value) => value.toLowerCase() === given.toLowerCase()) : undefined;
      return match ? `${text} (values are case-sensitive: write ${match})` : text;
    }
    case 'invalid_type':
      if (given === undefined && issue.path.length === 1) return `${path}: required setting is missing`;
      return `${path}: expected ${issue.expected}, got ${describe(given)}`;
    case 'invalid_union':
      if (given === undefined) return `${path}: required setting is missing`;
      if (top === 'key_fields')
        return `${path}: expected a comma-separated text of field names or a list of them, got ${describe(given)}`;
      return `${path}: expected true or false, got ${describe(given)}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
      return `${path}: ${issue.message}${given !== undefined && typeof given !== 'object' ? `, got ${describe(given)}` : ''}`;
    default:
      return `${path}: ${issue.message}`;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return `${typeof value} ${scalarText(value)}`;
}
