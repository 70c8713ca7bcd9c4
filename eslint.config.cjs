const tseslint = require('typescript-eslint');

/** Modules the pure layers (contract, pipeline) must not import. */
const SDKS_AND_IO = [
  '@azure/*',
  'axios',
  'better-sqlite3',
  'node:fs',
  'node:fs/*',
  'fs',
  'node:net',
  'net',
  'node:http',
  'http',
  'node:https',
  'https',
  'node:dns',
  'dns',
  'node:child_process',
];

module.exports = tseslint.config(
  {
    ignores: [
      'dist/**',
      'cdktf.out/**',
      'coverage/**',
      'node_modules/**',
      '.datasync/**',
      '.stryker-tmp/**',
      '*.js',
      '*.mjs',
      '*.cjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-ignore': true, 'ts-expect-error': 'allow-with-description' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only' },
        { object: 'describe', property: 'skip' },
        { object: 'it', property: 'only' },
        { object: 'it', property: 'skip' },
        { object: 'test', property: 'only' },
        { object: 'test', property: 'skip' },
      ],
      'no-restricted-globals': ['error', 'fdescribe', 'fit', 'xdescribe', 'xit', 'xtest'],
    },
  },
  // Layers: contract → pipeline → adapters / api / config → assembly → hosts (shared/local, functions).
  // A layer imports only from the layers before it; the pure layers touch no SDK and no I/O module.
  {
    files: ['shared/contract/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../pipeline/*',
                '../adapters/*',
                '../api/*',
                '../config/*',
                '../assembly/*',
                '../local/*',
              ],
              message: 'contract is the first layer: it imports no other layer',
            },
            { group: [...SDKS_AND_IO], message: 'contract is pure: no SDK, no I/O' },
          ],
        },
      ],
    },
  },
  {
    files: ['shared/pipeline/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../adapters/*', '../api/*', '../config/*', '../assembly/*', '../local/*'],
              message: 'pipeline depends on contract and ports only; adapters implement its ports',
            },
            { group: [...SDKS_AND_IO], message: 'pipeline is pure: no SDK, no I/O (that is an adapter)' },
          ],
        },
      ],
    },
  },
  {
    files: ['shared/adapters/**', 'shared/api/**', 'shared/config/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../assembly/*', '../local/*', '../../assembly/*', '../../local/*', '**/functions/*'],
              message: 'adapters, api and config come before the assembly and the hosts',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['functions/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['better-sqlite3', '**/adapters/local/*', '**/shared/local/*'],
              message: 'the Azure host uses the Azure adapters, never the embedded ones',
            },
          ],
        },
      ],
    },
  },
);
