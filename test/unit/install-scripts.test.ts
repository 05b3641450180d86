/**
 * npm 11 skips dependencies' install scripts unless package.json's `allowScripts` covers them, and
 * warns about each one it skipped at the end of `npm ci`. Every such package must have a decision
 * recorded there, so that `npm ci` installs without that warning.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.ts';

const npm = spawnSync('npm', ['install-scripts', 'ls'], { cwd: ROOT, encoding: 'utf8' });
const supported = npm.status === 0 || !/Unknown command/i.test(npm.stderr + npm.stdout);

test(
  'every dependency with an install script has a decision in package.json allowScripts',
  { skip: supported ? false : 'this npm has no allowScripts' },
  () => {
    assert.equal(npm.status, 0, npm.stderr);
    assert.match(npm.stdout, /No packages with unreviewed install scripts/, npm.stdout);
  },
);
