import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncRequest } from '../helpers/fixtures';
import { LocalHost } from '../helpers/local-host';
import { TargetServer } from '../helpers/target-server';

jest.setTimeout(120_000);

/** The sum of every sample of `name` whose labels contain `labels` (e.g. `stream="x"`). */
function total(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('GET /api/metrics on npm start', () => {
  let dataDir: string;
  let target: TargetServer;
  let host: LocalHost | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-metrics-'));
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await host?.stop('SIGKILL');
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts what the pipeline did: ingested, delivered, failed by stream and reason, replayed', async () => {
    const local = (host = await new LocalHost({
      DATASYNC_DATA_DIR: dataDir,
      DATASYNC_API_KEY: 'm3trics',
    }).start());
    const key = { 'x-functions-key': 'm3trics' };
    target.reply('/missing', { status: 404 });
    const batch = [
      ...Array.from({ length: 3 }, (_, i) =>
        syncRequest(`${target.url}/ok`, { vaultSecretName: undefined }, `a${i}`),
      ),
      ...Array.from({ length: 2 }, (_, i) =>
        syncRequest(`${target.url}/missing`, { vaultSecretName: undefined }, `b${i}`),
      ),
    ];
    expect((await local.post('stream/sync', batch, key)).status).toBe(202);
    await target.waitForCalls(5);
    await local.waitFor('sync.failed');
    while (local.lines.filter((line) => line.event === 'sync.failed').length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await local.post('stream/retry', { streamOCIDToRetry: 'datasync-error-404', readAfterOffset: -1 }, key);

    const refused = await fetch(`${local.url}/api/metrics`);
    const response = await fetch(`${local.url}/api/metrics`, { headers: key });
    const text = await response.text();

    expect(refused.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(total(text, 'datasync_ingested_total', 'stream="datasync"')).toBe(5);
    expect(total(text, 'datasync_delivered_total')).toBe(3);
    expect(total(text, 'datasync_failed_total', 'stream="datasync-error-404",reason="http"')).toBe(4);
    expect(total(text, 'datasync_replayed_total', 'outcome="failed"')).toBe(2);
    expect(total(text, 'datasync_stream_retained', 'stream="datasync-error-404"')).toBe(4);
  });
});
