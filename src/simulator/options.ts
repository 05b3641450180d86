/**
 * The simulator's options: one zod schema for the start-up options (library call or `--config` file), the
 * subset a running simulator takes over its control route, and the variant switches. Every problem is
 * reported with its path (`rateLimit.limit`, `variants.notFoundStatus`, `credentials.0.key`).
 */

import { z } from 'zod';
import type { ConfigurablePatch, RateLimitOptions, SeedState, SegmentSemantics, SimulatorOptions } from './types.js';
import { DEFAULT_VARIANTS, type Variants } from './variants.js';

export const DEV_API_KEY = 'simulator-key';
export const DEV_API_SECRET = 'simulator-secret';
export const DEFAULT_ORGANIZATION = 'my_org';
export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { limit: 2500, windowMs: 60_000 };
export const DEFAULT_REQUEST_LOG_SIZE = 100_000;

/** Options that do not pass the schema; `problems` holds one path-qualified message per problem. */
export class SimulatorOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function oneOf<const T extends readonly [z.core.util.Literal, ...z.core.util.Literal[]]>(values: T) {
  const shown = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
  return z.literal(values, { error: `must be one of ${shown}` });
}

function intAtLeast(min: 0 | 1) {
  const error = min === 0 ? 'must be a non-negative integer' : 'must be a positive integer';
  return z.number({ error }).int({ error }).min(min, { error });
}

const positiveIntOrNull = z.union([z.null(), intAtLeast(1)], { error: 'must be null or a positive integer' });

const variantsShape = {
  loadFailureStatus: oneOf([400, 200]),
  loadTransientInBody: oneOf([false, true]),
  failedRowDetail: oneOf(['listed', 'count-only']),
  notFoundStatus: oneOf([404, 400]),
  segmentsPageSize: positiveIntOrNull,
  businessKey: oneOf(['ok', 404, 405, 'max3']),
  keyIndexGuard: oneOf(['none', 'exact', 'covers']),
  listBusy429: oneOf(['envelope', 'no-headers', 'quota-text']),
  quotaWindow: oneOf(['token-bucket', 'fixed']),
  serverTimeoutMs: positiveIntOrNull,
  staticSegmentType: oneOf(['Static', 'External', 'Unknown']),
  stringValues: oneOf(['refuse', 'accept']),
  organizationGet: oneOf(['allowed', 401]),
} satisfies { [K in keyof Variants]: z.ZodType<Variants[K]> };

export const VARIANT_NAMES = Object.keys(variantsShape) as Array<keyof Variants>;

const variantsSchema = z.object(variantsShape, { error: 'must be an object' }).partial().strict();

const credentialSchema = z
  .object(
    {
      key: z
        .string({ error: 'must be a text' })
        .regex(/^[^:]+$/, { error: 'must be non-empty and must not contain ":"' }),
      secret: z.string({ error: 'must be a text' }),
      organizations: z.array(z.string(), { error: 'must be a list of organization names' }).optional(),
      permissions: z.array(z.string(), { error: 'must be a list of route names' }).optional(),
    },
    { error: 'must be an object {key, secret}' },
  )
  .strict();

const rateLimitSchema = z.union(
  [z.literal(false), z.object({ limit: intAtLeast(1), windowMs: intAtLeast(1) }).strict()],
  { error: 'must be {limit, windowMs} or false' },
);

const optionsShape = {
  host: z.string({ error: 'must be a host name or address' }).min(1, { error: 'must be a host name or address' }),
  port: intAtLeast(0).max(65535, { error: 'must be at most 65535' }),
  organizations: z.array(z.string().min(1), { error: 'must be a list of organization names' }),
  credentials: z.array(credentialSchema, { error: 'must be a list of {key, secret}' }),
  rateLimit: rateLimitSchema,
  segmentSemantics: oneOf(['match', 'upsert']),
  requireBusinessKey: z.boolean({ error: 'must be true or false' }),
  variants: variantsSchema,
  maxBodyBytes: intAtLeast(1),
  statePath: z.string().min(1, { error: 'must be a file name' }),
  // The seed's content is checked by the store, which names the list, segment or field at fault.
  seed: z.custom<SeedState>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), {
    error: 'must be an object {organizations, lists}',
  }),
  enableControlRoutes: z.boolean({ error: 'must be true or false' }),
  inspectRoutes: z.boolean({ error: 'must be true or false' }),
  latencyMs: intAtLeast(0),
  latencyJitterMs: intAtLeast(0),
  latencyPerRowMs: z
    .number({ error: 'must be a non-negative number' })
    .min(0, { error: 'must be a non-negative number' }),
  logRequests: z.boolean({ error: 'must be true or false' }),
  requestLogSize: intAtLeast(1),
};

export const OPTION_NAMES = Object.keys(optionsShape) as Array<keyof SimulatorOptions>;

const optionsSchema = z.object(optionsShape).partial().strict();

const patchSchema = z
  .object({
    rateLimit: optionsShape.rateLimit,
    segmentSemantics: optionsShape.segmentSemantics,
    requireBusinessKey: optionsShape.requireBusinessKey,
    maxBodyBytes: optionsShape.maxBodyBytes,
    latencyMs: optionsShape.latencyMs,
    latencyJitterMs: optionsShape.latencyJitterMs,
    latencyPerRowMs: optionsShape.latencyPerRowMs,
    variants: variantsSchema,
  })
  .partial()
  .strict();

function messages(error: z.ZodError, known: readonly string[]): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      if (path === 'variants')
        return issue.keys.map((k) => `unknown variant ${k}; known: ${VARIANT_NAMES.join(', ')}`).join('; ');
      const names = `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      return path ? `${path}: ${names}` : `${names}; known: ${known.join(', ')}`;
    }
    return path ? `${path} ${issue.message}` : issue.message;
  });
}

function parse<T>(schema: z.ZodType<T>, raw: unknown, known: readonly string[], what: string): T {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new SimulatorOptionsError([`${what} must be an object`]);
  const result = schema.safeParse(raw);
  if (!result.success) throw new SimulatorOptionsError(messages(result.error, known));
  return result.data;
}

/** Start-up options, checked. Undefined values count as absent. */
export function parseSimulatorOptions(raw: unknown): SimulatorOptions {
  const options: SimulatorOptions = parse(optionsSchema, withoutUndefined(raw), OPTION_NAMES, 'the simulator options');
  return options;
}

/** The settings a running simulator takes (control route `POST /__simulator/config`, `handle.configure`). */
export function parseConfigurablePatch(raw: unknown): ConfigurablePatch {
  const patch: ConfigurablePatch = parse(
    patchSchema,
    withoutUndefined(raw),
    Object.keys(patchSchema.shape),
    'the settings',
  );
  return patch;
}

/** Some variant switches (start-up options, the config file or a control route). */
export function parseVariants(raw: unknown): Partial<Variants> {
  const { variants } = parse(
    z.object({ variants: variantsSchema }).strict(),
    { variants: raw ?? null },
    [],
    'variants',
  );
  return withoutUndefined(variants) as Partial<Variants>;
}

function withoutUndefined(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

/** What a running simulator does; changed by `configure` and `setVariants`. */
export interface RuntimeSettings {
  rateLimit: RateLimitOptions | false;
  segmentSemantics: SegmentSemantics;
  maxBodyBytes: number;
  latencyMs: number;
  latencyJitterMs: number;
  latencyPerRowMs: number;
  variants: Variants;
}

/** The runtime settings of checked start-up options, defaults filled in. */
export function runtimeSettings(options: SimulatorOptions): RuntimeSettings {
  const variants: Variants = { ...DEFAULT_VARIANTS, ...options.variants };
  if (options.variants?.keyIndexGuard === undefined && options.requireBusinessKey) variants.keyIndexGuard = 'exact';
  return {
    rateLimit: options.rateLimit === undefined ? { ...DEFAULT_RATE_LIMIT } : options.rateLimit,
    segmentSemantics: options.segmentSemantics ?? 'match',
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    latencyMs: options.latencyMs ?? 0,
    latencyJitterMs: options.latencyJitterMs ?? 0,
    latencyPerRowMs: options.latencyPerRowMs ?? 0,
    variants,
  };
}
