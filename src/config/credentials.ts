import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../secrets.js';

export interface Credentials {
  /** Without a trailing slash; the API root is `${baseUrl}/Portal/Api`. */
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
}

/** Selligent credentials come from the environment only, so they never sit in a settings file or a report. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials {
  const missing = ['SELLIGENT_BASE_URL', 'SELLIGENT_API_KEY', 'SELLIGENT_API_SECRET'].filter(
    (name) => !env[name]?.trim(),
  );
  if (missing.length > 0) {
    throw new ConfigError(
      'CREDENTIALS_MISSING',
      `missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: Selligent credentials come from the environment only (under digdag, pass them with _env and \${secret:...})`,
      { stage: 'settings', details: { missing } },
    );
  }
  const apiKey = env.SELLIGENT_API_KEY!.trim();
  const apiSecret = env.SELLIGENT_API_SECRET!.trim();
  registerSecret(apiKey);
  registerSecret(apiSecret);
  registerSecret(`${apiKey}:${apiSecret}`);
  return { baseUrl: checkBaseUrl(env.SELLIGENT_BASE_URL!.trim()), apiKey, apiSecret };
}

export function checkBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw baseUrlError(`SELLIGENT_BASE_URL is not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.username || url.password) throw baseUrlError('SELLIGENT_BASE_URL must not carry a user name or password');
  if (url.search || url.hash) throw baseUrlError('SELLIGENT_BASE_URL must not have a query string or fragment');
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw baseUrlError(
      `SELLIGENT_BASE_URL must use https:// (plain http:// is allowed only to a loopback host such as 127.0.0.1 or localhost), got ${url.origin}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw baseUrlError(`SELLIGENT_BASE_URL must use https://, got ${url.protocol}`);
  }
  // Users paste the tenant URL with or without /Portal/Api; the client adds it.
  const path = url.pathname.replace(/\/+$/, '').replace(/\/Portal\/Api$/i, '');
  return `${url.origin}${path}`;
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function baseUrlError(message: string): ConfigError {
  return new ConfigError('BASE_URL_INVALID', message, { stage: 'settings' });
}
