import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatch, type Source } from '../../shared/pipeline/dispatch';
import { OutcomeNotDurableError } from '../../shared/pipeline/errors';
import { populate } from '../../shared/pipeline/populate';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { envelope, syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

describe('dispatch', () => {
  let pipeline: EmbeddedPipeline;
  let target: TargetServer;

  beforeEach(async () => {
    pipeline = new EmbeddedPipeline({ timeoutMs: 300, maxAttempts: 3 });
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    pipeline.close();
    await target.stop();
  });

  async function ingestAndRead(body: unknown, authorization?: string): Promise<Source> {
    await populate(pipeline.populateDeps, { body, authorization });
    const records = await pipeline.all('datasync');
    return records[records.length - 1] as Source;
  }

  it('calls the target with the method, payload, headers, stored credential and an idempotency key', async () => {
    const source = await ingestAndRead(
      syncRequest(`${target.url}/orders`, { targetRestApiOperation: 'PUT' }),
      'Bearer t1',
    );
    await expect(dispatch(pipeline.consumerDeps, source)).resolves.toEqual({
      kind: 'delivered',
      status: 200,
    });
    const [call] = target.calls;
    expect(call).toMatchObject({ method: 'PUT', path: '/orders', body: '{"orderid":"18jan","PO":"18jan"}' });
    expect(call?.headers).toMatchObject({
      authorization: 'Bearer t1',
      'content-type': 'application/json',
      'idempotency-key': source.body.id,
    });
  });

  it('uses the credential stored at delivery time, so a rotated token reaches later deliveries', async () => {
    const first = await ingestAndRead(syncRequest(`${target.url}/a`), 'Bearer old');
    await ingestAndRead(syncRequest(`${target.url}/a`), 'Bearer new');
    await dispatch(pipeline.consumerDeps, first);
    expect(target.calls[0]?.headers.authorization).toBe('Bearer new');
  });

  it('routes a 404 to the 404 stream with an error record and no credential in it', async () => {
    target.reply('/missing', { status: 404, body: 'no such order; you sent Bearer topsecret-token' });
    const source = await ingestAndRead(syncRequest(`${target.url}/missing`), 'Bearer topsecret-token');
    const outcome = await dispatch(pipeline.consumerDeps, source);
    expect(outcome).toMatchObject({
      kind: 'routed',
      stream: 'datasync-error-404',
      offset: 0n,
      unrecoverable: false,
    });
    const [record] = await pipeline.all('datasync-error-404');
    expect(record?.body).toMatchObject({
      id: source.body.id,
      attempt: 1,
      failure: { reason: 'http', status: 404, routedBy: '404', from: { stream: 'datasync', offset: '0' } },
    });
    expect(record?.body.failure?.responseExcerpt).toBe('no such order; you sent [redacted]');
    expect(pipeline.log.text()).not.toContain('topsecret-token');
  });

  it('keeps the first 512 characters of the response body in the error record, no more and no fewer', async () => {
    const body = Array.from({ length: 600 }, (_, index) => String(index % 10)).join('');
    target.reply('/long', { status: 404, body });
    target.reply('/exact', { status: 404, body: body.slice(0, 512) });
    for (const path of ['/long', '/exact']) {
      await dispatch(pipeline.consumerDeps, {
        stream: 'datasync',
        offset: 0n,
        body: envelope(`${target.url}${path}`),
      });
    }
    const records = await pipeline.all('datasync-error-404');
    expect(records.map((record) => record.body.failure?.responseExcerpt)).toEqual([
      body.slice(0, 512),
      body.slice(0, 512),
    ]);
  });

  it('does not follow redirects: a 3xx is a failure', async () => {
    target.reply('/moved', { status: 302, headers: { location: `${target.url}/elsewhere` } });
    const outcome = await dispatch(pipeline.consumerDeps, {
      stream: 'datasync',
      offset: 0n,
      body: envelope(`${target.url}/moved`),
    });
    expect(outcome).toMatchObject({ kind: 'routed', failure: { status: 302 } });
    expect(target.callsTo('/elsewhere')).toHaveLength(0);
  });

  it('archives and alerts when the failure lands on an unrecoverable stream', async () => {
    target.reply('/conflict', { status: 409 });
    const source = { stream: 'datasync', offset: 7n, body: envelope(`${target.url}/conflict`) };
    const outcome = await dispatch(pipeline.consumerDeps, source);
    expect(outcome).toMatchObject({ stream: 'datasync-error-unexpected', unrecoverable: true });
    const folder = join(pipeline.dir, 'archive', 'datasync-error-unexpected');
    const day = new Date().toISOString().slice(0, 10).split('-');
    const files = readdirSync(join(folder, ...day));
    expect(files).toEqual([`0-${source.body.id}-attempt1.json`]);
    const archived = JSON.parse(readFileSync(join(folder, ...day, files[0] as string), 'utf8'));
    expect(archived).toMatchObject({ id: source.body.id, failure: { status: 409, from: { offset: '7' } } });
    const alerts = await pipeline.stream.readAfter('datasync-alerts', -1n, 10);
    expect(alerts[0]?.body).toMatchObject({ messageId: source.body.id, stream: 'datasync-error-unexpected' });
    expect(pipeline.log.events('alert.unrecoverable')).toHaveLength(1);
  });

  it('classifies a target that does not answer in time as a timeout', async () => {
    target.reply('/slow', { status: 200, delayMs: 2000 });
    const outcome = await dispatch(pipeline.consumerDeps, {
      stream: 'datasync',
      offset: 0n,
      body: envelope(`${target.url}/slow`),
    });
    expect(outcome).toMatchObject({ kind: 'routed', failure: { reason: 'timeout' } });
  });

  it('classifies a refused connection as a network failure', async () => {
    const closed = new TargetServer();
    await closed.start();
    await closed.stop();
    const outcome = await dispatch(pipeline.consumerDeps, {
      stream: 'datasync',
      offset: 0n,
      body: envelope(`${closed.url}/x`),
    });
    expect(outcome).toMatchObject({ kind: 'routed', failure: { reason: 'network' } });
  });

  it('fails with missingSecret when the named credential is gone or bound elsewhere, without calling', async () => {
    await pipeline.secrets.put('789', { value: 'Bearer t', origin: 'https://other.example' });
    const body = envelope(`${target.url}/x`, {
      streamMessage: {
        vaultSecretName: '789',
        targetRestApi: `${target.url}/x`,
        targetRestApiOperation: 'POST',
      },
    });
    const outcome = await dispatch(pipeline.consumerDeps, { stream: 'datasync', offset: 0n, body });
    expect(outcome).toMatchObject({ kind: 'routed', failure: { reason: 'missingSecret' } });
    expect(target.calls).toHaveLength(0);
  });

  it('parks a message as unrecoverable once it used up its attempts, whatever its mapped stream', async () => {
    target.reply('/down', { status: 503 });
    const body = envelope(`${target.url}/down`, { attempt: 2 });
    const outcome = await dispatch(pipeline.consumerDeps, { stream: 'datasync-error-503', offset: 4n, body });
    expect(outcome).toMatchObject({
      stream: 'datasync-error-unexpected',
      unrecoverable: true,
      failure: { reason: 'http', status: 503, routedBy: 'attemptsExhausted' },
    });
  });

  it('throws when not even a parked outcome can be recorded, after calling the target once', async () => {
    target.reply('/missing', { status: 404 });
    const source = { stream: 'datasync', offset: 0n, body: envelope(`${target.url}/missing`) };
    pipeline.db.close();
    await expect(dispatch(pipeline.consumerDeps, source)).rejects.toThrow(OutcomeNotDurableError);
    expect(target.calls).toHaveLength(1);
  });
});

describe('the overall limit on target calls (the assembly bulkhead)', () => {
  it('starts a call beyond DATASYNC_DISPATCH_CONCURRENCY only after another was answered, across origins', async () => {
    const pipeline = new EmbeddedPipeline({ env: { DATASYNC_DISPATCH_CONCURRENCY: '2' } });
    // Three origins, so no per-origin limit is what holds the third call back.
    const targets = await Promise.all([1, 2, 3].map(() => new TargetServer().start()));
    const answeredWhenCalled: number[] = [];
    try {
      for (const target of targets) {
        target.reply('/slow', () => {
          answeredWhenCalled.push(targets.reduce((sum, each) => sum + each.answered, 0));
          return { status: 200, delayMs: 500 };
        });
      }
      await Promise.all(
        targets.map((target, index) =>
          dispatch(pipeline.consumerDeps, {
            stream: 'datasync',
            offset: BigInt(index),
            body: envelope(`${target.url}/slow`),
          }),
        ),
      );
      expect(answeredWhenCalled.slice(0, 2)).toEqual([0, 0]);
      expect(answeredWhenCalled[2]).toBeGreaterThanOrEqual(1);
    } finally {
      pipeline.close();
      await Promise.all(targets.map((target) => target.stop()));
    }
  });
});
