import type { Envelope, FailureReason } from '../contract/envelope';
import type { Offset } from '../contract/offset';

/**
 * Where a message is in its life (see the README's state diagram). The state store, not a stream
 * cursor, says what is done.
 */
export type MessageStateName =
  | 'accepted'
  | 'delivering'
  | 'delivered'
  | 'retryScheduled'
  | 'failed'
  | 'parked'
  | 'held'
  | 'skipped';

/** What one attempt at delivering a message led to. */
export type AttemptOutcome = 'delivered' | 'retryScheduled' | 'failed' | 'parked';

export interface Attempt {
  attempt: number;
  at: string;
  outcome: AttemptOutcome;
  status?: number;
  reason?: FailureReason;
  /** e.g. `connect ECONNREFUSED 10.0.0.4:443`; never a credential. */
  detail?: string;
  responseExcerpt?: string;
  durationMs?: number;
  /** The error stream the message went to, and its offset there when the backend knows it. */
  stream?: string;
  offset?: Offset;
}

export interface RecordLocation {
  stream: string;
  offset?: Offset;
}

/** The state an attempt moves a message to. */
export type NextState =
  | { state: 'delivered' }
  /** `envelope` is the record to re-attempt (attempt count and last failure updated). */
  | { state: 'retryScheduled'; retryAt: Date; envelope: Envelope }
  | { state: 'failed' | 'parked'; location: RecordLocation };

export interface AttemptRecord {
  id: string;
  streamKey: string;
  attempt: Attempt;
  next: NextState;
  /**
   * Hold the later messages of this key behind this one (order per key survives failure). Set by
   * the failure policy; ignored for `delivered`.
   */
  holdKey: boolean;
}

export interface MessageHistory {
  id: string;
  streamKey: string;
  state: MessageStateName;
  target: string;
  operation: string;
  acceptedAt: string;
  updatedAt: string;
  /** Where the message's current record is: the main stream, or the error stream it failed to. */
  location: RecordLocation;
  heldBehind?: string;
  retryAt?: string;
  attempts: Attempt[];
}

export interface HeldKey {
  streamKey: string;
  /** The message the key waits for. */
  head: string;
  headState: MessageStateName;
  since: Date;
  /** Messages waiting behind the head. */
  held: number;
}

/**
 * How far a stream's replay has gone. A pass reads the records enqueued before it began, so a
 * failure routed back to the same stream during the pass waits for the next pass.
 */
export interface ReplayPass {
  /** `lastReadOffset` of the pass's latest call: where an omitted `readAfterOffset` continues. */
  position: Offset;
  startedAt: Date;
  /** The stream's last offset when the pass began, where the backend knows it; else `startedAt` bounds the pass. */
  end?: Offset;
  /** The pass reached its end: the next call begins a new pass. */
  ended: boolean;
}

/** What an `Idempotency-Key` on ingest answered the first time. */
export interface IngestRecord {
  /** Digest of the request body: a repeat with another body is refused. */
  fingerprint: string;
  appended: Array<{ stream: string; id: string; offset?: Offset }>;
}

/** `IngestRecord.appended` as stored text (offsets as decimal strings: JSON has no 64-bit integers). */
export function encodeAppended(appended: IngestRecord['appended']): string {
  return JSON.stringify(
    appended.map((item) => ({
      stream: item.stream,
      id: item.id,
      ...(item.offset === undefined ? {} : { offset: item.offset.toString() }),
    })),
  );
}

export function decodeAppended(text: string): IngestRecord['appended'] {
  const stored = JSON.parse(text) as Array<{ stream: string; id: string; offset?: string }>;
  return stored.map((item) => ({
    stream: item.stream,
    id: item.id,
    ...(item.offset === undefined ? {} : { offset: BigInt(item.offset) }),
  }));
}

/**
 * Per-message state: what happened to each message, which keys are held, how far each stream's
 * replay has gone. Both hosts implement it (SQLite locally, Table Storage on Azure).
 */
export interface MessageStates {
  /** Records an attempt and the state it leads to (all or nothing). */
  record(attempt: AttemptRecord): Promise<void>;
  history(id: string): Promise<MessageHistory | undefined>;
  /**
   * The ids among `records` (read from `stream`) that a replay may deliver: their message sits
   * failed or parked with exactly this record as its current location. Others are handled
   * (delivered, skipped), superseded by a newer record, or still owned by the consumer. With
   * `includeHandled`, every record except those whose message the consumer still owns.
   */
  replayable(
    stream: string,
    records: Array<{ offset: Offset; body: { id: string } }>,
    includeHandled: boolean,
  ): Promise<Set<string>>;
  replayPass(stream: string): Promise<ReplayPass | undefined>;
  saveReplayPass(stream: string, pass: ReplayPass | undefined): Promise<void>;
  heldKeys(limit: number): Promise<HeldKey[]>;
  /** The message a key waits for, when the key is held. */
  holdOf(streamKey: string): Promise<string | undefined>;
  /** Lets the messages held behind the key's head go on; resolves with how many were held. */
  release(streamKey: string): Promise<number | undefined>;
  /** Marks the key's head skipped (it is not delivered) and lets the held messages go on. */
  skip(streamKey: string): Promise<string | undefined>;
  findIngest(idempotencyKey: string): Promise<IngestRecord | undefined>;
  rememberIngest(idempotencyKey: string, record: IngestRecord): Promise<void>;
}
