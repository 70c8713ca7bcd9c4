/**
 * The tests Stryker runs against mutants of shared/contract and shared/pipeline: unit and integration tests
 * that run in-process. Left out: e2e (child processes, which Stryker's coverage cannot see), infra, the
 * layer-rule test (ESLint, no pipeline code) and the Azurite-backed tests (adapter behaviour, a server per file).
 * Transpile only: `npm run typecheck` checks types, and skipping it halves the CPU time of a test run.
 * The source folders and the test helpers are roots too: Stryker asks Jest for the tests related to a mutated
 * file, and Jest only follows imports through files under its roots. Without shared/ a test reaching
 * sync-request.ts through shared/api was not "related"; without test/helpers a test reaching oauth-tokens.ts
 * through the embedded pipeline was not either, and the mutant ran no test at all.
 * @type {import('jest').Config}
 */
module.exports = {
  ...require('./jest.config.js'),
  roots: [
    '<rootDir>/test/unit',
    '<rootDir>/test/integration',
    '<rootDir>/test/helpers',
    '<rootDir>/shared',
    '<rootDir>/functions',
    '<rootDir>/cli',
  ],
  testPathIgnorePatterns: [
    '/node_modules/',
    '/test/unit/layers\\.test\\.ts$',
    '/test/integration/(azure-functions|blob-archive|message-states-contract)\\.test\\.ts$',
  ],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
};
