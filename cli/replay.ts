import type { ApiClient } from './api-client';
import type { OffsetJson, RetryAnswer, Status } from './api-types';
import { CliError, EXIT } from './exit-codes';
import type { Counts, Progress } from './progress';

export interface ReplayOptions {
  stream: string;
  /** Replay after this offset; omitted: where the stream's last replay stopped (or the oldest). */
  from?: string;
  batch: number;
  dryRun: boolean;
  includeHandled: boolean;
}

export interface ReplayResult extends Counts {
  calls: number;
  /** Pass as `--from` to continue. */
  lastReadOffset?: string;
  /** Messages a dry run would replay. */
  replayable: number;
  interrupted: boolean;
}

/**
 * Calls `POST /api/stream/retry` until the stream ends, or until it reaches the stream's last offset
 * as it was at the start: messages that fail again are appended after that point and are left for the
 * next replay instead of being chased forever. `stopRequested` is checked between calls.
 */
export async function replayStream(
  client: ApiClient,
  options: ReplayOptions,
  progress: Progress,
  stopRequested: () => boolean,
): Promise<ReplayResult> {
  const status = await client.get<Status>('stream/status');
  const known = status.streams.find((summary) => summary.stream === options.stream);
  // Azure does not report a queue's last offset: there the pass's own end (endOfStream) stops the loop.
  const end = known?.lastOffset === undefined ? undefined : BigInt(known.lastOffset);
  const start = BigInt(options.from ?? known?.replayPosition ?? -1);
  const result: ReplayResult = {
    calls: 0,
    delivered: 0,
    failed: 0,
    skipped: 0,
    replayable: 0,
    interrupted: false,
    lastReadOffset: options.from,
  };
  for (;;) {
    const answer = await client.post<RetryAnswer>('stream/retry', {
      streamOCIDToRetry: options.stream,
      noOfMessagesToProcess: options.batch,
      ...(result.lastReadOffset === undefined ? {} : { readAfterOffset: offsetJson(result.lastReadOffset) }),
      ...(options.includeHandled ? { includeHandled: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
    });
    const previous = result.lastReadOffset;
    result.calls += 1;
    result.delivered += answer.processedmessages;
    result.failed += answer.failedMessages;
    result.skipped += answer.skippedMessages ?? 0;
    result.replayable += answer.replayableMessages ?? 0;
    result.lastReadOffset = String(answer.lastReadOffset);
    const reached = BigInt(result.lastReadOffset);
    const total = end === undefined || end <= start ? 1 : Number(end - start);
    const done = answer.endOfStream ? total : Math.min(total, Number(reached - start));
    progress.update(done, total, note(result, options.dryRun));
    if (answer.endOfStream || (end !== undefined && reached >= end)) break;
    if (previous === result.lastReadOffset) {
      throw new CliError(
        `the replay of ${options.stream} made no progress after offset ${previous}`,
        EXIT.callFailed,
      );
    }
    if (stopRequested()) {
      result.interrupted = true;
      break;
    }
  }
  progress.stop();
  return result;
}

function note(result: ReplayResult, dryRun: boolean): string {
  return dryRun
    ? `replayable ${result.replayable}`
    : `delivered ${result.delivered}, failed again ${result.failed}, skipped ${result.skipped}`;
}

/** Offsets beyond 2^53 travel as decimal strings. */
function offsetJson(offset: string): OffsetJson {
  const value = BigInt(offset);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : offset;
}

export function summaryLine(stream: string, result: ReplayResult, dryRun: boolean): string {
  const where = result.lastReadOffset === undefined ? '' : ` up to offset ${result.lastReadOffset}`;
  return dryRun
    ? `dry run of ${stream}${where}: ${result.replayable} message(s) would be replayed; nothing was sent`
    : `replayed ${stream}${where}: delivered ${result.delivered}, failed again ${result.failed}, skipped ${result.skipped}`;
}
