import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirInUseError } from '../../shared/adapters/local/sqlite-database';
import { loadConfig } from '../../shared/config/config';
import { JsonLogger } from '../../shared/logging/json-logger';
import { EmbeddedApp } from '../../shared/local/embedded-app';
import { AppHarness, apiRequest, until } from '../helpers/app-harness';
import { keyless, syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

describe('delivery under faults on the embedded host', () => {
  let harness: AppHarness;
  let target: TargetServer;

  beforeEach(async () => {
    harness = new AppHarness();
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await harness.close();
    await target.stop();
  });

  it('delivers to a healthy target while a hanging target has a backlog far larger than every limit', async () => {
    const hanging = await new TargetServer().start();
    hanging.reply('*', { status: 200, hang: true });
    try {
      await harness.start({ DATASYNC_TARGET_TIMEOUT_MS: '60000', DATASYNC_AUTO_RETRIES: '0' });
      const backlog = Array.from({ length: 1500 }, () => keyless(`${hanging.url}/slow`));
      for (let offset = 0; offset < backlog.length; offset += 500)
        await harness.sync(backlog.slice(offset, offset + 500));
      await until(() => hanging.calls.length === 8, 10_000, 'the hanging target taking its share');
      await harness.sync(Array.from({ length: 10 }, () => keyless(`${target.url}/ok`)));

      await until(() => target.calls.length === 10, 10_000, 'the healthy target served');
      const of = async (origin: string) =>
        (await harness.app?.status())?.targets.find((t) => t.origin === origin);
      await until(async () => (await of(target.url))?.queued === 0, 10_000, 'the healthy outcomes recorded');
      expect(await of(target.url)).toMatchObject({ queued: 0, state: 'closed' });
      expect(await of(hanging.url)).toEqual({
        origin: hanging.url,
        inFlight: 8,
        queued: 1500,
        limit: 8,
        state: 'closed',
      });
      expect(hanging.calls).toHaveLength(8);
    } finally {
      await harness.stop(0);
      await hanging.stop();
    }
  });

  it('parks a message whose stored credential cannot be decrypted, alerts, and keeps delivering others', async () => {
    target.reply('*', { status: 200 });
    await harness.start({ DATASYNC_DISPATCH_PAUSED: 'true' });
    const { ids } = await harness.sync([syncRequest(`${target.url}/a`), keyless(`${target.url}/b`)], {
      authorization: 'Bearer first',
    });
    await harness.stop();
    // The key file is lost: the stored credential no longer opens.
    const otherKey = Buffer.alloc(32, 9).toString('base64');
    await harness.start({ DATASYNC_AUTO_RETRIES: '0', DATASYNC_SECRET_KEY: otherKey });
    expect(harness.events('secrets.key_mismatch')).toHaveLength(1);
    await until(async () => (await harness.state(ids[0] as string)) === 'parked', 10_000, 'parked');
    await until(async () => (await harness.state(ids[1] as string)) === 'delivered', 10_000, 'delivered');
    const history = await harness.app?.states.history(ids[0] as string);
    expect(history?.attempts).toEqual([
      expect.objectContaining({ outcome: 'parked', reason: 'undecryptableSecret' }),
    ]);
    await until(() => harness.events('alert.unrecoverable').length > 0, 10_000, 'the alert');
    expect(harness.events('alert.unrecoverable')).toEqual([
      expect.objectContaining({ messageId: ids[0], reason: 'undecryptableSecret' }),
    ]);
    expect(target.callsTo('/a')).toHaveLength(0);
  });

  it('calls the target once when the archive cannot be written, and still alerts with the reason', async () => {
    target.reply('*', { status: 404 });
    // A file where the archive folder should be: every archive write fails.
    mkdirSync(harness.dataDir, { recursive: true });
    writeFileSync(join(harness.dataDir, 'archive'), 'not a folder');
    await harness.start({
      DATASYNC_AUTO_RETRIES: '0',
      DATASYNC_STORAGE_RETRY_BOUND_MS: '300',
      DATASYNC_ERROR_MAPPING: JSON.stringify([
        { responsecode: '404', stream: 'datasync-error-404', unrecoverable: true },
        { responsecode: 'unexpectedError', stream: 'datasync-error-unexpected', unrecoverable: true },
      ]),
    });
    const [id] = (await harness.sync(keyless(`${target.url}/gone`))).ids;
    await until(() => harness.events('alert.unrecoverable').length === 1, 10_000, 'the alert');
    expect(harness.events('alert.unrecoverable')[0]).toMatchObject({
      messageId: id,
      archivedAt: 'not archived: the archive could not be written',
    });
    expect(await harness.state(id as string)).toBe('parked');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(target.calls).toHaveLength(1);
  });

  it('parks a message as storageFailure when its outcome cannot be recorded, without calling the target again', async () => {
    target.reply('*', { status: 503 });
    const app = await harness.start({ DATASYNC_AUTO_RETRIES: '0', DATASYNC_STORAGE_RETRY_BOUND_MS: '300' });
    // The error stream cannot be written: an append to it fails, the state store still works.
    const append = app.stream.append.bind(app.stream);
    app.stream.append = async (stream, messages) => {
      if (stream === 'datasync-error-503') throw new Error('disk I/O error');
      return append(stream, messages);
    };
    const [id] = (await harness.sync(keyless(`${target.url}/x`))).ids;
    await until(async () => (await harness.state(id as string)) === 'parked', 10_000, 'parked');
    const history = await app.states.history(id as string);
    expect(history?.location).toEqual({ stream: 'datasync', offset: 0n });
    expect(history?.attempts.at(-1)).toMatchObject({ outcome: 'parked', reason: 'storageFailure' });
    expect(harness.events('alert.unrecoverable')).toEqual([
      expect.objectContaining({ messageId: id, reason: 'storageFailure' }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(target.calls).toHaveLength(1);
  });

  it('refuses a second owner of the same data dir, naming it', async () => {
    await harness.start();
    const config = loadConfig({ DATASYNC_DATA_DIR: harness.dataDir }, 'local');
    expect(() => new EmbeddedApp(config, new JsonLogger(() => undefined))).toThrow(DataDirInUseError);
    expect(() => new EmbeddedApp(config, new JsonLogger(() => undefined))).toThrow(harness.dataDir);
  });

  it('answers the original ids for a repeated Idempotency-Key and enqueues nothing; another body is 422', async () => {
    await harness.start({ DATASYNC_DISPATCH_PAUSED: 'true' });
    const body = [keyless(`${target.url}/a`), keyless(`${target.url}/b`)];
    const first = await harness.sync(body, { 'idempotency-key': 'batch-2026-11-23-0001' });
    const repeat = await harness.sync(body, { 'idempotency-key': 'batch-2026-11-23-0001' });
    expect(first.status).toBe(202);
    expect(repeat).toMatchObject({ status: 202, headers: { 'idempotent-replayed': 'true' } });
    expect(repeat.ids).toEqual(first.ids);
    expect((await harness.app?.status())?.consumer.backlog).toBe(2);
    const other = await harness.sync([keyless(`${target.url}/c`)], {
      'idempotency-key': 'batch-2026-11-23-0001',
    });
    expect(other.status).toBe(422);
    expect(JSON.stringify(other.body)).toContain('batch-2026-11-23-0001');
    expect((await harness.app?.status())?.consumer.backlog).toBe(2);
  });

  it('answers a message history with every attempt and its reason, never the credential; 404 for an unknown id', async () => {
    const refused = await new TargetServer().start();
    const refusedUrl = refused.url;
    await refused.stop();
    await harness.start({ ...{ DATASYNC_RETRY_BASE_MS: '50', DATASYNC_AUTO_RETRIES: '1' } });
    const [id] = (
      await harness.sync(syncRequest(`${refusedUrl}/orders`, {}, ''), {
        authorization: 'Bearer s3cr3t-t0ken',
      })
    ).ids;
    await until(async () => (await harness.state(id as string)) === 'parked', 10_000, 'parked');
    const answer = await harness.api.message(apiRequest(), id as string);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id,
      state: 'parked',
      target: refusedUrl,
      operation: 'POST',
      location: { stream: 'datasync-error-unexpected', offset: 0 },
      attempts: [
        {
          attempt: 1,
          outcome: 'retryScheduled',
          reason: 'network',
          detail: expect.stringContaining('ECONNREFUSED'),
        },
        { attempt: 2, outcome: 'parked', reason: 'network', stream: 'datasync-error-unexpected', offset: 0 },
      ],
    });
    expect(JSON.stringify(answer.body)).not.toContain('s3cr3t');
    expect((await harness.api.message(apiRequest(), 'no-such-id')).status).toBe(404);
  });
});
