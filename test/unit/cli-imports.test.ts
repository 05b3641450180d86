import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The CLI's parent process only starts the heap-capped child and waits for it, so what it loads before
 * the first dynamic import it holds for the whole run: a library there costs memory (zod alone about
 * 14 MB of RSS) and start-up time on every run.
 */

const SRC = resolve(import.meta.dirname, '../../src');

/** Modules reached from `entry` by static imports and re-exports (dynamic import() excluded): relative ones as paths, packages by name. */
function staticImports(entry: string): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (modules.has(file)) continue;
    modules.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s(?!type\b)(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) pending.push(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  }
  return { modules, packages };
}

describe('the CLI entry', () => {
  it('loads no library before it knows the command', () => {
    const { modules, packages } = staticImports(join(SRC, 'cli.ts'));
    assert.deepEqual([...packages], []);
    // The walk itself: it does follow the entry's relative imports.
    assert.ok(modules.has(join(SRC, 'signals.ts')));
  });

  it('finds a library imported by a module the entry imports', () => {
    const { packages } = staticImports(join(SRC, 'config', 'settings.ts'));
    assert.ok(packages.has('zod'));
  });
});
