import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseSettings } from '../../src/config/settings.js';

const BASE = {
  organization: 'my_org',
  list_api_name: 'master_contacts',
  segment_column: 'selligent_segment',
  key_fields: 'customer_identifier',
};

function onlyProblem(patch: Record<string, unknown>): string {
  try {
    parseSettings({ ...BASE, ...patch });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 2);
    const problems = (error.details as { problems: string[] }).problems;
    assert.equal(problems.length, 1, JSON.stringify(problems));
    return problems[0]!;
  }
  assert.fail(`accepted: ${JSON.stringify(patch)}`);
}

describe('replace settings: defaults', () => {
  it('keep the documented clear-then-load behaviour with no guard and no override', () => {
    const settings = parseSettings(BASE);
    assert.equal(settings.segment_replace_strategy, 'clear_then_load');
    assert.equal(settings.max_segment_removal_ratio, null);
    assert.equal(settings.min_segment_members, null);
    assert.equal(settings.force, false);
  });

  it('accept both strategies, the bounds of the ratio, 0 members, and numbers and booleans written as text', () => {
    const settings = parseSettings({
      ...BASE,
      segment_replace_strategy: 'load_then_remove',
      max_segment_removal_ratio: '0.25',
      min_segment_members: '1000',
      force: 'true',
    });
    assert.equal(settings.segment_replace_strategy, 'load_then_remove');
    assert.equal(settings.max_segment_removal_ratio, 0.25);
    assert.equal(settings.min_segment_members, 1000);
    assert.equal(settings.force, true);
    assert.equal(parseSettings({ ...BASE, max_segment_removal_ratio: 0 }).max_segment_removal_ratio, 0);
    assert.equal(parseSettings({ ...BASE, max_segment_removal_ratio: 1 }).max_segment_removal_ratio, 1);
    assert.equal(parseSettings({ ...BASE, min_segment_members: 0 }).min_segment_members, 0);
    assert.equal(
      parseSettings({ ...BASE, max_segment_removal_ratio: null, min_segment_members: null }).min_segment_members,
      null,
    );
  });
});

describe('replace settings: messages name the setting and what it takes', () => {
  it('segment_replace_strategy', () => {
    assert.equal(
      onlyProblem({ segment_replace_strategy: 'Load_Then_Remove' }),
      'segment_replace_strategy: expected one of clear_then_load, load_then_remove, got "Load_Then_Remove" (values are case-sensitive: write load_then_remove)',
    );
    assert.equal(
      onlyProblem({ segment_replace_strategy: 'merge' }),
      'segment_replace_strategy: expected one of clear_then_load, load_then_remove, got "merge"',
    );
  });

  it('max_segment_removal_ratio', () => {
    const rule =
      "max_segment_removal_ratio: must be from 0 to 1 (the largest share of a Segment's current members one run may remove)";
    assert.equal(onlyProblem({ max_segment_removal_ratio: 1.5 }), `${rule}, got number 1.5`);
    assert.equal(onlyProblem({ max_segment_removal_ratio: -0.1 }), `${rule}, got number -0.1`);
    assert.equal(
      onlyProblem({ max_segment_removal_ratio: '50%' }),
      'max_segment_removal_ratio: expected number, got "50%"',
    );
  });

  it('min_segment_members', () => {
    const rule =
      'min_segment_members: must be a whole number of at least 0 (the fewest members a Segment may be left with)';
    assert.equal(onlyProblem({ min_segment_members: 2.5 }), `${rule}, got number 2.5`);
    assert.equal(onlyProblem({ min_segment_members: -1 }), `${rule}, got number -1`);
    assert.equal(onlyProblem({ min_segment_members: 'many' }), 'min_segment_members: expected number, got "many"');
  });

  it('force', () => {
    assert.equal(onlyProblem({ force: 'yes' }), 'force: expected true or false, got "yes"');
    assert.equal(onlyProblem({ forse: true }), 'forse: unknown setting (did you mean force?)');
  });
});
