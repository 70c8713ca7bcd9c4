import { localStorageError, translatingLocalErrors } from './local-errors';
import type Database from 'better-sqlite3';
import type { Envelope, FailureReason } from '../../contract/envelope';
import type { Offset } from '../../contract/offset';
import type {
  Attempt,
  AttemptOutcome,
  AttemptRecord,
  HeldKey,
  IngestRecord,
  MessageHistory,
  MessageStateName,
  MessageStates,
  ReplayPass,
} from '../../pipeline/message-states';
import { decodeAppended, encodeAppended } from '../../pipeline/message-states';
import type { WithinAppend } from './sqlite-stream';

interface StateRow {
  id: string;
  stream_key: string;
  origin: string;
  operation: string;
  state: MessageStateName;
  location_stream: string;
  location_offset: bigint | null;
  retry_at: bigint | null;
  accepted_at: bigint;
  updated_at: bigint;
}

interface AttemptRow {
  attempt: bigint;
  at: bigint;
  outcome: AttemptOutcome;
  status: bigint | null;
  reason: FailureReason | null;
  detail: string | null;
  excerpt: string | null;
  duration_ms: bigint | null;
  stream: string | null;
  offset: bigint | null;
}

interface PendingRecord {
  entry: AttemptRecord;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Outcomes are written at most this often: each write is an fsync, and with 32 deliveries finishing
 * at different moments a write per event-loop turn was the delivering process's largest cost.
 */
const OUTCOME_FLUSH_MS = 5;

/**
 * Message states in the stream's SQLite database: one row per message (registered in the same
 * transaction as its append to the main stream), its attempts, held keys, replay passes and
 * ingest idempotency keys. Outcomes are written in groups: the records that arrive within
 * OUTCOME_FLUSH_MS share one transaction (one fsync).
 */
export class SqliteMessageStates implements MessageStates {
  private readonly statements;
  private readonly recordGroup: (group: PendingRecord[]) => void;
  private readonly recordOne: (entry: AttemptRecord) => void;
  private readonly releaseKey: (streamKey: string) => number | undefined;
  private readonly skipHead: (streamKey: string) => string | undefined;
  private readonly pending: PendingRecord[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    db: Database.Database,
    private readonly mainStream: string,
  ) {
    this.statements = {
      register: db.prepare(
        `INSERT INTO message_state (id, seq, stream_key, origin, operation, state, location_stream,
           location_offset, accepted_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'accepted', ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
      ),
      insertAttempt: db.prepare(
        `INSERT INTO attempts (id, attempt, at, outcome, status, reason, detail, excerpt, duration_ms, stream, offset)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      delivered: db.prepare(
        `UPDATE message_state SET state = 'delivered', attempt = ?, retry_at = NULL, updated_at = ? WHERE id = ?`,
      ),
      retryScheduled: db.prepare(
        `UPDATE message_state SET state = 'retryScheduled', attempt = ?, auto_retries = ?, retry_at = ?,
           updated_at = ? WHERE id = ?`,
      ),
      routed: db.prepare(
        `UPDATE message_state SET state = ?, attempt = ?, auto_retries = 0, retry_at = NULL,
           location_stream = ?, location_offset = ?, updated_at = ? WHERE id = ?`,
      ),
      released: db.prepare('SELECT released FROM message_state WHERE id = ?').pluck(),
      hold: db.prepare(
        'INSERT INTO key_holds (stream_key, head, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      unholdHead: db.prepare('DELETE FROM key_holds WHERE head = ?'),
      holdOf: db.prepare('SELECT head FROM key_holds WHERE stream_key = ?').pluck(),
      markReleased: db.prepare('UPDATE message_state SET released = 1 WHERE id = ?'),
      unhold: db.prepare('DELETE FROM key_holds WHERE stream_key = ?'),
      skip: db.prepare(
        `UPDATE message_state SET state = 'skipped', retry_at = NULL, updated_at = ? WHERE id = ?`,
      ),
      heldBehind: db
        .prepare(`SELECT COUNT(*) FROM message_state WHERE stream_key = ? AND state = 'accepted' AND id <> ?`)
        .pluck(),
      heldKeys: db
        .prepare(
          `SELECT h.stream_key AS streamKey, h.head, h.since, s.state AS headState,
             (SELECT COUNT(*) FROM message_state m
               WHERE m.stream_key = h.stream_key AND m.state = 'accepted' AND m.id <> h.head) AS held
           FROM key_holds h JOIN message_state s ON s.id = h.head ORDER BY h.since LIMIT ?`,
        )
        .safeIntegers(true),
      state: db.prepare('SELECT * FROM message_state WHERE id = ?').safeIntegers(true),
      attempts: db.prepare('SELECT * FROM attempts WHERE id = ? ORDER BY rowid').safeIntegers(true),
      located: db
        .prepare(
          `SELECT id, location_offset AS offset FROM message_state
           WHERE id IN (SELECT value FROM json_each(?)) AND location_stream = ? AND state IN ('failed', 'parked')`,
        )
        .safeIntegers(true),
      owned: db
        .prepare(
          `SELECT id FROM message_state
           WHERE id IN (SELECT value FROM json_each(?)) AND state IN ('accepted', 'retryScheduled')`,
        )
        .pluck(),
      pass: db
        .prepare('SELECT position, started_at, end_offset, ended FROM replay_passes WHERE stream = ?')
        .safeIntegers(true),
      savePass: db.prepare(
        `INSERT INTO replay_passes (stream, position, started_at, end_offset, ended) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(stream) DO UPDATE SET position = excluded.position, started_at = excluded.started_at,
           end_offset = excluded.end_offset, ended = excluded.ended`,
      ),
      deletePass: db.prepare('DELETE FROM replay_passes WHERE stream = ?'),
      openFailures: db.prepare(
        `SELECT location_stream AS stream, COUNT(*) AS count FROM message_state
         WHERE state IN ('failed', 'parked') GROUP BY location_stream`,
      ),
      heldTotals: db.prepare(
        `SELECT COUNT(*) AS keys, MIN(since) AS oldest,
           (SELECT COUNT(*) FROM message_state m JOIN key_holds k ON m.stream_key = k.stream_key
             WHERE m.state = 'accepted' AND m.id <> k.head) AS messages
         FROM key_holds`,
      ),
      findIngest: db.prepare('SELECT fingerprint, appended FROM ingest_keys WHERE key = ?'),
      rememberIngest: db.prepare(
        'INSERT INTO ingest_keys (key, fingerprint, appended, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
    };
    this.recordOne = db.transaction((entry: AttemptRecord) => this.write(entry));
    this.recordGroup = db.transaction((group: PendingRecord[]) => {
      for (const { entry } of group) this.write(entry);
    });
    this.releaseKey = db.transaction((streamKey: string) => {
      const head = this.statements.holdOf.get(streamKey) as string | undefined;
      if (head === undefined) return undefined;
      const held = this.statements.heldBehind.get(streamKey, head) as number;
      this.statements.markReleased.run(head);
      this.statements.unhold.run(streamKey);
      return held;
    });
    this.skipHead = db.transaction((streamKey: string) => {
      const head = this.statements.holdOf.get(streamKey) as string | undefined;
      if (head === undefined) return undefined;
      this.statements.skip.run(Date.now(), head);
      this.statements.unhold.run(streamKey);
      return head;
    });
  }

  /** For the main stream's appends: each new message starts `accepted`, in the append's transaction. */
  readonly registerAppended: WithinAppend = (stream, appended) => {
    if (stream !== this.mainStream) return;
    const now = Date.now();
    for (const item of appended) {
      const envelope = item.body as Envelope;
      const origin = new URL(envelope.streamMessage.targetRestApi).origin;
      this.statements.register.run(
        item.id,
        item.offset,
        envelope.streamKey,
        origin,
        envelope.streamMessage.targetRestApiOperation,
        stream,
        item.offset,
        now,
        now,
      );
    }
  };

  record(entry: AttemptRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      if (this.pending.length === 1) this.flushTimer = setTimeout(() => this.flush(), OUTCOME_FLUSH_MS);
    });
  }

  /**
   * Group commit; when the group fails each record is tried alone, so one cannot fail the others.
   * Called by the timer, and by the host before it closes the database.
   */
  flush(): void {
    clearTimeout(this.flushTimer);
    const group = this.pending.splice(0);
    if (group.length === 0) return;
    try {
      this.recordGroup(group);
      for (const item of group) item.resolve();
      return;
    } catch {
      // fall through: one at a time
    }
    for (const item of group) {
      try {
        this.recordOne(item.entry);
        item.resolve();
      } catch (error) {
        item.reject(localStorageError(`record the outcome of ${item.entry.id}`, error));
      }
    }
  }

  private write({ id, streamKey, attempt, next, holdKey }: AttemptRecord): void {
    const now = Date.now();
    this.statements.insertAttempt.run(
      id,
      attempt.attempt,
      Date.parse(attempt.at),
      attempt.outcome,
      attempt.status ?? null,
      attempt.reason ?? null,
      attempt.detail ?? null,
      attempt.responseExcerpt ?? null,
      attempt.durationMs ?? null,
      attempt.stream ?? null,
      attempt.offset ?? null,
    );
    switch (next.state) {
      case 'delivered':
        this.statements.delivered.run(attempt.attempt, now, id);
        this.statements.unholdHead.run(id);
        return;
      case 'retryScheduled':
        this.statements.retryScheduled.run(
          next.envelope.attempt,
          next.envelope.autoRetries ?? 0,
          next.retryAt.getTime(),
          now,
          id,
        );
        break;
      default:
        this.statements.routed.run(
          next.state,
          attempt.attempt,
          next.location.stream,
          next.location.offset ?? null,
          now,
          id,
        );
    }
    if (holdKey && streamKey !== '' && this.statements.released.get(id) !== 1) {
      this.statements.hold.run(streamKey, id, now);
    }
  }

  async history(id: string): Promise<MessageHistory | undefined> {
    return translatingLocalErrors(`read the history of ${id}`, () => this.readHistory(id));
  }

  private readHistory(id: string): MessageHistory | undefined {
    const row = this.statements.state.get(id) as StateRow | undefined;
    if (!row) return undefined;
    const attempts = (this.statements.attempts.all(id) as AttemptRow[]).map(toAttempt);
    const head =
      row.state === 'accepted' && row.stream_key !== ''
        ? (this.statements.holdOf.get(row.stream_key) as string | undefined)
        : undefined;
    const held = head !== undefined && head !== id;
    return {
      id: row.id,
      streamKey: row.stream_key,
      state: held ? 'held' : row.state,
      target: row.origin,
      operation: row.operation,
      acceptedAt: new Date(Number(row.accepted_at)).toISOString(),
      updatedAt: new Date(Number(row.updated_at)).toISOString(),
      location: {
        stream: row.location_stream,
        ...(row.location_offset === null ? {} : { offset: row.location_offset }),
      },
      ...(held ? { heldBehind: head } : {}),
      ...(row.retry_at === null ? {} : { retryAt: new Date(Number(row.retry_at)).toISOString() }),
      attempts,
    };
  }

  async replayable(
    stream: string,
    records: Array<{ offset: Offset; body: { id: string } }>,
    includeHandled: boolean,
  ): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    return translatingLocalErrors('read the state of replayed records', () =>
      this.replayableIds(stream, records, includeHandled),
    );
  }

  private replayableIds(
    stream: string,
    records: Array<{ offset: Offset; body: { id: string } }>,
    includeHandled: boolean,
  ): Set<string> {
    const ids = JSON.stringify(records.map((record) => record.body.id));
    if (includeHandled) {
      const owned = new Set(this.statements.owned.all(ids) as string[]);
      return new Set(records.map((record) => record.body.id).filter((id) => !owned.has(id)));
    }
    const located = this.statements.located.all(ids, stream) as Array<{ id: string; offset: bigint | null }>;
    const current = new Map(located.map((row) => [row.id, row.offset]));
    return new Set(
      records
        .filter((record) => current.get(record.body.id) === record.offset)
        .map((record) => record.body.id),
    );
  }

  async replayPass(stream: string): Promise<ReplayPass | undefined> {
    const row = translatingLocalErrors('read the replay position', () => this.statements.pass.get(stream)) as
      | { position: bigint; started_at: bigint; end_offset: bigint | null; ended: bigint }
      | undefined;
    if (!row) return undefined;
    return {
      position: row.position,
      startedAt: new Date(Number(row.started_at)),
      ...(row.end_offset === null ? {} : { end: row.end_offset }),
      ended: row.ended === 1n,
    };
  }

  async saveReplayPass(stream: string, pass: ReplayPass | undefined): Promise<void> {
    translatingLocalErrors('save the replay position', () => {
      if (pass === undefined) this.statements.deletePass.run(stream);
      else
        this.statements.savePass.run(
          stream,
          pass.position,
          pass.startedAt.getTime(),
          pass.end ?? null,
          pass.ended ? 1 : 0,
        );
    });
  }

  async heldKeys(limit: number): Promise<HeldKey[]> {
    const rows = translatingLocalErrors('read the held keys', () =>
      this.statements.heldKeys.all(limit),
    ) as Array<{
      streamKey: string;
      head: string;
      since: bigint;
      headState: MessageStateName;
      held: bigint;
    }>;
    return rows.map((row) => ({
      streamKey: row.streamKey,
      head: row.head,
      headState: row.headState,
      since: new Date(Number(row.since)),
      held: Number(row.held),
    }));
  }

  /** Failed and parked messages per stream they sit on (open failures). */
  openFailures(): Map<string, number> {
    const rows = translatingLocalErrors('count open failures', () =>
      this.statements.openFailures.all(),
    ) as Array<{ stream: string; count: number }>;
    return new Map(rows.map((row) => [row.stream, row.count]));
  }

  heldTotals(): { keys: number; messages: number; oldestSince?: Date } {
    const row = translatingLocalErrors('count held keys', () => this.statements.heldTotals.get()) as {
      keys: number;
      messages: number;
      oldest: number | null;
    };
    return {
      keys: row.keys,
      messages: row.messages,
      ...(row.oldest === null ? {} : { oldestSince: new Date(row.oldest) }),
    };
  }

  async holdOf(streamKey: string): Promise<string | undefined> {
    return translatingLocalErrors('read the hold of a key', () => this.statements.holdOf.get(streamKey)) as
      | string
      | undefined;
  }

  async release(streamKey: string): Promise<number | undefined> {
    return translatingLocalErrors('release the key', () => this.releaseKey(streamKey));
  }

  async skip(streamKey: string): Promise<string | undefined> {
    return translatingLocalErrors('skip the head of the key', () => this.skipHead(streamKey));
  }

  async findIngest(idempotencyKey: string): Promise<IngestRecord | undefined> {
    const row = translatingLocalErrors('read the Idempotency-Key', () =>
      this.statements.findIngest.get(idempotencyKey),
    ) as { fingerprint: string; appended: string } | undefined;
    if (!row) return undefined;
    return { fingerprint: row.fingerprint, appended: decodeAppended(row.appended) };
  }

  async rememberIngest(idempotencyKey: string, record: IngestRecord): Promise<void> {
    translatingLocalErrors('remember the Idempotency-Key', () =>
      this.statements.rememberIngest.run(
        idempotencyKey,
        record.fingerprint,
        encodeAppended(record.appended),
        Date.now(),
      ),
    );
  }
}

function toAttempt(row: AttemptRow): Attempt {
  return {
    attempt: Number(row.attempt),
    at: new Date(Number(row.at)).toISOString(),
    outcome: row.outcome,
    ...(row.status === null ? {} : { status: Number(row.status) }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.detail === null ? {} : { detail: row.detail }),
    ...(row.excerpt === null ? {} : { responseExcerpt: row.excerpt }),
    ...(row.duration_ms === null ? {} : { durationMs: Number(row.duration_ms) }),
    ...(row.stream === null ? {} : { stream: row.stream }),
    ...(row.offset === null ? {} : { offset: row.offset }),
  };
}
