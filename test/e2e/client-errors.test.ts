/**
 * The Selligent client's errors over real HTTP (the simulator): each carries the request it came from,
 * and its class gives the exit code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthError, ConfigError, ExitCode, RefusedError, TransientError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { SelligentClient } from '../../src/selligent/client.ts';
import {
  SelligentAuthError,
  SelligentRefusedError,
  SelligentUnavailableError,
} from '../../src/selligent/http-error.ts';
import { DEV_API_KEY, DEV_API_SECRET, type FaultStatus } from '../../src/simulator/index.ts';
import { LIST, ORG, simulator, type SimulatorHandle } from '../helpers/sim.ts';

describe('Selligent client errors', () => {
  let sim: SimulatorHandle;
  let client: SelligentClient;
  before(async () => {
    sim = await simulator();
    client = new SelligentClient(
      { baseUrl: sim.baseUrl, apiKey: DEV_API_KEY, apiSecret: DEV_API_SECRET },
      {
        retry: { maxAttempts: 2, budgetMs: 10_000, baseDelayMs: 1, maxDelayMs: 1 },
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 5_000,
        requestsPerMinute: 10_000,
        splitAfterTimeouts: 2,
        logger: createLogger({ level: 'silent' }),
      },
    );
  });
  after(async () => {
    client.close();
    await sim.close();
  });

  test('a 503 after the retries: transient (exit 5), carrying route, method, path, status and attempts', async () => {
    sim.faults.add({
      route: 'getFields',
      status: 503,
      times: 2,
      body: JSON.stringify({ result_code: 'ServiceUnavailable', message: 'down' }),
      headers: { 'Content-Type': 'application/json' },
    });
    const error = await client.getFields(ORG, LIST).then(
      () => assert.fail('expected a failure'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof SelligentUnavailableError && error instanceof TransientError, String(error));
    assert.equal(error.code, 'SELLIGENT_UNAVAILABLE');
    assert.equal(error.exitCode, ExitCode.transient);
    assert.deepEqual(error.http, {
      route: 'getFields',
      method: 'GET',
      path: `/organizations/${ORG}/lists/${LIST}/fields`,
      status: 503,
      errorCode: null,
      attempts: 2,
      body: 'ServiceUnavailable: down',
    });
    assert.equal(
      error.message,
      `GET /Portal/Api/organizations/${ORG}/lists/${LIST}/fields answered 503 after 2 attempts (ServiceUnavailable: down)`,
    );
  });

  test('a 400: a refusal (exit 2, 6 once written), not a configuration error, sent once', async () => {
    sim.faults.add({
      route: 'getFields',
      status: 400 as FaultStatus,
      times: 1,
      body: JSON.stringify({ result_code: 'ValidationFailed', message: 'bad' }),
      headers: { 'Content-Type': 'application/json' },
    });
    const error = await client.getFields(ORG, LIST).then(
      () => assert.fail('expected a failure'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof SelligentRefusedError && error instanceof RefusedError, String(error));
    assert.ok(!(error instanceof ConfigError));
    assert.equal(error.code, 'SELLIGENT_REQUEST_REFUSED');
    assert.equal(error.exitCode, ExitCode.config);
    assert.equal(error.http.status, 400);
    assert.equal(error.http.attempts, 1);
    assert.equal(error.http.body, 'ValidationFailed: bad');
  });

  test('a 401: authentication (exit 4), with the status the organization check reads', async () => {
    sim.faults.add({ route: 'getOrganization', status: 401, times: 1 });
    const error = await client.getOrganization(ORG).then(
      () => assert.fail('expected a failure'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof SelligentAuthError && error instanceof AuthError, String(error));
    assert.equal(error.code, 'SELLIGENT_UNAUTHORIZED');
    assert.equal(error.exitCode, ExitCode.auth);
    assert.equal(error.http.status, 401);
    assert.equal(error.details?.status, 401);
  });
});
