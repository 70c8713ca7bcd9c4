import { ESLint } from 'eslint';
import { join } from 'node:path';

// The project's own configuration, passed as an object: loading it by file needs a dynamic import jest cannot do.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require('../../eslint.config.cjs') as ESLint.Options['overrideConfig'];
const eslint = new ESLint({
  cwd: join(__dirname, '..', '..'),
  overrideConfigFile: true,
  overrideConfig: config,
});

async function restricted(file: string, source: string): Promise<boolean> {
  const [result] = await eslint.lintText(`${source}\n`, { filePath: file });
  return (result?.messages ?? []).some((message) => message.ruleId === 'no-restricted-imports');
}

describe('the layer rules ESLint enforces', () => {
  it.each([
    ['shared/pipeline/new.ts', "import { SqliteStream } from '../adapters/local/sqlite-stream';"],
    ['shared/pipeline/new.ts', "import { readFileSync } from 'node:fs';"],
    ['shared/pipeline/new.ts', "import { ServiceBusClient } from '@azure/service-bus';"],
    ['shared/contract/new.ts', "import { dispatch } from '../pipeline/dispatch';"],
    ['shared/adapters/new.ts', "import { EmbeddedApp } from '../local/embedded-app';"],
    ['functions/new.ts', "import Database from 'better-sqlite3';"],
    ['functions/new.ts', "import { SqliteStream } from '../shared/adapters/local/sqlite-stream';"],
  ])('refuses in %s: %s', async (file, source) => {
    expect(await restricted(file, source)).toBe(true);
  });

  it.each([
    ['shared/pipeline/new.ts', "import type { Envelope } from '../contract/envelope';"],
    ['shared/adapters/new.ts', "import type { StreamStore } from '../pipeline/ports';"],
    ['functions/new.ts', "import { PipelineAssembly } from '../shared/assembly/pipeline-assembly';"],
  ])('allows in %s: %s', async (file, source) => {
    expect(await restricted(file, source)).toBe(false);
  });
});
