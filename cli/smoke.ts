import type { ApiClient } from './api-client';
import type { MessageHistory } from './api-types';

export interface SmokeStep {
  step: string;
  ok: boolean;
  detail: string;
}

interface Accepted {
  messages: Array<{ id: string }>;
}

/**
 * The post-deploy check: through the deployed API, one message delivered, one forced failure that
 * lands in its error stream, a replay that delivers it, and its history. The target is the host's
 * own echo route (`DATASYNC_ECHO_ENABLED=true`), which answers `?status=` on the first call of a
 * message and 200 after that, so the replay can succeed.
 */
export async function smoke(
  client: ApiClient,
  baseUrl: string,
  report: (step: SmokeStep) => void,
  timeoutMs = 60_000,
): Promise<boolean> {
  const echo = (status: number) => `${baseUrl.replace(/\/+$/, '')}/api/echo?status=${status}`;
  const run = Date.now().toString(36);
  const send = async (status: number, key: string) => {
    const answer = await client.post<Accepted>('stream/sync', {
      streamKey: key,
      streamMessage: {
        targetRestApi: echo(status),
        targetRestApiOperation: 'POST',
        targetRestApiPayload: { smoke: run },
      },
    });
    return answer.messages[0]?.id as string;
  };
  /** Waits for one of `states`; a message that ends elsewhere (failed, parked) fails the step at once. */
  const waitFor = async (id: string, states: string[]): Promise<MessageHistory> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const history = await client.get<MessageHistory>(`messages/${id}`);
      if (states.includes(history.state)) return history;
      if (['delivered', 'failed', 'parked', 'skipped'].includes(history.state)) {
        const last = history.attempts.at(-1);
        throw new Error(`message ${id} is ${history.state}${last?.status ? ` (HTTP ${last.status})` : ''}`);
      }
      if (Date.now() > deadline) throw new Error(`message ${id} is still ${history.state}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const step = async (name: string, check: () => Promise<string>): Promise<boolean> => {
    try {
      report({ step: name, ok: true, detail: await check() });
      return true;
    } catch (error) {
      report({ step: name, ok: false, detail: (error as Error).message });
      return false;
    }
  };

  let failedId = '';
  let errorStream = '';
  // Each step needs the one before it: the first failure ends the run.
  return (
    (await step('sync and delivery', async () => {
      const id = await send(200, `smoke-ok-${run}`);
      await waitFor(id, ['delivered']);
      return `message ${id} delivered`;
    })) &&
    (await step('a forced failure lands in its error stream', async () => {
      failedId = await send(404, `smoke-fail-${run}`);
      const history = await waitFor(failedId, ['failed', 'parked']);
      errorStream = history.location?.stream ?? '';
      return `message ${failedId} ${history.state} in ${errorStream}`;
    })) &&
    (await step('replay delivers it', async () => {
      if (!errorStream) throw new Error('no failed message to replay');
      const answer = await client.post<{ processedmessages: number }>('stream/retry', {
        streamToRetry: errorStream,
        readAfterOffset: -1,
        noOfMessagesToProcess: 1000,
      });
      await waitFor(failedId, ['delivered']);
      return `replay delivered ${answer.processedmessages} message(s)`;
    })) &&
    (await step('message history', async () => {
      const history = await client.get<MessageHistory>(`messages/${failedId}`);
      const outcomes = history.attempts.map(
        (attempt) => `${attempt.outcome}${attempt.status ? ` ${attempt.status}` : ''}`,
      );
      if (outcomes[0] !== 'failed 404' || outcomes.at(-1) !== 'delivered 200') {
        throw new Error(`unexpected attempts: ${outcomes.join(', ')}`);
      }
      return `attempts: ${outcomes.join(', ')}`;
    }))
  );
}
