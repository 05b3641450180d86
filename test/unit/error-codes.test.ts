/**
 * The error codes users alert on: the union in src/errors.ts and the table in docs/troubleshooting.md
 * name the same codes, so a new code cannot ship undocumented nor a documented one linger.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ERROR_CODES, isErrorCode } from '../../src/errors.js';

async function documentedCodes(): Promise<Map<string, number>> {
  const text = await readFile(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
  const section = text.split(/^## Error codes$/m)[1];
  assert.ok(section !== undefined, 'docs/troubleshooting.md has a section "## Error codes"');
  const codes = new Map<string, number>();
  for (const match of section.split(/^## /m)[0]!.matchAll(/^\| `([A-Z0-9_]+)` \| (\d) \|/gm)) {
    assert.ok(!codes.has(match[1]!), `${match[1]} is listed once`);
    codes.set(match[1]!, Number(match[2]));
  }
  return codes;
}

describe('error codes', () => {
  it('every code of the union is documented in docs/troubleshooting.md', async () => {
    const documented = await documentedCodes();
    const undocumented = ERROR_CODES.filter((code) => !documented.has(code));
    assert.deepEqual(undocumented, []);
  });

  it('every documented code is a code of the union, with an exit code from 1 to 6', async () => {
    for (const [code, exit] of await documentedCodes()) {
      assert.ok(isErrorCode(code), `${code} is documented but no error has it`);
      assert.ok(exit >= 1 && exit <= 6, `${code}: exit ${exit}`);
    }
  });

  it('the union lists each code once, and isErrorCode accepts only those', () => {
    assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
    assert.equal(isErrorCode('SELLIGENT_UNAUTHORIZED'), true);
    assert.equal(isErrorCode('selligent_unauthorized'), false);
    assert.equal(isErrorCode('ENOSPC'), false);
    assert.equal(isErrorCode(undefined), false);
  });
});
