import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempDir, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, selligentEnv, simulator, writes } from '../helpers/sim.ts';

test('--force sets the force setting for that run only; without it the settings file decides', async () => {
  const sim = await simulator();
  try {
    const dir = tempDir();
    const input = writeInput(dir, 'input.csv', 'selligent_segment,customer_identifier,email\nseg_a,C1,a@example.com\n');
    const settings = { ...BASE_SETTINGS, create_list_if_not_exists: true };
    const forced = await runCli({ settings, input, env: selligentEnv(sim), args: ['--dry-run', '--force'] });
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.equal(forced.report!.settings!.force, true);
    const plain = await runCli({ settings, input, env: selligentEnv(sim), args: ['--dry-run'] });
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.equal(plain.report!.settings!.force, false);
    const fromFile = await runCli({
      settings: { ...settings, force: true },
      input,
      env: selligentEnv(sim),
      args: ['--dry-run'],
    });
    assert.equal(fromFile.report!.settings!.force, true);
    assert.equal(writes(sim).length, 0);
  } finally {
    await sim.close();
  }
});

test('run --help lists --force', async () => {
  const help = await runCli({ args: ['--help'] });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--force\s+for this run only/);
});
