import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { LocalHost } from '../helpers/local-host';

jest.setTimeout(120_000);

describe('the post-deploy smoke test (datasync smoke / npm run smoke)', () => {
  let dataDir: string;
  let host: LocalHost | undefined;

  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'datasync-smoke-'))));
  afterEach(async () => {
    await host?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes every step against a host with its echo target enabled', async () => {
    host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir, DATASYNC_ECHO_ENABLED: 'true' }).start();
    const run = await runCli(['smoke', '--url', host.url]);
    expect(run.stdout).toContain('PASS  sync and delivery');
    expect(run.stdout).toContain('PASS  a forced failure lands in its error stream');
    expect(run.stdout).toContain('PASS  replay delivers it');
    expect(run.stdout).toContain('PASS  message history: attempts: failed 404, delivered 200');
    expect(run.code).toBe(0);
  });

  it('fails, with a non-zero exit, when the host has no echo target', async () => {
    host = await new LocalHost({
      DATASYNC_DATA_DIR: dataDir,
      DATASYNC_AUTO_RETRIES: '0',
      DATASYNC_MAX_ATTEMPTS: '1',
    }).start();
    const run = await runCli(['smoke', '--url', host.url]);
    expect(run.stdout).toContain('FAIL  sync and delivery');
    expect(run.code).toBe(1);
  });
});
