import type { ApiClient } from '../../cli/api-client';
import type { RetryAnswer, Status } from '../../cli/api-types';
import type { Progress } from '../../cli/progress';
import { replayStream } from '../../cli/replay';

const silent: Progress = { update: () => undefined, stop: () => undefined };

/** An API that answers the status without the stream's last offset, as the Azure host does. */
function azureLikeApi(answers: RetryAnswer[]) {
  const posted: unknown[] = [];
  const status: Partial<Status> = {
    streams: [{ stream: 'datasync-error-503', errorStream: true, openFailures: 3 }],
  };
  const client = {
    get: async () => status,
    post: async (_path: string, body: unknown) => {
      posted.push(body);
      return answers.shift();
    },
  } as unknown as ApiClient;
  return { client, posted };
}

describe('datasync replay (CLI)', () => {
  it('replays a stream whose last offset the host does not report, until the pass says it ended', async () => {
    const { client, posted } = azureLikeApi([
      { lastReadOffset: 10, processedmessages: 2, failedMessages: 0, skippedMessages: 0, endOfStream: false },
      { lastReadOffset: 12, processedmessages: 1, failedMessages: 0, skippedMessages: 0, endOfStream: true },
    ]);
    const result = await replayStream(
      client,
      { stream: 'datasync-error-503', batch: 2, dryRun: false, includeHandled: false },
      silent,
      () => false,
    );
    expect(result).toMatchObject({ calls: 2, delivered: 3, lastReadOffset: '12', interrupted: false });
    expect(posted).toEqual([
      { streamOCIDToRetry: 'datasync-error-503', noOfMessagesToProcess: 2 },
      { streamOCIDToRetry: 'datasync-error-503', noOfMessagesToProcess: 2, readAfterOffset: 10 },
    ]);
  });
});
