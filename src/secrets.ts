/**
 * Secret values known to this process. Every byte the exporter writes (log lines, the report, the
 * rejected-rows file, error text) passes through `scrubSecrets`, so a secret that reaches a message by an
 * unforeseen path (an HTTP library echoing a header, an SDK error) is still never written out.
 */

const SECRET_ENV_VARS = [
  'SELLIGENT_API_KEY',
  'SELLIGENT_API_SECRET',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

export const REDACTED = '[REDACTED]';

// Very short values would turn ordinary words into "[REDACTED]" all over the output.
const MIN_SECRET_LENGTH = 4;

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

export function registerSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV_VARS) registerSecret(env[name]);
  const key = env.SELLIGENT_API_KEY;
  const secret = env.SELLIGENT_API_SECRET;
  if (key && secret) registerSecret(`${key}:${secret}`);
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
