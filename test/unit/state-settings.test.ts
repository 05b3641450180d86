import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSettings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors.js';
import { resolveStateConfig } from '../../src/state/config.js';
import { resolveStateEncryption } from '../../src/state/encryption.js';
import type { StateIdentity } from '../../src/state/format.js';
import { identityResetReason, stateIdentity } from '../../src/state/identity.js';

const BASE = { organization: 'org', list_api_name: 'contacts', segment_column: 'seg', key_fields: 'email' };

const identity: StateIdentity = stateIdentity({
  baseUrl: 'https://tenant.slgnt.eu/Portal/Api?x=1',
  organization: 'org',
  list: 'contacts',
  keyFields: ['EMAIL'],
  keyForm: 'as-written',
  fields: [
    { name: 'EMAIL', type: 'Text' },
    { name: 'AGE', type: 'Long' },
  ],
  segmentColumn: 'seg',
  segmentImportOption: 'replace',
});

describe('state identity', () => {
  it('keeps the host only', () => {
    assert.equal(identity.host, 'tenant.slgnt.eu');
  });

  it('the same identity is no reason to reset', () => {
    assert.equal(identityResetReason(identity, structuredClone(identity)), null);
  });

  const changes: Array<[string, Partial<StateIdentity>, RegExp]> = [
    ['host', { host: 'other.slgnt.eu' }, /Selligent host tenant\.slgnt\.eu -> other\.slgnt\.eu/],
    ['organization', { organization: 'org2' }, /organization org -> org2/],
    ['List', { list: 'other' }, /List contacts -> other/],
    ['key fields', { key_fields: ['EMAIL', 'ID'] }, /key_fields EMAIL -> EMAIL,ID/],
    ['key form', { key_form: 'typed' }, /key comparison as-written -> typed/],
    [
      'a field type',
      {
        fields: [
          { name: 'EMAIL', type: 'Text' },
          { name: 'AGE', type: 'Float' },
        ],
      },
      /AGE Long -> Float/,
    ],
    ['a field added', { fields: [...identity.fields, { name: 'CITY', type: 'Text' }] }, /fields added CITY/],
    ['a field removed', { fields: [{ name: 'EMAIL', type: 'Text' }] }, /fields removed AGE/],
    ['field order', { fields: [...identity.fields].reverse() }, /field order changed/],
    ['Segment column', { segment_column: 'other' }, /segment_column seg -> other/],
    ['append/replace', { segment_import_option: 'append' }, /segment_data_import_option replace -> append/],
  ];
  for (const [what, patch, reason] of changes) {
    it(`a different ${what} resets, saying why`, () => {
      const result = identityResetReason(identity, { ...identity, ...patch });
      assert.match(result ?? '', reason);
    });
  }
});

describe('state settings', () => {
  it('default to a full sync', () => {
    const settings = parseSettings(BASE);
    assert.equal(settings.sync_mode, 'full');
    assert.deepEqual(resolveStateConfig(settings, { STATE_URI: '/state' }), { mode: 'full' });
  });

  it('changes mode takes state_uri, else env STATE_URI', () => {
    assert.deepEqual(
      resolveStateConfig(parseSettings({ ...BASE, sync_mode: 'changes', state_uri: 's3://b-1/state/' }), {}),
      {
        mode: 'changes',
        uri: 's3://b-1/state/',
        fullResync: false,
        encryption: undefined,
      },
    );
    const fromEnv = resolveStateConfig(parseSettings({ ...BASE, sync_mode: 'changes' }), { STATE_URI: '/var/state' });
    assert.equal(fromEnv.mode === 'changes' && fromEnv.uri, '/var/state');
  });

  it('changes mode without a location is a configuration error naming both', () => {
    assert.throws(
      () => resolveStateConfig(parseSettings({ ...BASE, sync_mode: 'changes' }), {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.code === 'STATE_URI_MISSING' &&
        /state_uri/.test(error.message) &&
        /STATE_URI/.test(error.message),
    );
  });

  it('full_resync comes from the setting (digdag text too) or the flag', () => {
    const changes = { ...BASE, sync_mode: 'changes', state_uri: '/s' };
    const fromSetting = resolveStateConfig(parseSettings({ ...changes, full_resync: 'true' }), {});
    const fromFlag = resolveStateConfig(parseSettings(changes), {}, true);
    assert.ok(fromSetting.mode === 'changes' && fromSetting.fullResync);
    assert.ok(fromFlag.mode === 'changes' && fromFlag.fullResync);
  });

  it('an unknown sync_mode is refused with the choices', () => {
    assert.throws(() => parseSettings({ ...BASE, sync_mode: 'delta' }), /sync_mode: expected one of full, changes/);
  });
});

describe('state encryption', () => {
  it('none by default: the bucket default applies', () => {
    assert.equal(resolveStateEncryption({}, {}), undefined);
  });

  it('from the settings', () => {
    assert.deepEqual(resolveStateEncryption({ state_sse: 'AES256' }, {}), { algorithm: 'AES256' });
    assert.deepEqual(
      resolveStateEncryption({ state_sse: 'aws:kms', state_sse_kms_key_id: 'arn:aws:kms:eu-west-1:1:key/k' }, {}),
      {
        algorithm: 'aws:kms',
        kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k',
      },
    );
  });

  it('from the environment when the settings say nothing; the settings win otherwise', () => {
    assert.deepEqual(resolveStateEncryption({}, { STATE_SSE: 'aws:kms', STATE_SSE_KMS_KEY_ID: 'k1' }), {
      algorithm: 'aws:kms',
      kmsKeyId: 'k1',
    });
    assert.deepEqual(resolveStateEncryption({}, { STATE_SSE_KMS_KEY_ID: 'k1' }), {
      algorithm: 'aws:kms',
      kmsKeyId: 'k1',
    });
    assert.equal(resolveStateEncryption({ state_sse: 'none' }, { STATE_SSE: 'AES256' }), undefined);
  });

  it('refuses an unknown algorithm and a key id without KMS, naming the setting', () => {
    assert.throws(
      () => resolveStateEncryption({}, { STATE_SSE: 'aes' }),
      /STATE_SSE must be one of none, AES256, aws:kms/,
    );
    assert.throws(
      () => resolveStateEncryption({ state_sse: 'AES256', state_sse_kms_key_id: 'k' }, {}),
      /state_sse_kms_key_id needs state_sse aws:kms/,
    );
  });

  it('parseSettings refuses an unknown state_sse', () => {
    assert.throws(
      () => parseSettings({ ...BASE, state_sse: 'kms' }),
      /state_sse: expected one of none, AES256, aws:kms/,
    );
  });
});
