import { parseRetryRequest, type RetryRequest } from '../../shared/contract/retry-request';
import { replay } from '../../shared/pipeline/replay';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { envelope, retryRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

describe('replay within a wall-clock budget', () => {
  let pipeline: EmbeddedPipeline;
  let target: TargetServer;
  /** A clock that moves only when the target is called: 10 "ms" per call. */
  let now: number;
  const clock = () => now;

  beforeEach(async () => {
    pipeline = new EmbeddedPipeline();
    target = await new TargetServer().start();
    now = 0;
    target.reply('*', () => {
      now += 10;
      return { status: 200 };
    });
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

  it('starts no delivery once the budget is spent and answers how far it got; the next call goes on exactly', async () => {
    await pipeline.seedFailures(
      'datasync-error-503',
      ['/a', '/b', '/c', '/d'].map((path) => envelope(`${target.url}${path}`)),
    );
    const options = { budgetMs: 15, concurrency: 1, clock };

    const first = await replay(pipeline.replayDeps, request({ noOfMessagesToProcess: 10 }), options);
    expect(first).toEqual({
      lastReadOffset: 1n,
      processedmessages: 2,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: false,
    });
    expect(target.calls.map((call) => call.path)).toEqual(['/a', '/b']);
    expect(pipeline.log.events('replay.done').map((line) => line.fields)).toEqual([
      {
        stream: 'datasync-error-503',
        lastReadOffset: '1',
        processed: 2,
        failed: 0,
        skipped: 0,
        endOfStream: false,
        stoppedBy: 'budget',
      },
    ]);

    const second = await replay(
      pipeline.replayDeps,
      request({ noOfMessagesToProcess: 10, readAfterOffset: undefined }),
      options,
    );
    expect(second).toEqual({
      lastReadOffset: 3n,
      processedmessages: 2,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: true,
    });
    expect(target.calls.map((call) => call.path)).toEqual(['/a', '/b', '/c', '/d']);
  });

  it('with no budget left starts nothing and keeps lastReadOffset where it was', async () => {
    await pipeline.seedFailures('datasync-error-503', [envelope(`${target.url}/a`)]);
    const summary = await replay(pipeline.replayDeps, request({ readAfterOffset: -1 }), {
      budgetMs: 0,
      clock,
    });
    expect(summary).toEqual({
      lastReadOffset: -1n,
      processedmessages: 0,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: false,
    });
    expect(target.calls).toEqual([]);
  });

  it('counts a delivery made past the first record not started, but answers lastReadOffset before that record', async () => {
    await pipeline.seedFailures('datasync-error-503', [
      envelope(`${target.url}/a`, { streamKey: 'k' }),
      envelope(`${target.url}/b`, { streamKey: 'k' }),
      envelope(`${target.url}/c`),
    ]);
    // /a and /c start at once; /b waits for /a, and the budget is spent by then.
    const summary = await replay(pipeline.replayDeps, request({ readAfterOffset: -1 }), {
      budgetMs: 15,
      clock,
    });
    expect(summary).toEqual({
      lastReadOffset: 0n,
      processedmessages: 2,
      failedMessages: 0,
      skippedMessages: 0,
      endOfStream: false,
    });
    expect(target.calls.map((call) => call.path).sort()).toEqual(['/a', '/c']);
  });
});
