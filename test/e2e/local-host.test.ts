import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryRequest, syncRequest } from '../helpers/fixtures';
import { LocalHost } from '../helpers/local-host';
import { TargetServer } from '../helpers/target-server';

jest.setTimeout(120_000);

describe('npm start', () => {
  let dataDir: string;
  let target: TargetServer;
  let host: LocalHost | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-e2e-'));
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await host?.stop('SIGKILL');
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}) =>
    (host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir, ...env }).start());

  it('takes the reference payloads unchanged: sync, failure to the 404 stream, retry', async () => {
    const local = await start();
    const synced = await local.post('stream/sync', syncRequest(`${target.url}/orders`), {
      authorization: 'Bearer ref-token',
    });
    expect(synced.status).toBe(202);
    await target.waitForCalls(1);
    expect(target.calls[0]).toMatchObject({
      method: 'POST',
      path: '/orders',
      body: '{"orderid":"18jan","PO":"18jan"}',
    });
    expect(target.calls[0]?.headers.authorization).toBe('Bearer ref-token');

    let missing = true;
    target.reply('/later', () => ({ status: missing ? 404 : 201 }));
    await local.post('stream/sync', syncRequest(`${target.url}/later`), {
      authorization: 'Bearer ref-token',
    });
    await local.waitFor('sync.failed');
    const status = await local.get('stream/status');
    expect(status.body.streams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ stream: 'datasync-error-404', lastOffset: 0, retained: 1 }),
      ]),
    );

    missing = false;
    const retried = await local.post('stream/retry', retryRequest('datasync-error-404'));
    expect(retried).toEqual({
      status: 200,
      body: {
        lastReadOffset: 0,
        processedmessages: 1,
        failedMessages: 0,
        skippedMessages: 0,
        endOfStream: true,
      },
    });
    expect(target.callsTo('/later')).toHaveLength(2);
    expect(JSON.stringify(local.lines)).not.toContain('ref-token');
  });

  it('finishes in-flight work on SIGTERM sent to npm start; after a restart nothing is lost or delivered twice', async () => {
    target.reply('/slow', { status: 200, delayMs: 200 });
    let local = await start();
    const batch = Array.from({ length: 20 }, (_, i) =>
      syncRequest(
        `${target.url}/slow`,
        { vaultSecretName: undefined, targetRestApiPayload: { i } },
        `key${i % 4}`,
      ),
    );
    expect((await local.post('stream/sync', batch)).status).toBe(202);
    await target.waitForCalls(2);
    await local.stop('SIGTERM', { npmOnly: true });
    const beforeRestart = target.calls.length;

    local = await start();
    expect(
      (
        await local.post('stream/sync', [
          syncRequest(`${target.url}/slow`, { vaultSecretName: undefined, targetRestApiPayload: { i: 20 } }),
        ])
      ).status,
    ).toBe(202);
    await target.waitForCalls(21, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const keys = target.calls.map((call) => call.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(21);
    expect(target.calls).toHaveLength(21);
    expect(beforeRestart).toBeGreaterThanOrEqual(2);
    const perKey = (k: number) =>
      target.calls.map((call) => JSON.parse(call.body).i as number).filter((i) => i % 4 === k && i < 20);
    for (const k of [0, 1, 2, 3]) expect(perKey(k)).toEqual([...perKey(k)].sort((a, b) => a - b));
  });

  it('refuses a second host on the same data dir, naming it', async () => {
    await start();
    await expect(new LocalHost({ DATASYNC_DATA_DIR: dataDir }).start(15_000)).rejects.toThrow(
      new RegExp(`${dataDir} is in use by another datasync process`),
    );
  });

  it('refuses to start on a bad setting, naming the variable', async () => {
    await expect(
      new LocalHost({ DATASYNC_DATA_DIR: dataDir, DATASYNC_TARGET_TIMEOUT_MS: 'soon' }).start(15_000),
    ).rejects.toThrow(/DATASYNC_TARGET_TIMEOUT_MS must be an integer/);
  });
});
