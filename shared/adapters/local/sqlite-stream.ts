import { localStorageError, translatingLocalErrors } from './local-errors';
import type Database from 'better-sqlite3';
import type { Envelope } from '../../contract/envelope';
import { decodeEnvelope, encodeJson } from '../../contract/envelope-codec';
import type { Offset } from '../../contract/offset';
import type { Appended, StreamRecord, StreamStore } from '../../pipeline/ports';

interface MessageRow {
  offset: bigint;
  body: string;
  enqueued_at: bigint;
}

/** Runs inside an append's transaction, with what was appended (message-state rows go in with it). */
export type WithinAppend = (
  stream: string,
  appended: Array<Appended & { offset: Offset; body: unknown }>,
) => void;

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
 * append. Offsets are read as bigint so none loses precision. What was done with each message is
 * the message-state store's business (`withinAppend` registers new messages in the same transaction).
 */
export class SqliteStream implements StreamStore {
  private readonly statements;
  private readonly appendAll: (stream: string, items: Array<{ id: string; body: unknown }>) => Appended[];
  private readonly appendGroup: (group: PendingAppend[]) => Appended[][];
  private readonly pending: PendingAppend[] = [];
  private readonly listeners = new Set<(stream: string) => void>();

  constructor(
    db: Database.Database,
    private readonly withinAppend?: WithinAppend,
  ) {
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
      summaries: db
        .prepare(
          `SELECT s.name AS stream, s.last_offset AS lastOffset,
                  (SELECT MIN(offset) FROM messages m WHERE m.stream = s.name) AS firstOffset
           FROM streams s ORDER BY s.name`,
        )
        .safeIntegers(true),
    };
    this.appendGroup = db.transaction((group: PendingAppend[]) =>
      group.map((append) => this.appendAll(append.stream, append.items)),
    );
    this.appendAll = db.transaction((stream: string, items: Array<{ id: string; body: unknown }>) => {
      let offset = (this.statements.lastOffset.get(stream) as bigint | undefined) ?? -1n;
      const now = Date.now();
      const appended = items.map((item) => {
        offset += 1n;
        this.statements.insert.run(stream, offset, encodeJson(item.body), now);
        return { stream, id: item.id, offset, body: item.body };
      });
      this.statements.upsertLast.run(stream, offset);
      this.withinAppend?.(stream, appended);
      return appended.map(({ stream, id, offset }) => ({ stream, id, offset }));
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
        append.reject(localStorageError(`append to stream "${append.stream}"`, error));
      }
    });
    this.notify(new Set(group.map((append) => append.stream)));
  }

  private notify(streams: Iterable<string>): void {
    for (const stream of streams) for (const listener of this.listeners) listener(stream);
  }

  async readAfter(stream: string, after: Offset, max: number): Promise<StreamRecord[]> {
    const rows = translatingLocalErrors(`read stream "${stream}"`, () =>
      this.statements.readAfter.all(stream, after, max),
    ) as MessageRow[];
    return rows.map((row) => toRecord(stream, row));
  }

  /** The newest `max` records, newest first. */
  async latest(stream: string, max: number): Promise<StreamRecord[]> {
    const rows = translatingLocalErrors(`read stream "${stream}"`, () =>
      this.statements.readLatest.all(stream, max),
    ) as MessageRow[];
    return rows.map((row) => toRecord(stream, row));
  }

  async lastOffset(stream: string): Promise<Offset | undefined> {
    return translatingLocalErrors(`read the end of stream "${stream}"`, () =>
      this.statements.lastOffset.get(stream),
    ) as bigint | undefined;
  }

  async exists(stream: string): Promise<boolean> {
    const last = translatingLocalErrors(`read the end of stream "${stream}"`, () =>
      this.statements.lastOffset.get(stream),
    );
    return last !== undefined;
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
