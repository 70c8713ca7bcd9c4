import type { RetryRequest } from '../contract/retry-request';
import { BEFORE_OLDEST, type Offset } from '../contract/offset';
import { dispatch, type DispatchDeps, type Outcome } from './dispatch';
import { ALERT_STREAM } from './error-routing';
import { messageOf, StreamNotFoundError, ValidationError } from './errors';
import { KeyedRunner } from './keyed-runner';

export interface ReplaySummary {
  /** Pass as `readAfterOffset` next time: every message at or below it was handled. */
  lastReadOffset: Offset;
  /** Delivered in this call. */
  processedmessages: number;
  /** Not delivered: routed to an error stream again. */
  failedMessages: number;
  /** Not replayed: already handled (delivered, skipped, superseded by a newer record) or still the consumer's. */
  skippedMessages: number;
  /** This pass has read every record that was on the stream when it began. */
  endOfStream: boolean;
  /** On a dry run: how many of the records read would have been replayed. */
  replayableMessages?: number;
}

export interface ReplayOptions {
  /**
   * Wall-clock budget of one call: no delivery starts after it (those under way finish), and the
   * answer says how far the call got. HTTP front ends cut a request at 230 s.
   */
  budgetMs?: number;
  /** Deliveries under way at once: what a spent budget may still leave running. */
  concurrency?: number;
  clock?: () => number;
}

/** A record whose delivery was not started because the call's budget was spent. */
const NOT_STARTED = 'notStarted' as const;

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
 * Re-dispatches the open failures among up to `maxMessages` records after `readAfter` (omitted: where
 * this stream's last replay stopped). A record is replayed only when it is its message's current
 * location, so a replay run twice sends nothing twice; `includeHandled` replays delivered and
 * superseded records as well. A pass covers the records enqueued before it began: a failure routed
 * back to the same stream during the pass waits for the next pass, so a loop until `endOfStream`
 * calls each failing message once. The replayed stream keeps its records (it is a log).
 */
export async function replay(
  deps: DispatchDeps,
  request: RetryRequest,
  options: ReplayOptions = {},
): Promise<ReplaySummary> {
  const clock = options.clock ?? Date.now;
  const deadline = clock() + (options.budgetMs ?? Infinity);
  if (request.stream === ALERT_STREAM) {
    throw new ValidationError([
      `streamOCIDToRetry: ${ALERT_STREAM} holds alerts, not sync messages; it cannot be replayed`,
    ]);
  }
  if (!(await deps.stream.exists(request.stream))) throw new StreamNotFoundError(request.stream);
  const pass = await deps.states.replayPass(request.stream);
  const readAfter = request.readAfter ?? pass?.position ?? BEFORE_OLDEST;
  const continuing = pass !== undefined && !pass.ended && pass.position === readAfter;
  const startedAt = continuing ? pass.startedAt : new Date();
  const end = continuing ? pass.end : await deps.stream.lastOffset?.(request.stream);
  const read = await deps.stream.readAfter(request.stream, readAfter, request.maxMessages + 1);
  const inPass = read.filter((record) =>
    end !== undefined ? record.offset <= end : record.enqueuedAt < startedAt,
  );
  const records = inPass.slice(0, request.maxMessages);
  const replayable = await deps.states.replayable(request.stream, records, request.includeHandled);
  for (const record of records) if (deps.inFlight.has(record.body.id)) replayable.delete(record.body.id);
  const chosen = chosenRecords(records, replayable, request.includeHandled);

  const summary: ReplaySummary = {
    lastReadOffset: readAfter,
    processedmessages: 0,
    failedMessages: 0,
    skippedMessages: 0,
    endOfStream: inPass.length <= request.maxMessages,
  };
  if (request.dryRun) {
    const last = records[records.length - 1];
    return {
      ...summary,
      lastReadOffset: last?.offset ?? readAfter,
      skippedMessages: records.length - chosen.size,
      replayableMessages: chosen.size,
    };
  }
  const routing = deps.routing.withOverrides(request.errorMapping);
  const runner = new KeyedRunner();
  const slot = limiter(options.concurrency ?? Infinity);
  const outcomes = await Promise.allSettled(
    records.map((record, index) =>
      chosen.has(index)
        ? runner.run(record.body.streamKey, () =>
            slot(
              (): Promise<Outcome | typeof NOT_STARTED> =>
                clock() >= deadline ? Promise.resolve(NOT_STARTED) : dispatch(deps, record, { routing }),
            ),
          )
        : Promise.resolve(undefined),
    ),
  );
  // Past the first record not started, `lastReadOffset` stays put; deliveries made there still count.
  let stopped = false;
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected') {
      summary.endOfStream = false;
      deps.log.error('replay.interrupted', {
        stream: request.stream,
        offset: records[index]?.offset.toString(),
      });
      // Best effort: storage has just failed, and an older position only makes the next pass re-check records.
      await deps.states
        .saveReplayPass(request.stream, { position: summary.lastReadOffset, startedAt, ended: false })
        .catch((error: unknown) =>
          deps.log.warn('replay.position_not_saved', { stream: request.stream, error: messageOf(error) }),
        );
      throw new ReplayInterruptedError(summary, { cause: outcome.reason });
    }
    if (outcome.value === NOT_STARTED) {
      stopped = true;
      summary.endOfStream = false;
      continue;
    }
    if (!stopped) summary.lastReadOffset = (records[index] as { offset: Offset }).offset;
    if (outcome.value === undefined) {
      if (!stopped) summary.skippedMessages += 1;
    } else if (outcome.value.kind === 'delivered') summary.processedmessages += 1;
    else summary.failedMessages += 1;
  }
  await deps.states.saveReplayPass(request.stream, {
    position: summary.lastReadOffset,
    startedAt,
    ...(end === undefined ? {} : { end }),
    ended: summary.endOfStream,
  });
  deps.log.info('replay.done', {
    stream: request.stream,
    lastReadOffset: summary.lastReadOffset.toString(),
    processed: summary.processedmessages,
    failed: summary.failedMessages,
    skipped: summary.skippedMessages,
    endOfStream: summary.endOfStream,
    ...(stopped ? { stoppedBy: 'budget' } : {}),
  });
  return summary;
}

/** Runs at most `max` tasks at once; a finished task hands its slot to the next in line. */
function limiter(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active < max) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

/**
 * The positions in `records` to send. Without `includeHandled`, a message whose superseded and
 * current records both fall in this page is sent once, from its current record: the newest of its
 * records (a re-routed failure is appended after the record it replaced).
 */
function chosenRecords(
  records: Array<{ body: { id: string } }>,
  replayable: ReadonlySet<string>,
  includeHandled: boolean,
): Set<number> {
  const newest = new Map<string, number>();
  records.forEach((record, index) => {
    if (replayable.has(record.body.id)) newest.set(record.body.id, index);
  });
  if (!includeHandled) return new Set(newest.values());
  return new Set(records.flatMap((record, index) => (replayable.has(record.body.id) ? [index] : [])));
}
