import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempDir, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, selligentEnv, simulator } from '../helpers/sim.ts';

test('sync_mode: changes is refused before anything is read or written, not run as a full export', async () => {
  const sim = await simulator();
  try {
    const dir = tempDir();
    const input = writeInput(dir, 'input.csv', 'selligent_segment,customer_identifier,email\nseg_a,C1,a@example.com\n');
    const settings = { ...BASE_SETTINGS, create_list_if_not_exists: true, sync_mode: 'changes', state_uri: dir };
    const result = await runCli({ settings, input, env: selligentEnv(sim) });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.equal(result.report!.error!.code, 'SETTINGS_INVALID');
    assert.match(result.report!.error!.message, /sync_mode: changes is not available/);
    assert.equal(sim.requestLog().length, 0);
  } finally {
    await sim.close();
  }
});
