import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncRequest } from '../helpers/fixtures';
import { LocalHost } from '../helpers/local-host';
import { TargetServer } from '../helpers/target-server';

jest.setTimeout(120_000);

/**
 * kill -9 of the host at the worst moments. What must hold: every message that got a 202 reaches
 * its target at least once. Duplicates are allowed (at-least-once) and reported.
 */
describe('crash safety (kill -9)', () => {
  let dataDir: string;
  let target: TargetServer;
  let host: LocalHost | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-crash-'));
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await host?.stop('SIGKILL');
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async () => (host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir }).start());
  const message = (i: number) =>
    syncRequest(
      `${target.url}/orders`,
      { vaultSecretName: undefined, targetRestApiPayload: { i } },
      `key${i % 8}`,
    );
  const deliveredIds = () => target.calls.map((call) => String(call.headers['idempotency-key']));

  async function waitForIds(ids: string[], timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (ids.some((id) => !deliveredIds().includes(id))) {
      if (Date.now() > deadline)
        throw new Error(
          `${ids.filter((id) => !deliveredIds().includes(id)).length} acknowledged messages never arrived`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('loses no acknowledged message when killed during ingest', async () => {
    target.reply('/orders', { status: 200, delayMs: 20 });
    const local = await start();
    const acknowledged: string[] = [];
    let refused = 0;
    const senders = Array.from({ length: 8 }, async (_, sender) => {
      for (let i = 0; ; i += 1) {
        try {
          const response = await local.post('stream/sync', [message(sender * 10_000 + i)]);
          if (response.status !== 202) return;
          acknowledged.push(...(response.body.messages as Array<{ id: string }>).map((m) => m.id));
        } catch {
          refused += 1;
          return;
        }
      }
    });
    while (acknowledged.length < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    await local.stop('SIGKILL');
    await Promise.all(senders);

    await start();
    await waitForIds(acknowledged);
    const duplicates = deliveredIds().length - new Set(deliveredIds()).size;
    process.stdout.write(
      `crash during ingest: ${acknowledged.length} acknowledged, 0 lost, ${duplicates} duplicates, ${refused} senders cut off\n`,
    );
    expect(acknowledged.every((id) => deliveredIds().includes(id))).toBe(true);
  });

  it('accounts for every acknowledged message after three kills under mixed targets, re-sending only calls in flight', async () => {
    const concurrency = 32;
    target.reply('/ok', { status: 200, delayMs: 5 });
    target.reply('/slow', { status: 200, delayMs: 300 });
    target.reply('/busy', { status: 503 });
    target.reply('/gone', { status: 404 });
    const env = {
      DATASYNC_DATA_DIR: dataDir,
      DATASYNC_AUTO_RETRIES: '1',
      DATASYNC_RETRY_BASE_MS: '100',
      DATASYNC_DISPATCH_CONCURRENCY: String(concurrency),
    };
    const paths = ['/ok', '/ok', '/ok', '/slow', '/busy', '/gone'];
    host = await new LocalHost(env).start();
    const ids: string[] = [];
    for (let batch = 0; batch < 15; batch++) {
      const body = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        const path = paths[n % paths.length] as string;
        // Failing messages carry no key: a keyed one would (rightly) hold its key's later messages.
        const key = path === '/busy' || path === '/gone' ? '' : `key${n % 50}`;
        return syncRequest(`${target.url}${path}`, { vaultSecretName: undefined }, key);
      });
      const response = await host.post('stream/sync', body);
      expect(response.status).toBe(202);
      ids.push(...(response.body.messages as Array<{ id: string }>).map((m) => m.id));
    }
    for (let kill = 1; kill <= 3; kill++) {
      await target.waitForCalls(target.calls.length + 150, 60_000);
      await host.stop('SIGKILL');
      host = await new LocalHost(env).start();
    }

    const finalStates = new Map<string, string>();
    let attemptsRecorded = 0;
    const deadline = Date.now() + 90_000;
    for (const id of ids) {
      for (;;) {
        const { status, body } = await host.get(`messages/${id}`);
        expect(status).toBe(200);
        if (['delivered', 'failed', 'parked'].includes(body.state as string)) {
          finalStates.set(id, body.state as string);
          attemptsRecorded += (body.attempts as unknown[]).length;
          break;
        }
        if (Date.now() > deadline) throw new Error(`message ${id} is still ${String(body.state)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const callsMade = target.calls.length;
    const duplicates = callsMade - attemptsRecorded;
    const counts = [...finalStates.values()].reduce<Record<string, number>>(
      (all, state) => ({ ...all, [state]: (all[state] ?? 0) + 1 }),
      {},
    );
    process.stdout.write(
      `conservation after 3 kills: ${ids.length} acknowledged, ${JSON.stringify(counts)}, ` +
        `${callsMade} calls for ${attemptsRecorded} recorded attempts: ${duplicates} re-sent (bound ${3 * concurrency})\n`,
    );
    expect(finalStates.size).toBe(ids.length);
    expect(duplicates).toBeGreaterThanOrEqual(0);
    expect(duplicates).toBeLessThanOrEqual(3 * concurrency);
  });
});
