import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'cdktf.out/**', 'coverage/**', 'node_modules/**', '.datasync/**', '*.js', '*.mjs'] },
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
  {
    files: ['shared/pipeline/**', 'shared/contract/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@azure/*', 'axios', 'better-sqlite3', 'node:http', 'http'] },
      ],
    },
  },
);
