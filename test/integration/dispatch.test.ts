import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Envelope } from '../../shared/contract/envelope';
import { dispatch, type Source } from '../../shared/pipeline/dispatch';
import { OutcomeNotDurableError, SecretUnreadableError } from '../../shared/pipeline/errors';
import type { AttemptRecord } from '../../shared/pipeline/message-states';
import { populate } from '../../shared/pipeline/populate';
import { EmbeddedPipeline, type PipelineOptions } from '../helpers/embedded-pipeline';
import { envelope, keyless, syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

/** `port` with some methods replaced, its others still answering. */
/** True for the first call only. */
function firstCall(): () => boolean {
  let calls = 0;
  return () => calls++ === 0;
}

function replacing<T extends object>(port: T, methods: Partial<T>): T {
  return Object.assign(Object.create(port) as T, methods);
}

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

  /** The pipeline's message states, whose `record` throws `message` for the entries `fails` picks. */
  function statesFailingWhen(fails: (entry: AttemptRecord) => boolean, message: string) {
    const record = pipeline.states.record.bind(pipeline.states);
    return replacing(pipeline.states, {
      record: async (entry: AttemptRecord) => {
        if (fails(entry)) throw new Error(message);
        return record(entry);
      },
    });
  }

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
    const named = (vaultSecretName: string) =>
      envelope(`${target.url}/x`, {
        streamMessage: { vaultSecretName, targetRestApi: `${target.url}/x`, targetRestApiOperation: 'POST' },
      });
    await pipeline.secrets.put('789', { value: 'Bearer t', origin: 'https://other.example' });
    const elsewhere = await dispatch(pipeline.consumerDeps, {
      stream: 'datasync',
      offset: 0n,
      body: named('789'),
    });
    const gone = await dispatch(pipeline.consumerDeps, {
      stream: 'datasync',
      offset: 1n,
      body: named('790'),
    });
    expect(elsewhere).toMatchObject({
      kind: 'routed',
      failure: {
        reason: 'missingSecret',
        detail: `credential "789" is bound to https://other.example, not ${target.url}`,
      },
    });
    expect(gone).toMatchObject({
      kind: 'routed',
      failure: { reason: 'missingSecret', detail: 'no credential stored under "790"' },
    });
    expect(target.calls).toHaveLength(0);
  });

  it('parks a message whose stored credential cannot be decrypted, without calling the target', async () => {
    const secrets = replacing(pipeline.secrets, {
      get: async (name: string) => Promise.reject(new SecretUnreadableError(name)),
    });
    const body = envelope(`${target.url}/x`, {
      streamMessage: {
        vaultSecretName: '789',
        targetRestApi: `${target.url}/x`,
        targetRestApiOperation: 'POST',
      },
    });
    const outcome = await dispatch(
      { ...pipeline.consumerDeps, secrets },
      { stream: 'datasync', offset: 0n, body },
    );
    expect(outcome).toMatchObject({
      kind: 'routed',
      unrecoverable: true,
      failure: { reason: 'undecryptableSecret', detail: new SecretUnreadableError('789').message },
    });
    expect(target.calls).toHaveLength(0);
  });

  it('throws, recording nothing, when the secret store cannot be read (the message is tried again later)', async () => {
    const outage = new Error('secret store unavailable');
    const secrets = replacing(pipeline.secrets, { get: async () => Promise.reject(outage) });
    const source = await ingestAndRead(syncRequest(`${target.url}/x`), 'Bearer t1');
    await expect(dispatch({ ...pipeline.consumerDeps, secrets }, source)).rejects.toBe(outage);
    expect((await pipeline.states.history(source.body.id))?.attempts).toEqual([]);
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

  it('records a delivery with its status and how long the call took, and logs it for the metrics', async () => {
    target.reply('/orders', { status: 201, delayMs: 20 });
    const source = await ingestAndRead(keyless(`${target.url}/orders`));
    const before = Date.now();
    await dispatch(pipeline.consumerDeps, source);
    const elapsed = Date.now() - before;
    const history = await pipeline.states.history(source.body.id);
    expect(history?.state).toBe('delivered');
    const [attempt] = history?.attempts ?? [];
    expect(attempt).toMatchObject({ attempt: 1, outcome: 'delivered', status: 201 });
    expect(attempt?.durationMs).toBeGreaterThanOrEqual(20);
    expect(attempt?.durationMs).toBeLessThanOrEqual(elapsed);
    expect(pipeline.log.events('sync.delivered').map((line) => line.fields)).toEqual([
      { id: source.body.id, origin: target.url, status: 201, attempt: 1, durationMs: attempt?.durationMs },
    ]);
  });

  it('counts 200 to 299 as delivered and 300 as a failure', async () => {
    target.reply('/299', { status: 299 });
    target.reply('/300', { status: 300 });
    const outcomes = [];
    for (const path of ['/299', '/300'])
      outcomes.push(
        await dispatch(pipeline.consumerDeps, {
          stream: 'datasync',
          offset: 0n,
          body: envelope(`${target.url}${path}`),
        }),
      );
    expect(outcomes).toMatchObject([
      { kind: 'delivered', status: 299 },
      { kind: 'routed', failure: { status: 300 } },
    ]);
  });

  it('lets an unexpected error from the target adapter propagate rather than record a failure without a reason', async () => {
    const bug = new TypeError('cannot read properties of undefined');
    const deps = { ...pipeline.consumerDeps, target: { call: async () => Promise.reject(bug) } };
    const source = await ingestAndRead(keyless(`${target.url}/x`));
    await expect(dispatch(deps, source)).rejects.toBe(bug);
    expect((await pipeline.states.history(source.body.id))?.attempts).toEqual([]);
  });

  it('records what a failed attempt saw: the status and excerpt of an answer, the detail of a call without one', async () => {
    target.reply('/missing', { status: 404, body: 'no such order' });
    const answered = await ingestAndRead(keyless(`${target.url}/missing`));
    const closed = await new TargetServer().start();
    await closed.stop();
    const unanswered = await ingestAndRead(keyless(`${closed.url}/x`));
    await dispatch(pipeline.consumerDeps, answered);
    await dispatch(pipeline.consumerDeps, unanswered);
    expect(await pipeline.states.history(answered.body.id)).toMatchObject({
      state: 'failed',
      location: { stream: 'datasync-error-404', offset: 0n },
      attempts: [
        {
          attempt: 1,
          outcome: 'failed',
          reason: 'http',
          status: 404,
          responseExcerpt: 'no such order',
          stream: 'datasync-error-404',
          offset: 0n,
        },
      ],
    });
    const [attempt] = (await pipeline.states.history(unanswered.body.id))?.attempts ?? [];
    expect(attempt).toMatchObject({
      reason: 'network',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('logs a routed failure for the metrics with its error stream, reason, status and attempt', async () => {
    target.reply('/missing', { status: 404 });
    const source = await ingestAndRead(keyless(`${target.url}/missing`));
    await dispatch(pipeline.consumerDeps, source);
    expect(pipeline.log.events('sync.failed')).toEqual([
      {
        level: 'warn',
        event: 'sync.failed',
        fields: {
          id: source.body.id,
          origin: target.url,
          status: 404,
          reason: 'http',
          routedBy: '404',
          errorStream: 'datasync-error-404',
          attempt: 1,
          unrecoverable: false,
        },
      },
    ]);
  });

  it('neither archives nor alerts for a failure routed to a recoverable stream', async () => {
    target.reply('/missing', { status: 404 });
    await dispatch(pipeline.consumerDeps, {
      stream: 'datasync',
      offset: 0n,
      body: envelope(`${target.url}/missing`),
    });
    expect(existsSync(join(pipeline.dir, 'archive'))).toBe(false);
    expect(await pipeline.all('datasync-alerts')).toEqual([]);
  });

  it('alerts without an offset when the error stream assigns none (as a Service Bus send)', async () => {
    target.reply('/conflict', { status: 409 });
    const stream = replacing(pipeline.stream, {
      append: async (name: string, messages: Envelope[]) =>
        (await pipeline.stream.append(name, messages)).map(({ offset: _assigned, ...rest }) => rest),
    });
    const body = envelope(`${target.url}/conflict`);
    const outcome = await dispatch(
      { ...pipeline.consumerDeps, stream },
      { stream: 'datasync', offset: 3n, body },
    );
    expect(outcome).toMatchObject({ stream: 'datasync-error-unexpected', unrecoverable: true });
    expect(outcome).not.toHaveProperty('offset', expect.anything());
    const [alert] = await pipeline.all('datasync-alerts');
    expect(alert?.body).toMatchObject({ messageId: body.id, stream: 'datasync-error-unexpected' });
    expect(alert?.body).not.toHaveProperty('offset');
  });

  it('still answers the outcome when the alert cannot be published, and logs that it was not', async () => {
    target.reply('/conflict', { status: 409 });
    const alerts = { publish: async () => Promise.reject(new Error('alert channel down')) };
    const body = envelope(`${target.url}/conflict`);
    const outcome = await dispatch(
      { ...pipeline.consumerDeps, alerts },
      { stream: 'datasync', offset: 0n, body },
    );
    expect(outcome).toMatchObject({
      kind: 'routed',
      stream: 'datasync-error-unexpected',
      unrecoverable: true,
    });
    expect(pipeline.log.events('alert.publish_failed')).toEqual([
      {
        level: 'error',
        event: 'alert.publish_failed',
        fields: { id: body.id, error: 'Error: alert channel down' },
      },
    ]);
  });

  it('writes the error record once when recording the outcome needed a second try', async () => {
    target.reply('/missing', { status: 404 });
    const source = await ingestAndRead(keyless(`${target.url}/missing`));
    const states = statesFailingWhen(firstCall(), 'database is locked');
    await dispatch({ ...pipeline.consumerDeps, states }, source);
    expect(await pipeline.all('datasync-error-404')).toHaveLength(1);
    expect((await pipeline.states.history(source.body.id))?.state).toBe('failed');
  });

  it('parks a message where it is, says why and alerts, when its outcome cannot be recorded within the bound', async () => {
    target.reply('/missing', { status: 404 });
    const source = await ingestAndRead(keyless(`${target.url}/missing`));
    const states = statesFailingWhen(firstCall(), 'disk I/O error');
    // A bound of 0: the first failed write already outlasts it.
    const deps = { ...pipeline.consumerDeps, states, durability: { firstDelayMs: 1, boundMs: 0 } };
    const outcome = await dispatch(deps, source);
    const failure = {
      reason: 'storageFailure',
      detail: 'the outcome could not be recorded within 0 ms',
      routedBy: 'storageFailure',
      at: expect.any(String),
      from: { stream: 'datasync', offset: String(source.offset) },
    };
    expect(outcome).toEqual({
      kind: 'routed',
      stream: 'datasync',
      offset: source.offset,
      failure,
      unrecoverable: true,
    });
    expect(await pipeline.states.history(source.body.id)).toMatchObject({
      state: 'parked',
      location: { stream: 'datasync', offset: source.offset },
      attempts: [{ attempt: 1, outcome: 'parked', reason: 'storageFailure', detail: failure.detail }],
    });
    const [alert] = await pipeline.all('datasync-alerts');
    expect(alert?.body).toEqual({
      messageId: source.body.id,
      stream: 'datasync',
      offset: String(source.offset),
      targetOrigin: target.url,
      failure,
      attempt: 1,
      archivedAt: 'not archived: storage failure',
    });
    expect(pipeline.log.events('sync.failed')).toEqual([
      {
        level: 'error',
        event: 'sync.failed',
        fields: {
          id: source.body.id,
          origin: target.url,
          reason: 'storageFailure',
          routedBy: 'storageFailure',
          errorStream: 'datasync',
          attempt: 1,
          unrecoverable: true,
        },
      },
    ]);
  });

  it.each([
    ['delivery', 200, 'delivered'],
    ['scheduled retry', 503, 'retryScheduled'],
  ])('answers the parked outcome, not the %s it could not record', async (_name, status, unrecorded) => {
    target.reply('/x', { status });
    const source = await ingestAndRead(keyless(`${target.url}/x`));
    const states = statesFailingWhen((entry) => entry.attempt.outcome === unrecorded, 'disk I/O error');
    const deps = {
      ...pipeline.consumerDeps,
      states,
      retry: { ...pipeline.consumerDeps.retry, autoRetries: 1 },
      durability: { firstDelayMs: 1, boundMs: 0 },
    };
    const outcome = await dispatch(deps, source);
    expect(outcome).toMatchObject({
      kind: 'routed',
      stream: 'datasync',
      failure: { reason: 'storageFailure' },
      unrecoverable: true,
    });
    expect((await pipeline.states.history(source.body.id))?.state).toBe('parked');
    expect(pipeline.log.events('sync.retry_scheduled')).toEqual([]);
  });

  it('throws when not even a parked outcome can be recorded, after calling the target once', async () => {
    target.reply('/missing', { status: 404 });
    const source = { stream: 'datasync', offset: 0n, body: envelope(`${target.url}/missing`) };
    pipeline.db.close();
    await expect(dispatch(pipeline.consumerDeps, source)).rejects.toThrow(OutcomeNotDurableError);
    expect(target.calls).toHaveLength(1);
  });
});

describe('dispatch under the failure order and automatic retries', () => {
  let target: TargetServer;
  const pipelines: EmbeddedPipeline[] = [];
  const open = (options: PipelineOptions) => {
    const pipeline = new EmbeddedPipeline(options);
    pipelines.push(pipeline);
    return pipeline;
  };

  beforeEach(async () => {
    target = await new TargetServer().start();
    target.reply('/missing', { status: 404 });
  });
  afterEach(async () => {
    for (const pipeline of pipelines.splice(0)) pipeline.close();
    await target.stop();
  });

  async function failKeyed(pipeline: EmbeddedPipeline): Promise<string> {
    await populate(pipeline.populateDeps, {
      body: syncRequest(`${target.url}/missing`, { vaultSecretName: undefined }),
    });
    const [source] = await pipeline.all('datasync');
    await dispatch(pipeline.consumerDeps, source as Source);
    return (source as Source).body.id;
  }

  it('holds the key behind a failed message when the order is hold', async () => {
    const pipeline = open({ onFailure: 'hold' });
    const id = await failKeyed(pipeline);
    await expect(pipeline.states.holdOf('key1')).resolves.toBe(id);
  });

  it('lets the key go on past a failed message when the order is continue', async () => {
    const pipeline = open({ onFailure: 'continue' });
    await failKeyed(pipeline);
    await expect(pipeline.states.holdOf('key1')).resolves.toBeUndefined();
  });

  it('records and logs a scheduled retry of a transient failure', async () => {
    target.reply('/busy', { status: 503 });
    const pipeline = open({ autoRetries: 1 });
    await populate(pipeline.populateDeps, { body: keyless(`${target.url}/busy`) });
    const [source] = (await pipeline.all('datasync')) as Source[];
    const outcome = await dispatch(pipeline.consumerDeps, source as Source);
    expect(outcome).toMatchObject({ kind: 'scheduled' });
    const id = source?.body.id;
    expect(await pipeline.states.history(id as string)).toMatchObject({
      state: 'retryScheduled',
      attempts: [{ attempt: 1, outcome: 'retryScheduled', reason: 'http', status: 503 }],
    });
    expect(pipeline.log.events('sync.retry_scheduled')).toEqual([
      {
        level: 'warn',
        event: 'sync.retry_scheduled',
        fields: {
          id,
          origin: target.url,
          status: 503,
          reason: 'http',
          attempt: 1,
          retry: 1,
          at: (outcome as { at: Date }).at.toISOString(),
        },
      },
    ]);
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
