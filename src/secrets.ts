import { ConfigError } from './errors.js';

/**
 * Secret values known to this process. Every byte the exporter writes (log lines, the report, the
 * rejected-rows file, error text) passes through a scrub, so a secret that reaches a message by an
 * unforeseen path (an HTTP library echoing a header, an SDK error) is still never written out.
 *
 * JSON is scrubbed structurally (`scrubJson`): only string values and keys are searched, so a secret
 * that happens to equal a number or a literal (5000, true, null) in the document cannot turn it into
 * invalid JSON such as `"batch_rows": [REDACTED]`. Plain text (the pretty log, the summary line) is
 * scrubbed as text. A secret too short to scrub without hitting ordinary text is refused outright.
 */

const SECRET_ENV_VARS = [
  'SELLIGENT_API_KEY',
  'SELLIGENT_API_SECRET',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

export const REDACTED = '[REDACTED]';

/**
 * Shorter values would turn ordinary words and figures into "[REDACTED]" all over the output, and
 * cannot be credentials of the services this exporter talks to anyway.
 */
export const MIN_SECRET_LENGTH = 6;

const secrets = new Set<string>();
let pattern: RegExp | undefined;

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  // Log lines and reports are JSON: a secret holding `"` or `\` appears there escaped.
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) secrets.add(escaped);
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  pattern = new RegExp(ordered.map(escapeRegExp).join('|'), 'g');
}

/**
 * Registers every secret of the environment; a set secret shorter than MIN_SECRET_LENGTH is a
 * configuration error naming its variable (the longer ones are registered first, so the error's
 * report is still scrubbed).
 */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  const tooShort = SECRET_ENV_VARS.filter(
    (name) => env[name] !== undefined && env[name] !== '' && env[name].length < MIN_SECRET_LENGTH,
  );
  for (const name of SECRET_ENV_VARS) registerSecret(env[name]);
  const key = env.SELLIGENT_API_KEY;
  const secret = env.SELLIGENT_API_SECRET;
  if (key && secret) registerSecret(`${key}:${secret}`);
  if (tooShort.length > 0) {
    throw new ConfigError(
      'SECRET_TOO_SHORT',
      `${tooShort.join(', ')} ${tooShort.length > 1 ? 'are' : 'is'} shorter than ${MIN_SECRET_LENGTH} characters: too short to be a real credential or to be kept out of logs and reports safely; check the value`,
      { stage: 'settings', details: { variables: tooShort } },
    );
  }
}

/** A copy of a JSON-able value with secrets removed from its string values and keys; other values stay as they are. */
export function scrubJson<T>(value: T): T {
  if (!pattern) return value;
  return scrubDeep(value) as T;
}

function scrubDeep(value: unknown): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(scrubDeep);
  // As JSON.stringify would see it (a Date, a class with toJSON).
  const plain =
    typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
  if (plain !== value) return scrubDeep(plain);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[scrubSecrets(key)] = scrubDeep(inner);
  return out;
}

/**
 * Text that is JSON lines (a JSON log) scrubbed line by line as JSON; a line that is not JSON is
 * scrubbed as text. Lines holding no secret pass untouched without being parsed.
 */
export function scrubJsonLines(text: string): string {
  if (!pattern) return text;
  pattern.lastIndex = 0;
  if (!pattern.test(text)) return text;
  return text
    .split('\n')
    .map((line) => {
      const trimmed = line.trimStart();
      if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return scrubSecrets(line);
      try {
        return JSON.stringify(scrubJson(JSON.parse(line)));
      } catch {
        return scrubSecrets(line);
      }
    })
    .join('\n');
}

export function scrubSecrets(text: string): string {
  if (!pattern) return text;
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, REDACTED) : text;
}

/** Only for tests. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = undefined;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
