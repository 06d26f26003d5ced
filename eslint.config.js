// Type-aware linting: floating promises and unsafe any are the bugs that matter most here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import restrictions for files in one layer: the layers it may not import, and Node. */
function layer(files, { forbid, isomorphic = false, packages = [], allowNode = [] }) {
  const patterns = forbid.map((name) => ({
    regex: `(^|/)(src/)?${name}/|^\\.\\./(\\.\\./)*${name}/`,
    message: `layering: this layer may not import ${name}/ (see docs/ARCHITECTURE.md)`,
  }));
  if (isomorphic) {
    patterns.push({
      regex:
        allowNode.length === 0
          ? '^node:'
          : `^node:(?!(${allowNode.map((n) => n.slice(5)).join('|')})$)`,
      message: 'isomorphic code: no Node built-ins (a browser runs this)',
    });
  }
  for (const name of packages)
    patterns.push({ regex: `^${name}($|/)`, message: `${name} is not for this layer` });
  const rules = { 'no-restricted-imports': ['error', { patterns }] };
  if (isomorphic) {
    rules['no-restricted-globals'] = [
      'error',
      { name: 'Buffer', message: 'use Uint8Array' },
      { name: 'process', message: 'isomorphic code' },
      { name: 'require', message: 'isomorphic code' },
    ];
  }
  return [{ files, rules }];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-ignore': true, 'ts-expect-error': true },
      ],
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  // Layers import one way (docs/ARCHITECTURE.md): protocol <- crypto <- core <- (client
  // adapters <- cli | web); protocol and crypto (and node/) <- server. The isomorphic
  // layers use no Node built-ins and no Buffer: a browser runs them.
  ...layer(['src/protocol/**/*.ts'], {
    isomorphic: true,
    forbid: ['crypto', 'core', 'client', 'cli', 'web', 'server', 'node'],
  }),
  ...layer(['src/crypto/**/*.ts'], {
    isomorphic: true,
    forbid: ['core', 'client', 'cli', 'web', 'server', 'node'],
  }),
  ...layer(['src/core/**/*.ts'], {
    isomorphic: true,
    forbid: ['client', 'cli', 'web', 'server', 'node'],
    packages: ['ws', 'better-sqlite3', 'pino', 'sharp', 'commander', 'cli-progress'],
  }),
  ...layer(['src/node/**/*.ts'], { forbid: ['core', 'client', 'cli', 'web', 'server'] }),
  // The browser's adapters (IndexedDB, fetch) and the app built on them.
  ...layer(['src/web/**/*.ts', 'web/src/**/*.ts'], {
    isomorphic: true,
    forbid: ['client', 'cli', 'server', 'node'],
    packages: ['ws', 'better-sqlite3', 'pino', 'sharp', 'commander', 'cli-progress'],
  }),
  ...layer(['src/client/**/*.ts'], { forbid: ['cli', 'web', 'server'] }),
  ...layer(['src/cli/**/*.ts'], { forbid: ['web', 'server'] }),
  ...layer(['src/server/**/*.ts'], { forbid: ['core', 'client', 'cli', 'web'] }),
  // Tests of the isomorphic layers run in Chromium too (test/browser): node:test and
  // node:assert are shimmed there; anything else of Node's would not run.
  ...layer(
    [
      'test/crypto/**/*.ts',
      'test/protocol/**/*.ts',
      'test/core/**/*.ts',
      'test/conformance/client-storage.ts',
      'test/support/backends.browser.ts',
      'test/support/files.browser.ts',
    ],
    {
      isomorphic: true,
      forbid: ['client', 'cli', 'server', 'node'],
      allowNode: ['node:test', 'node:assert'],
    },
  ),
  {
    // Build scripts run on Node.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
