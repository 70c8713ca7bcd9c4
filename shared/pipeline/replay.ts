import type { RetryRequest } from '../contract/retry-request';
import type { Offset } from '../contract/offset';
import { dispatch, type DispatchDeps } from './dispatch';
import { ALERT_STREAM } from './error-routing';
import { StreamNotFoundError, ValidationError } from './errors';
import { KeyedRunner } from './keyed-runner';

export interface ReplaySummary {
  /** Pass as `readAfterOffset` next time: every message at or below it was handled. */
  lastReadOffset: Offset;
  /** Delivered in this call. */
  processedmessages: number;
  /** Not delivered: routed to an error stream again. */
  failedMessages: number;
  /** No message was retained after `lastReadOffset` when this call read the stream. */
  endOfStream: boolean;
}

export class ReplayInterruptedError extends Error {
  constructor(
    readonly summary: ReplaySummary,
    options: { cause: unknown },
  ) {
    super('replay stopped: an outcome could not be made durable', options);
    this.name = 'ReplayInterruptedError';
  }
}

/**
 * Re-dispatches up to `maxMessages` messages after `readAfter` from any stream. The replayed stream
 * keeps its messages (it is a log); failures are routed with the request's mapping overrides.
 */
export async function replay(deps: DispatchDeps, request: RetryRequest): Promise<ReplaySummary> {
  if (request.stream === ALERT_STREAM) {
    throw new ValidationError([
      `streamOCIDToRetry: ${ALERT_STREAM} holds alerts, not sync messages; it cannot be replayed`,
    ]);
  }
  if (!(await deps.stream.exists(request.stream))) throw new StreamNotFoundError(request.stream);
  const read = await deps.stream.readAfter(request.stream, request.readAfter, request.maxMessages + 1);
  const records = read.slice(0, request.maxMessages);
  const routing = deps.routing.withOverrides(request.errorMapping);
  const runner = new KeyedRunner();
  const outcomes = await Promise.allSettled(
    records.map((record) => runner.run(record.body.streamKey, () => dispatch(deps, record, { routing }))),
  );

  const summary: ReplaySummary = {
    lastReadOffset: request.readAfter,
    processedmessages: 0,
    failedMessages: 0,
    endOfStream: read.length <= request.maxMessages,
  };
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected') {
      summary.endOfStream = false;
      deps.log.error('replay.interrupted', {
        stream: request.stream,
        offset: records[index]?.offset.toString(),
      });
      throw new ReplayInterruptedError(summary, { cause: outcome.reason });
    }
    summary.lastReadOffset = (records[index] as { offset: Offset }).offset;
    if (outcome.value.kind === 'delivered') summary.processedmessages += 1;
    else summary.failedMessages += 1;
  }
  deps.log.info('replay.done', {
    stream: request.stream,
    lastReadOffset: summary.lastReadOffset.toString(),
    processed: summary.processedmessages,
    failed: summary.failedMessages,
    endOfStream: summary.endOfStream,
  });
  return summary;
}
