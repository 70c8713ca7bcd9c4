import { join } from 'node:path';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import { dispatch, type Source } from '../../shared/pipeline/dispatch';
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
  /** Moves due retries back onto the main stream, as the host's timer does, and returns the newest. */
  const releaseAll = async (): Promise<Source> => {
    pipeline.stream.releaseDue(Date.now() + 3_600_000);
    const records = await pipeline.all('datasync');
    return records[records.length - 1] as Source;
  };

  it('re-attempts a 503 later on the main stream, then routes it once the retries are used up', async () => {
    target.reply('/busy', { status: 503 });
    const first = await dispatch(pipeline.dispatchDeps, await inMain('/busy'), { autoRetry: true });
    expect(first).toMatchObject({ kind: 'scheduled', failure: { status: 503, routedBy: 'autoRetry' } });
    expect(await pipeline.all('datasync')).toHaveLength(1);
    expect(pipeline.stream.scheduledCount()).toBe(1);

    const second = await releaseAll();
    expect(second.body).toMatchObject({ attempt: 1, autoRetries: 1 });
    expect(await dispatch(pipeline.dispatchDeps, second, { autoRetry: true })).toMatchObject({
      kind: 'scheduled',
    });
    const third = await releaseAll();
    const outcome = await dispatch(pipeline.dispatchDeps, third, { autoRetry: true });
    expect(outcome).toMatchObject({ kind: 'routed', stream: 'datasync-error-503' });
    const [record] = await pipeline.all('datasync-error-503');
    expect(record?.body).toMatchObject({ attempt: 3, autoRetries: 0, id: second.body.id });
    expect(target.callsTo('/busy')).toHaveLength(3);
  });

  it('honours Retry-After when scheduling', async () => {
    target.reply('/slow-down', { status: 429, headers: { 'retry-after': '1' } });
    const before = Date.now();
    const outcome = await dispatch(pipeline.dispatchDeps, await inMain('/slow-down'), { autoRetry: true });
    expect(outcome.kind).toBe('scheduled');
    expect(outcome.kind === 'scheduled' && outcome.at.getTime() - before).toBeGreaterThanOrEqual(1000);
    pipeline.stream.releaseDue();
    expect(await pipeline.all('datasync')).toHaveLength(1);
  });

  it('routes a failure that is not transient at once', async () => {
    target.reply('/missing', { status: 404 });
    const outcome = await dispatch(pipeline.dispatchDeps, await inMain('/missing'), { autoRetry: true });
    expect(outcome).toMatchObject({ kind: 'routed', stream: 'datasync-error-404' });
    expect(pipeline.stream.scheduledCount()).toBe(0);
  });

  it('does not retry automatically during a replay (the operator sees the outcome at once)', async () => {
    target.reply('/busy', { status: 503 });
    const outcome = await dispatch(pipeline.dispatchDeps, await inMain('/busy'));
    expect(outcome).toMatchObject({ kind: 'routed', stream: 'datasync-error-503' });
  });

  it('keeps scheduled retries across a restart', async () => {
    const file = join(pipeline.dir, 'restart.db');
    const db = openDatabase(file);
    await new SqliteStream(db).schedule(
      'datasync',
      envelope('https://t.example/x', { autoRetries: 1 }),
      new Date(Date.now() + 50),
    );
    db.close();

    const after = new SqliteStream(openDatabase(file));
    expect(after.scheduledCount()).toBe(1);
    after.releaseDue(Date.now() + 1000);
    expect(await after.readAfter('datasync', -1n, 10)).toEqual([
      expect.objectContaining({ offset: 0n, body: expect.objectContaining({ autoRetries: 1 }) }),
    ]);
    expect(after.scheduledCount()).toBe(0);
  });
});
