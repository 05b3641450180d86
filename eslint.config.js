// Type-aware lint for the exporter, its scripts and its tests; formatting is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** For code that reads JSON of no declared type (see where it is used for why). */
const untypedJsonAllowed = {
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', '.bench/**', '.s3data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // A `default` branch is a deliberate answer for every value not named (an unknown route, any other status).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // Which folder of src/ may import which (docs/architecture.md, "Modules and imports").
  ...importBoundaries(),
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      // node:test's describe/it return promises the runner tracks itself.
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  {
    files: [
      'scripts/bench/tables.ts',
      'scripts/bench/targets.ts',
      'scripts/bench/document.ts',
      'scripts/bench/main.ts',
    ],
    rules: {
      // The benchmark's JSON document (common.ts `Any`) is read back from earlier runs and printed; it has no
      // interface yet, so member access on it cannot be checked. Typing it lifts these.
      ...untypedJsonAllowed,
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read reports, answers and state as parsed JSON on purpose: the assertions are the type check.
      ...untypedJsonAllowed,
      // assert.throws/rejects and mock methods are passed around unbound by design.
      '@typescript-eslint/unbound-method': 'off',
      // Test doubles implement the async interfaces they stand in for with synchronous bodies.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },
);

/** One `no-restricted-imports` block per folder of src/: the folders (and root modules) it may not import. */
function importBoundaries() {
  const folders = ['config', 'demo', 'pipeline', 'report', 'schema', 'selligent', 'simulator', 'source', 'state'];
  const entryPoints = ['../cli.js', '../run.js'];
  const not = (...names) => [...names.map((name) => `../${name}/*`), ...entryPoints];
  const rules = {
    config: not('demo', 'pipeline', 'report', 'schema', 'selligent', 'simulator', 'source', 'state'),
    schema: not('config', 'demo', 'pipeline', 'report', 'selligent', 'simulator', 'source', 'state'),
    source: not('config', 'demo', 'pipeline', 'report', 'selligent', 'simulator', 'state'),
    selligent: not('demo', 'pipeline', 'report', 'schema', 'simulator', 'source', 'state'),
    pipeline: not('demo', 'simulator'),
    report: not('demo', 'simulator', 'source', 'state'),
    state: not('demo', 'selligent', 'simulator'),
    // The simulator is a separate program: of the exporter it uses only the shared leaf modules.
    simulator: [
      ...folders.filter((name) => name !== 'simulator').map((name) => `../${name}/*`),
      '../*.js',
      '!../api-name.js',
      '!../json-exact.js',
      '!../rounding.js',
      '!../scalar-text.js',
    ],
  };
  return Object.entries(rules).map(([folder, group]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group, message: `src/${folder}/ may not import this (docs/architecture.md).` }] },
      ],
    },
  }));
}
