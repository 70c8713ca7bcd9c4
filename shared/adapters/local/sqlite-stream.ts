import type Database from 'better-sqlite3';
import type { Envelope } from '../../contract/envelope';
import { decodeEnvelope, encodeEnvelope, encodeJson } from '../../contract/envelope-codec';
import type { Offset } from '../../contract/offset';
import type { ConsumableStream } from '../../pipeline/consumer';
import { StorageError } from '../../pipeline/errors';
import type { Appended, StreamRecord, StreamStore } from '../../pipeline/ports';

interface MessageRow {
  offset: bigint;
  body: string;
  enqueued_at: bigint;
}

interface PendingAppend {
  stream: string;
  items: Array<{ id: string; body: unknown }>;
  resolve: (appended: Appended[]) => void;
  reject: (error: Error) => void;
}

export interface StreamSummary {
  stream: string;
  firstOffset?: Offset;
  lastOffset: Offset;
  retained: number;
}

/**
 * The embedded stream: one SQLite log, dense offsets per stream starting at 0, created on first
 * append, a committed cursor per consumer. Offsets are read as bigint so none loses precision.
 */
export class SqliteStream implements StreamStore, ConsumableStream {
  private readonly statements;
  private readonly appendAll: (stream: string, items: Array<{ id: string; body: unknown }>) => Appended[];
  private readonly releaseAll: (now: number) => Set<string>;
  private readonly appendGroup: (group: PendingAppend[]) => Appended[][];
  private readonly pending: PendingAppend[] = [];
  private readonly listeners = new Set<(stream: string) => void>();

  constructor(private readonly db: Database.Database) {
    this.statements = {
      lastOffset: db.prepare('SELECT last_offset FROM streams WHERE name = ?').pluck().safeIntegers(true),
      upsertLast: db.prepare(
        'INSERT INTO streams (name, last_offset) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET last_offset = excluded.last_offset',
      ),
      insert: db.prepare('INSERT INTO messages (stream, offset, body, enqueued_at) VALUES (?, ?, ?, ?)'),
      readAfter: db
        .prepare(
          'SELECT offset, body, enqueued_at FROM messages WHERE stream = ? AND offset > ? ORDER BY offset LIMIT ?',
        )
        .safeIntegers(true),
      readLatest: db
        .prepare(
          'SELECT offset, body, enqueued_at FROM messages WHERE stream = ? ORDER BY offset DESC LIMIT ?',
        )
        .safeIntegers(true),
      cursor: db
        .prepare('SELECT offset FROM cursors WHERE consumer = ? AND stream = ?')
        .pluck()
        .safeIntegers(true),
      commit: db.prepare(
        'INSERT INTO cursors (consumer, stream, offset) VALUES (?, ?, ?) ON CONFLICT(consumer, stream) DO UPDATE SET offset = excluded.offset',
      ),
      summaries: db
        .prepare(
          `SELECT s.name AS stream, s.last_offset AS lastOffset,
                  (SELECT MIN(offset) FROM messages m WHERE m.stream = s.name) AS firstOffset
           FROM streams s ORDER BY s.name`,
        )
        .safeIntegers(true),
      schedule: db.prepare('INSERT INTO scheduled (id, stream, body, visible_at) VALUES (?, ?, ?, ?)'),
      due: db.prepare(
        'SELECT rowid, id, stream, body FROM scheduled WHERE visible_at <= ? ORDER BY visible_at LIMIT 500',
      ),
      unschedule: db.prepare('DELETE FROM scheduled WHERE rowid = ?'),
      scheduledCount: db.prepare('SELECT COUNT(*) FROM scheduled').pluck(),
      expire: db.prepare(
        `DELETE FROM messages WHERE stream = ? AND enqueued_at < ?
           AND offset <= COALESCE((SELECT MIN(offset) FROM cursors WHERE stream = ?), offset)`,
      ),
    };
    this.appendGroup = db.transaction((group: PendingAppend[]) =>
      group.map((append) => this.appendAll(append.stream, append.items)),
    );
    this.releaseAll = db.transaction((now: number) => {
      const due = this.statements.due.all(now) as Array<{
        rowid: number;
        id: string;
        stream: string;
        body: string;
      }>;
      const streams = new Set<string>();
      for (const row of due) {
        this.appendAll(row.stream, [{ id: row.id, body: decodeEnvelope(row.body) }]);
        this.statements.unschedule.run(row.rowid);
        streams.add(row.stream);
      }
      return streams;
    });
    this.appendAll = db.transaction((stream: string, items: Array<{ id: string; body: unknown }>) => {
      let offset = (this.statements.lastOffset.get(stream) as bigint | undefined) ?? -1n;
      const now = Date.now();
      const appended = items.map((item) => {
        offset += 1n;
        this.statements.insert.run(stream, offset, encodeJson(item.body), now);
        return { stream, id: item.id, offset };
      });
      this.statements.upsertLast.run(stream, offset);
      return appended;
    });
  }

  async append(stream: string, messages: Envelope[]): Promise<Appended[]> {
    return this.appendJson(
      stream,
      messages.map((message) => ({ id: message.id, body: message })),
    );
  }

  /** Appends bodies that are not sync messages (alerts). */
  appendJson(stream: string, items: Array<{ id: string; body: unknown }>): Promise<Appended[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, items, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  /**
   * Group commit: the appends that arrived during one turn of the event loop are written in one
   * transaction (one fsync), each still all or nothing. If the group fails, each append is tried
   * alone, so one bad append cannot fail the others.
   */
  private flush(): void {
    const group = this.pending.splice(0);
    let results: Appended[][] | undefined;
    try {
      results = this.appendGroup(group);
    } catch {
      results = undefined;
    }
    group.forEach((append, index) => {
      try {
        append.resolve(
          results ? (results[index] as Appended[]) : this.appendAll(append.stream, append.items),
        );
      } catch (error) {
        append.reject(
          new StorageError(`could not append to stream "${append.stream}": ${(error as Error).message}`, {
            cause: error,
          }),
        );
      }
    });
    this.notify(new Set(group.map((append) => append.stream)));
  }

  private notify(streams: Iterable<string>): void {
    for (const stream of streams) for (const listener of this.listeners) listener(stream);
  }

  async schedule(stream: string, message: Envelope, at: Date): Promise<void> {
    try {
      this.statements.schedule.run(message.id, stream, encodeEnvelope(message), at.getTime());
    } catch (error) {
      throw new StorageError(`could not schedule a retry on "${stream}": ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Appends every scheduled message that is due, in one transaction; returns how many streams got some. */
  releaseDue(now = Date.now()): number {
    const streams = this.releaseAll(now);
    this.notify(streams);
    return streams.size;
  }

  scheduledCount(): number {
    return this.statements.scheduledCount.get() as number;
  }

  async readAfter(stream: string, after: Offset, max: number): Promise<StreamRecord[]> {
    const rows = this.statements.readAfter.all(stream, after, max) as MessageRow[];
    return rows.map((row) => toRecord(stream, row));
  }

  /** The newest `max` records, newest first. */
  async latest(stream: string, max: number): Promise<StreamRecord[]> {
    const rows = this.statements.readLatest.all(stream, max) as MessageRow[];
    return rows.map((row) => toRecord(stream, row));
  }

  async exists(stream: string): Promise<boolean> {
    return this.statements.lastOffset.get(stream) !== undefined;
  }

  async committedOffset(consumer: string, stream: string): Promise<Offset> {
    return (this.statements.cursor.get(consumer, stream) as bigint | undefined) ?? -1n;
  }

  async commit(consumer: string, stream: string, offset: Offset): Promise<void> {
    this.statements.commit.run(consumer, stream, offset);
  }

  summaries(): StreamSummary[] {
    const rows = this.statements.summaries.all() as Array<{
      stream: string;
      lastOffset: bigint;
      firstOffset: bigint | null;
    }>;
    return rows.map((row) => ({
      stream: row.stream,
      lastOffset: row.lastOffset,
      firstOffset: row.firstOffset ?? undefined,
      retained: row.firstOffset === null ? 0 : Number(row.lastOffset - row.firstOffset + 1n),
    }));
  }

  /** Drops messages older than the retention, but never ones a consumer has not committed. */
  expire(retentionMs: number): number {
    const before = Date.now() - retentionMs;
    let removed = 0;
    for (const { stream } of this.summaries())
      removed += this.statements.expire.run(stream, before, stream).changes;
    return removed;
  }

  /** Called after every append, with the stream name (lets a consumer skip its poll delay). */
  onAppend(listener: (stream: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function toRecord(stream: string, row: MessageRow): StreamRecord {
  return {
    stream,
    offset: row.offset,
    body: decodeEnvelope(row.body),
    enqueuedAt: new Date(Number(row.enqueued_at)),
  };
}
