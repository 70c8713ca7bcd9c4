import { parseRetryRequest, type RetryRequest } from '../../shared/contract/retry-request';
import { StorageError, StreamNotFoundError, ValidationError } from '../../shared/pipeline/errors';
import type { AttemptRecord, MessageStates } from '../../shared/pipeline/message-states';
import type { StreamStore } from '../../shared/pipeline/ports';
import { replay, ReplayInterruptedError } from '../../shared/pipeline/replay';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { envelope, retryRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

describe('replay', () => {
  let pipeline: EmbeddedPipeline;
  let target: TargetServer;

  beforeEach(async () => {
    pipeline = new EmbeddedPipeline();
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    pipeline.close();
    await target.stop();
  });

  const request = (overrides: Record<string, unknown>): RetryRequest => {
    const parsed = parseRetryRequest(retryRequest('datasync-error-503', overrides));
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    return parsed.value;
  };

  /** Five failed messages on the 503 stream: /ok/0../ok/4 now healthy, except /down/*. */
  async function seedErrorStream(paths: string[]) {
    return pipeline.seedFailures(
      'datasync-error-503',
      paths.map((path) => envelope(`${target.url}${path}`)),
    );
  }

  it('replays N at a time and tells where to continue until the end of the stream', async () => {
    await seedErrorStream(['/a', '/b', '/c', '/d', '/e']);
    const first = await replay(
      pipeline.replayDeps,
      request({ noOfMessagesToProcess: 2, readAfterOffset: -1 }),
    );
    expect(first).toEqual({
      lastReadOffset: 1n,
      processedmessages: 2,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: false,
    });
    const second = await replay(
      pipeline.replayDeps,
      request({ noOfMessagesToProcess: 2, readAfterOffset: '1' }),
    );
    expect(second).toEqual({
      lastReadOffset: 3n,
      processedmessages: 2,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: false,
    });
    const third = await replay(
      pipeline.replayDeps,
      request({ noOfMessagesToProcess: 2, readAfterOffset: 3 }),
    );
    expect(third).toEqual({
      lastReadOffset: 4n,
      processedmessages: 1,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: true,
    });
    expect(target.calls.map((call) => call.path)).toEqual(['/a', '/b', '/c', '/d', '/e']);
  });

  it('ends the stream on a page that takes exactly the records left, and not one record earlier', async () => {
    await seedErrorStream(['/a', '/b', '/c', '/d']);
    const first = await replay(
      pipeline.replayDeps,
      request({ noOfMessagesToProcess: 2, readAfterOffset: -1 }),
    );
    expect(first).toMatchObject({ lastReadOffset: 1n, processedmessages: 2, endOfStream: false });
    const last = await replay(pipeline.replayDeps, request({ noOfMessagesToProcess: 2, readAfterOffset: 1 }));
    expect(last).toMatchObject({ lastReadOffset: 3n, processedmessages: 2, endOfStream: true });
  });

  it('answers the offset it was given when nothing is after it', async () => {
    await seedErrorStream(['/a']);
    const summary = await replay(pipeline.replayDeps, request({ readAfterOffset: 0 }));
    expect(summary).toEqual({
      lastReadOffset: 0n,
      processedmessages: 0,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: true,
    });
  });

  it('counts failures, routes them by the request mapping and keeps the replayed stream intact', async () => {
    target.reply('/gone', { status: 404 });
    target.reply('/still-down', { status: 503 });
    await seedErrorStream(['/ok', '/gone', '/still-down']);
    const summary = await replay(
      pipeline.replayDeps,
      request({
        errormapping: [
          { responsecode: '404', stream: 'ops-404' },
          { responsecode: 'unexpectedError', stream: 'datasync-error-unexpected' },
        ],
      }),
    );
    expect(summary).toEqual({
      lastReadOffset: 2n,
      processedmessages: 1,
      failedMessages: 2,
      skippedMessages: 0,
      endOfStream: true,
    });
    const gone = await pipeline.all('ops-404');
    expect(gone[0]?.body).toMatchObject({
      attempt: 2,
      failure: { status: 404, from: { stream: 'datasync-error-503', offset: '1' } },
    });
    const requeued = await pipeline.all('datasync-error-503');
    expect(requeued.map((record) => record.offset)).toEqual([0n, 1n, 2n, 3n]);
  });

  it('archives and alerts a failure routed to a stream the request marks unrecoverable', async () => {
    target.reply('/gone', { status: 404 });
    await seedErrorStream(['/gone']);
    const summary = await replay(
      pipeline.replayDeps,
      request({ errormapping: [{ responsecode: '404', stream: 'parked-404', unrecoverable: true }] }),
    );
    expect(summary).toMatchObject({ processedmessages: 0, failedMessages: 1 });
    expect(pipeline.log.events('alert.unrecoverable')).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ stream: 'parked-404' }) }),
    ]);
    const alerts = await pipeline.stream.readAfter('datasync-alerts', -1n, 10);
    expect(alerts.map((alert) => alert.body)).toEqual([expect.objectContaining({ stream: 'parked-404' })]);
  });

  it('refuses a stream that does not exist', async () => {
    await expect(
      replay(pipeline.replayDeps, request({ streamOCIDToRetry: 'datasync-error-418' })),
    ).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('sends a message once when its superseded and its current record are in the same page', async () => {
    target.reply('/twice', { status: 503 });
    await pipeline.seedFailures('datasync-error-503', [envelope(`${target.url}/twice`)]);
    // A replay routes it back to the same stream: the first record is superseded by the second.
    await replay(pipeline.replayDeps, request({ readAfterOffset: -1 }));
    expect(await pipeline.all('datasync-error-503')).toHaveLength(2);
    target.reply('/twice', { status: 200 });
    const callsBefore = target.callsTo('/twice').length;
    const summary = await replay(pipeline.replayDeps, request({ readAfterOffset: -1 }));
    expect(target.callsTo('/twice').length - callsBefore).toBe(1);
    expect(summary).toMatchObject({ processedmessages: 1, skippedMessages: 1 });
  });

  it('sends the next message of a key only once the previous one was answered', async () => {
    const arrived: Record<string, number> = {};
    target.reply('/first', () => ((arrived.first = Date.now()), { status: 200, delayMs: 150 }));
    target.reply('/second', () => ((arrived.second = Date.now()), { status: 200 }));
    target.reply('/other', () => ((arrived.other = Date.now()), { status: 200 }));
    await pipeline.seedFailures('datasync-error-503', [
      envelope(`${target.url}/first`, { streamKey: 'k' }),
      envelope(`${target.url}/second`, { streamKey: 'k' }),
      envelope(`${target.url}/other`, { streamKey: 'other' }),
    ]);
    await replay(pipeline.replayDeps, request({}));
    expect((arrived.second as number) - (arrived.first as number)).toBeGreaterThanOrEqual(150);
    expect((arrived.other as number) - (arrived.first as number)).toBeLessThan(150);
  });

  it('refuses to replay the alert stream, which holds alerts rather than sync messages', async () => {
    await expect(
      replay(pipeline.replayDeps, request({ streamOCIDToRetry: 'datasync-alerts' })),
    ).rejects.toThrow(ValidationError);
  });

  it('on a dry run, answers how many messages would be replayed and sends none', async () => {
    target.reply('/twice', { status: 503 });
    await seedErrorStream(['/twice', '/a']);
    // A replay routes /twice back to the stream: its first record is superseded, /a is delivered.
    await replay(pipeline.replayDeps, request({ readAfterOffset: -1 }));
    const callsBefore = target.calls.length;
    const summary = await replay(pipeline.replayDeps, request({ readAfterOffset: -1, dryRun: true }));
    expect(summary).toEqual({
      lastReadOffset: 2n,
      processedmessages: 0,
      failedMessages: 0,
      skippedMessages: 2,
      replayableMessages: 1,
      endOfStream: true,
    });
    expect(target.calls.length).toBe(callsBefore);
  });

  it('leaves a message the consumer has in hand to the consumer', async () => {
    const [record] = await pipeline.seedFailures('datasync-error-503', [envelope(`${target.url}/busy`)]);
    pipeline.replayDeps.inFlight.add(record?.body.id as string, target.url);
    const summary = await replay(pipeline.replayDeps, request({ readAfterOffset: -1 }));
    expect(summary).toMatchObject({ processedmessages: 0, skippedMessages: 1 });
    expect(target.calls).toEqual([]);
  });

  it('with one delivery at a time, replays every message of a key in order', async () => {
    await pipeline.seedFailures(
      'datasync-error-503',
      ['/first', '/second', '/third'].map((path) => envelope(`${target.url}${path}`, { streamKey: 'k' })),
    );
    const summary = await replay(pipeline.replayDeps, request({ readAfterOffset: -1 }), { concurrency: 1 });
    expect(summary).toMatchObject({ processedmessages: 3 });
    expect(target.calls.map((call) => call.path)).toEqual(['/first', '/second', '/third']);
  });

  it('calls each failing message once in a loop of calls until the end of the stream, though each failure is routed back to it', async () => {
    target.reply('/down', { status: 503 });
    await seedErrorStream(['/down', '/a', '/b']);
    const summaries = [];
    for (let call = 0; call < 10; call += 1) {
      const summary = await replay(
        pipeline.replayDeps,
        request({ noOfMessagesToProcess: 1, readAfterOffset: undefined }),
      );
      summaries.push(summary);
      if (summary.endOfStream) break;
    }
    expect(target.calls.map((call) => call.path)).toEqual(['/down', '/a', '/b']);
    expect(summaries.map((summary) => summary.endOfStream)).toEqual([false, false, true]);
    expect(await pipeline.all('datasync-error-503')).toHaveLength(4);
  });

  it('begins a new pass when called from another offset than where the last one stopped, taking the records routed back meanwhile', async () => {
    target.reply('/down', { status: 503 });
    await seedErrorStream(['/down', '/a']);
    await replay(pipeline.replayDeps, request({ noOfMessagesToProcess: 1, readAfterOffset: -1 }));
    target.reply('/down', { status: 200 });
    const summary = await replay(
      pipeline.replayDeps,
      request({ noOfMessagesToProcess: 10, readAfterOffset: -1 }),
    );
    expect(summary).toMatchObject({ lastReadOffset: 2n, processedmessages: 2, endOfStream: true });
    expect(target.calls.map((call) => call.path)).toEqual(['/down', '/a', '/down']);
  });

  it('on a stream that cannot tell its last offset, a pass covers the records enqueued before it began, not those routed back', async () => {
    target.reply('/down', { status: 503 });
    await seedErrorStream(['/down', '/a']);
    // Enqueue times have millisecond resolution: let the pass begin in a later millisecond.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const stream = Object.assign(Object.create(pipeline.replayDeps.stream) as StreamStore, {
      lastOffset: undefined,
    });
    const deps = { ...pipeline.replayDeps, stream };
    const summaries = [];
    for (let call = 0; call < 10; call += 1) {
      const summary = await replay(deps, request({ noOfMessagesToProcess: 1, readAfterOffset: undefined }));
      summaries.push(summary);
      if (summary.endOfStream) break;
    }
    expect(target.calls.map((call) => call.path)).toEqual(['/down', '/a']);
    expect(summaries.map((summary) => summary.endOfStream)).toEqual([false, true]);
  });

  it('stops when an outcome cannot be made durable, answering and saving the position reached', async () => {
    const [, lost] = await seedErrorStream(['/a', '/b']);
    const states = pipeline.replayDeps.states;
    const failing = Object.assign(Object.create(states) as MessageStates, {
      record: (attempt: AttemptRecord) =>
        attempt.id === lost?.body.id
          ? Promise.reject(new StorageError('full', 'disk full'))
          : states.record(attempt),
    });
    const error = await replay(
      { ...pipeline.replayDeps, states: failing },
      request({ readAfterOffset: -1 }),
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ReplayInterruptedError);
    expect(error).toMatchObject({
      name: 'ReplayInterruptedError',
      message: expect.stringContaining('could not be made durable'),
      cause: expect.anything(),
      summary: {
        lastReadOffset: 0n,
        processedmessages: 1,
        failedMessages: 0,
        skippedMessages: 0,
        endOfStream: false,
      },
    });
    expect(pipeline.log.events('replay.interrupted').map((line) => line.fields)).toEqual([
      { stream: 'datasync-error-503', offset: '1' },
    ]);
    await expect(states.replayPass('datasync-error-503')).resolves.toMatchObject({
      position: 0n,
      ended: false,
    });
  });
});
