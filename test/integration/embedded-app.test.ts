import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiRequest } from '../../shared/api/http-api';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { loadConfig } from '../../shared/config/config';
import { JsonLogger } from '../../shared/logging/json-logger';
import { EmbeddedApp } from '../../shared/local/embedded-app';
import { syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

const TOKEN = 'Bearer sk-live-7f3a9c2e4b1d';

function request(body: unknown, authorization?: string): ApiRequest {
  const headers: Record<string, string | undefined> = { 'content-type': 'application/json', authorization };
  return { header: (name) => headers[name.toLowerCase()], body: Buffer.from(JSON.stringify(body)) };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function until(check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function stateIs(app: EmbeddedApp, id: string | undefined, state: string) {
  const deadline = Date.now() + 10_000;
  while ((await app.states.history(id as string))?.state !== state) {
    if (Date.now() > deadline) throw new Error(`message ${id} never became ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the embedded app', () => {
  let dataDir: string;
  let target: TargetServer;
  let app: EmbeddedApp | undefined;
  let logLines: string[];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-app-'));
    target = await new TargetServer().start();
    logLines = [];
  });
  afterEach(async () => {
    await app?.stop(100);
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}) => {
    const config = loadConfig({ DATASYNC_DATA_DIR: dataDir, DATASYNC_AUTO_RETRIES: '0', ...env }, 'local');
    app = new EmbeddedApp(config, new JsonLogger((line) => logLines.push(line)));
    await app.start();
    return app;
  };

  it('never lets the credential out: not in logs, streams, error records, archive, alerts or status', async () => {
    // Targets that echo the Authorization header back in their error bodies.
    target.reply('/conflict', (call) => ({
      status: 409,
      body: `conflict for ${call.headers.authorization}`,
    }));
    target.reply('/missing', (call) => ({
      status: 404,
      body: `no such order (auth ${call.headers.authorization})`,
    }));
    const running = await start();
    const synced = await running
      .api()
      .sync(
        request(
          [
            syncRequest(`${target.url}/ok`, {}, 'k1'),
            syncRequest(`${target.url}/conflict`, {}, 'k2'),
            syncRequest(`${target.url}/missing`, {}, 'k3'),
          ],
          TOKEN,
        ),
      );
    expect(synced.status).toBe(202);
    const [, conflict, missing] = (synced.body as { messages: Array<{ id: string }> }).messages;
    await until(() => logLines.some((line) => line.includes('alert.unrecoverable')));
    await stateIs(running, conflict?.id, 'parked');
    await stateIs(running, missing?.id, 'failed');
    const replayed = await running
      .api()
      .retry(request({ streamToRetry: 'datasync-error-404', readAfterOffset: -1 }));
    expect(replayed.body).toMatchObject({ failedMessages: 1 });
    const history = await running.api().message(request(''), missing?.id as string);
    const status = await running.api().status(request(''));
    expect(target.calls.every((call) => call.headers.authorization === TOKEN)).toBe(true);

    const streams = running.stream.summaries().map((summary) => summary.stream);
    expect(streams).toEqual(
      expect.arrayContaining([
        'datasync',
        'datasync-error-404',
        'datasync-error-unexpected',
        'datasync-alerts',
      ]),
    );
    const streamText = JSON.stringify(
      await Promise.all(streams.map((stream) => running.stream.readAfter(stream, -1n, 1000))),
      (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    );
    const archive = filesUnder(join(dataDir, 'archive')).map((file) => readFileSync(file, 'utf8'));
    expect(archive).toHaveLength(1);
    const secretPart = TOKEN.split(' ')[1] as string;
    for (const [where, text] of [
      ['logs', logLines.join('\n')],
      ['streams', streamText],
      ['archive', archive.join('\n')],
      ['status', JSON.stringify(status.body)],
      ['message history', JSON.stringify(history.body)],
    ] as const) {
      expect({ where, leaked: text.includes(secretPart) }).toEqual({ where, leaked: false });
    }
    expect(streamText).toContain('conflict for [redacted]');
  });

  it('keeps a healthy target flowing while another one hangs (per-origin limit)', async () => {
    const healthy = await new TargetServer().start();
    try {
      target.reply('/hang', { status: 200, hang: true });
      const running = await start({
        DATASYNC_DISPATCH_CONCURRENCY: '4',
        DATASYNC_PER_HOST_CONCURRENCY: '2',
        DATASYNC_TARGET_TIMEOUT_MS: '20000',
      });
      const noKey = (url: string) => ({ ...syncRequest(url, { vaultSecretName: undefined }), streamKey: '' });
      await running.api().sync(request(Array.from({ length: 10 }, () => noKey(`${target.url}/hang`))));
      await running.api().sync(request(Array.from({ length: 30 }, () => noKey(`${healthy.url}/ok`))));
      await until(() => healthy.calls.length === 30);
      expect(target.calls).toHaveLength(2);
    } finally {
      await healthy.stop();
    }
  });

  it('deletes secrets idle for longer than DATASYNC_SECRET_MAX_IDLE_DAYS', async () => {
    const running = await start({ DATASYNC_SECRET_MAX_IDLE_DAYS: '30' });
    await running.api().sync(request(syncRequest(`${target.url}/ok`), TOKEN));
    await running.housekeeping();
    expect(logLines.some((line) => line.includes('secrets.deleted_idle'))).toBe(false);
    await running.stop(100);
    const other = openDatabase(join(dataDir, 'datasync.db'));
    other.prepare('UPDATE secrets SET used_at = ?').run(Date.now() - 31 * 86_400_000);
    other.close();
    await (await start({ DATASYNC_SECRET_MAX_IDLE_DAYS: '30' })).housekeeping();
    expect(logLines.filter((line) => line.includes('secrets.deleted_idle'))).toEqual([
      expect.stringContaining('"count":1'),
    ]);
  });
});
