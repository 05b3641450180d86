import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { checkBaseUrl, credentialsFromEnv, isLoopback } from '../../src/config/credentials.js';
import { clearSecrets, REDACTED, scrubSecrets } from '../../src/secrets.js';

afterEach(() => clearSecrets());

const ENV = {
  SELLIGENT_BASE_URL: 'https://tenant.slgnt.eu',
  SELLIGENT_API_KEY: 'key-0123456789',
  SELLIGENT_API_SECRET: 'secret-abcdefghij',
};

function configError(fn: () => unknown, code: string): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.exitCode, 2);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('credentialsFromEnv', () => {
  it('reads the three variables, trimmed', () => {
    const credentials = credentialsFromEnv({
      SELLIGENT_BASE_URL: ' https://tenant.slgnt.eu/ ',
      SELLIGENT_API_KEY: ' key-0123456789 ',
      SELLIGENT_API_SECRET: 'secret-abcdefghij\n',
    });
    assert.deepEqual(credentials, {
      baseUrl: 'https://tenant.slgnt.eu',
      apiKey: 'key-0123456789',
      apiSecret: 'secret-abcdefghij',
    });
  });

  for (const name of Object.keys(ENV)) {
    it(`names ${name} when it is missing`, () => {
      const env: Record<string, string> = { ...ENV };
      delete env[name];
      const error = configError(() => credentialsFromEnv(env), 'CREDENTIALS_MISSING');
      assert.match(error.message, new RegExp(`^missing environment variable ${name}:`));
      assert.deepEqual(error.details?.missing, [name]);
    });

    it(`names ${name} when it is blank`, () => {
      const error = configError(() => credentialsFromEnv({ ...ENV, [name]: '   ' }), 'CREDENTIALS_MISSING');
      assert.deepEqual(error.details?.missing, [name]);
    });
  }

  it('names every missing variable at once', () => {
    const error = configError(() => credentialsFromEnv({}), 'CREDENTIALS_MISSING');
    assert.match(
      error.message,
      /^missing environment variables SELLIGENT_BASE_URL, SELLIGENT_API_KEY, SELLIGENT_API_SECRET:/,
    );
    assert.deepEqual(error.details?.missing, ['SELLIGENT_BASE_URL', 'SELLIGENT_API_KEY', 'SELLIGENT_API_SECRET']);
  });

  it('a missing-credentials message shows no value of the ones present', () => {
    const error = configError(
      () => credentialsFromEnv({ SELLIGENT_API_KEY: ENV.SELLIGENT_API_KEY }),
      'CREDENTIALS_MISSING',
    );
    assert.ok(!error.message.includes(ENV.SELLIGENT_API_KEY));
  });

  it('registers the key, the secret and key:secret for scrubbing', () => {
    credentialsFromEnv(ENV);
    assert.equal(scrubSecrets(`a ${ENV.SELLIGENT_API_KEY} b`), `a ${REDACTED} b`);
    assert.equal(scrubSecrets(`a ${ENV.SELLIGENT_API_SECRET} b`), `a ${REDACTED} b`);
    assert.equal(
      scrubSecrets(`X-ApiKey: ${ENV.SELLIGENT_API_KEY}:${ENV.SELLIGENT_API_SECRET}`),
      `X-ApiKey: ${REDACTED}`,
    );
  });

  it('checks the base URL', () => {
    configError(() => credentialsFromEnv({ ...ENV, SELLIGENT_BASE_URL: 'http://tenant.slgnt.eu' }), 'BASE_URL_INVALID');
  });
});

describe('checkBaseUrl', () => {
  for (const [given, expected] of [
    ['https://tenant.slgnt.eu', 'https://tenant.slgnt.eu'],
    ['https://tenant.slgnt.eu/', 'https://tenant.slgnt.eu'],
    ['https://tenant.slgnt.eu/Portal/Api', 'https://tenant.slgnt.eu'],
    ['https://tenant.slgnt.eu/Portal/Api/', 'https://tenant.slgnt.eu'],
    ['https://tenant.slgnt.eu/portal/api', 'https://tenant.slgnt.eu'],
    ['https://tenant.slgnt.eu//', 'https://tenant.slgnt.eu'],
    ['https://proxy.example.com/selligent/Portal/Api', 'https://proxy.example.com/selligent'],
    ['https://proxy.example.com/selligent/', 'https://proxy.example.com/selligent'],
    ['https://tenant.slgnt.eu:8443/Portal/Api', 'https://tenant.slgnt.eu:8443'],
    ['HTTPS://Tenant.SLGNT.eu', 'https://tenant.slgnt.eu'],
  ]) {
    it(`${given} -> ${expected}`, () => {
      assert.equal(checkBaseUrl(given!), expected);
    });
  }

  it('keeps /Portal/Api when it is not at the end', () => {
    assert.equal(checkBaseUrl('https://x.example/Portal/Api/v2'), 'https://x.example/Portal/Api/v2');
  });

  for (const [given, expected] of [
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://127.0.0.1:8080/Portal/Api', 'http://127.0.0.1:8080'],
    ['http://127.255.255.254', 'http://127.255.255.254'],
    ['http://127.1.2.3:9', 'http://127.1.2.3:9'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['http://LOCALHOST:3000/', 'http://localhost:3000'],
    ['http://[::1]:9000', 'http://[::1]:9000'],
    ['http://[0:0:0:0:0:0:0:1]:9000', 'http://[::1]:9000'],
  ]) {
    it(`allows plain http to loopback: ${given}`, () => {
      assert.equal(checkBaseUrl(given!), expected);
    });
  }

  for (const given of [
    'http://tenant.slgnt.eu',
    'http://10.0.0.1',
    'http://192.168.1.10:8080',
    'http://128.0.0.1',
    'http://0.0.0.0',
    'http://[::2]',
    'http://[::ffff:10.0.0.1]',
    'http://localhost.evil.example',
    'http://127.0.0.1.nip.io',
  ]) {
    it(`refuses plain http to a non-loopback host: ${given}`, () => {
      const error = configError(() => checkBaseUrl(given), 'BASE_URL_INVALID');
      assert.match(error.message, /must use https:\/\//);
    });
  }

  for (const given of [
    'https://userQ7:Pw9secretZ@tenant.slgnt.eu',
    'https://userQ7@tenant.slgnt.eu',
    'http://userQ7:Pw9secretZ@127.0.0.1:8080',
    'https://:Pw9secretZ@tenant.slgnt.eu',
  ]) {
    it(`refuses user info: ${given}`, () => {
      const error = configError(() => checkBaseUrl(given), 'BASE_URL_INVALID');
      assert.equal(error.message, 'SELLIGENT_BASE_URL must not carry a user name or password');
      assert.ok(
        !error.message.includes('Pw9secretZ') && !error.message.includes('userQ7'),
        'the user info is not echoed',
      );
    });
  }

  for (const given of ['https://tenant.slgnt.eu?x=1', 'https://tenant.slgnt.eu/#frag']) {
    it(`refuses a query or fragment: ${given}`, () => {
      configError(() => checkBaseUrl(given), 'BASE_URL_INVALID');
    });
  }

  for (const given of ['ftp://tenant.slgnt.eu', 'file:///etc/passwd', 'ws://127.0.0.1']) {
    it(`refuses another scheme: ${given}`, () => {
      const error = configError(() => checkBaseUrl(given), 'BASE_URL_INVALID');
      assert.match(error.message, /must use https:\/\//);
    });
  }

  for (const given of ['tenant.slgnt.eu', '', 'https//x', '://x']) {
    it(`refuses text that is not a URL: ${JSON.stringify(given)}`, () => {
      const error = configError(() => checkBaseUrl(given), 'BASE_URL_INVALID');
      assert.match(error.message, /is not a URL/);
    });
  }
});

describe('isLoopback', () => {
  for (const host of [
    'localhost',
    'LocalHost',
    'api.localhost',
    '127.0.0.1',
    '127.0.0.53',
    '127.255.255.255',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
  ]) {
    it(`${host} is loopback`, () => assert.equal(isLoopback(host), true));
  }
  for (const host of [
    'example.com',
    '128.0.0.1',
    '10.0.0.1',
    '0.0.0.0',
    '::',
    '::2',
    '[::2]',
    'localhost.example.com',
    '127.example.com',
    '1127.0.0.1',
    '',
  ]) {
    it(`${JSON.stringify(host)} is not loopback`, () => assert.equal(isLoopback(host), false));
  }
});
