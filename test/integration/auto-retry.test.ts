import { join } from 'node:path';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteDeliveryQueue } from '../../shared/adapters/local/sqlite-delivery-queue';
import { dispatch, type Source } from '../../shared/pipeline/dispatch';
import { replay } from '../../shared/pipeline/replay';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { envelope } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

describe('automatic retries of transient failures', () => {
  let pipeline: EmbeddedPipeline;
  let target: TargetServer;

  beforeEach(async () => {
    pipeline = new EmbeddedPipeline({ autoRetries: 2 });
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    pipeline.close();
    await target.stop();
  });

  const inMain = async (path: string): Promise<Source> => {
    await pipeline.stream.append('datasync', [envelope(`${target.url}${path}`)]);
    const records = await pipeline.all('datasync');
    return records[records.length - 1] as Source;
  };
  /** Makes due retries ready, as the host's timer does, and returns the one ready message. */
  const releaseAll = async (): Promise<Source> => {
    pipeline.queue.releaseDue(Date.now() + 3_600_000);
    const [ready] = await pipeline.queue.ready(target.url, 10, []);
    return ready as Source;
  };

  it('re-attempts a 503 later from the same record, then routes it once the retries are used up', async () => {
    target.reply('/busy', { status: 503 });
    const first = await dispatch(pipeline.consumerDeps, await inMain('/busy'));
    expect(first).toMatchObject({ kind: 'scheduled', failure: { status: 503, routedBy: 'autoRetry' } });
    expect(pipeline.queue.counts()).toEqual({ backlog: 0, scheduledRetries: 1 });

    const second = await releaseAll();
    expect(second).toMatchObject({ offset: 0n, body: { attempt: 1, autoRetries: 1 } });
    expect(await dispatch(pipeline.consumerDeps, second)).toMatchObject({
      kind: 'scheduled',
    });
    const third = await releaseAll();
    const outcome = await dispatch(pipeline.consumerDeps, third);
    expect(outcome).toMatchObject({ kind: 'routed', stream: 'datasync-error-503' });
    const [record] = await pipeline.all('datasync-error-503');
    expect(record?.body).toMatchObject({ attempt: 3, autoRetries: 0, id: second.body.id });
    expect(target.callsTo('/busy')).toHaveLength(3);
    expect(await pipeline.all('datasync')).toHaveLength(1);
  });

  it('honours Retry-After when scheduling', async () => {
    target.reply('/slow-down', { status: 429, headers: { 'retry-after': '1' } });
    const before = Date.now();
    const outcome = await dispatch(pipeline.consumerDeps, await inMain('/slow-down'));
    expect(outcome.kind).toBe('scheduled');
    expect(outcome.kind === 'scheduled' && outcome.at.getTime() - before).toBeGreaterThanOrEqual(1000);
    expect(pipeline.queue.releaseDue()).toBe(0);
    expect(pipeline.queue.releaseDue(before + 1500)).toBe(1);
  });

  it('routes a failure that is not transient at once', async () => {
    target.reply('/missing', { status: 404 });
    const outcome = await dispatch(pipeline.consumerDeps, await inMain('/missing'));
    expect(outcome).toMatchObject({ kind: 'routed', stream: 'datasync-error-404' });
    expect(pipeline.queue.counts().scheduledRetries).toBe(0);
  });

  it('does not retry automatically during a replay (the operator sees the outcome at once)', async () => {
    target.reply('/busy', { status: 503 });
    const source = await inMain('/busy');
    await pipeline.stream.append('datasync-error-503', [{ ...source.body, attempt: 1 }]);
    await pipeline.states.record({
      id: source.body.id,
      streamKey: '',
      attempt: { attempt: 1, at: new Date().toISOString(), outcome: 'failed' },
      next: { state: 'failed', location: { stream: 'datasync-error-503', offset: 0n } },
      holdKey: false,
    });
    const summary = await replay(pipeline.replayDeps, {
      stream: 'datasync-error-503',
      maxMessages: 10,
      errorMapping: [],
      includeHandled: false,
      dryRun: false,
    });
    expect(summary).toMatchObject({ processedmessages: 0, failedMessages: 1 });
    expect(pipeline.queue.counts().scheduledRetries).toBe(0);
    expect(await pipeline.all('datasync-error-503')).toHaveLength(2);
  });

  it('keeps scheduled retries across a restart', async () => {
    target.reply('/busy', { status: 503 });
    await dispatch(pipeline.consumerDeps, await inMain('/busy'));
    pipeline.db.close();

    const after = new SqliteDeliveryQueue(openDatabase(join(pipeline.dir, 'datasync.db')), 'datasync');
    expect(after.counts()).toEqual({ backlog: 0, scheduledRetries: 1 });
    expect(after.releaseDue(Date.now() + 3_600_000)).toBe(1);
    expect(await after.ready(target.url, 10, [])).toEqual([
      expect.objectContaining({ offset: 0n, body: expect.objectContaining({ attempt: 1, autoRetries: 1 }) }),
    ]);
  });
});
