import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scalarText } from '../../src/scalar-text.js';

test('scalarText: scalars as String() writes them, objects and arrays as JSON', () => {
  assert.equal(scalarText('a b'), 'a b');
  assert.equal(scalarText(7), '7');
  assert.equal(scalarText(1.5e21), '1.5e+21');
  assert.equal(scalarText(false), 'false');
  assert.equal(scalarText(10n), '10');
  assert.equal(scalarText(null), 'null');
  assert.equal(scalarText(undefined), 'undefined');
  assert.equal(scalarText({ a: 1 }), '{"a":1}');
  assert.equal(scalarText([1, 'x']), '[1,"x"]');
});
