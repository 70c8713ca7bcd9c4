import type Database from 'better-sqlite3';
import { decodeEnvelope } from '../../contract/envelope-codec';
import type { DeliveryQueue } from '../../pipeline/delivery-loop';
import type { StreamRecord } from '../../pipeline/ports';

interface ReadyRow {
  offset: bigint;
  body: string;
  enqueued_at: bigint;
  attempt: bigint;
  auto_retries: bigint;
}

/**
 * What the local consumer may deliver next, read from the message states: per target origin, the
 * accepted messages in offset order that are the oldest open message of their key and whose key is
 * not held behind another message. Due automatic retries become accepted again.
 */
export class SqliteDeliveryQueue implements DeliveryQueue {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly mainStream: string,
  ) {
    this.statements = {
      nextOrigin: db
        .prepare(
          `SELECT origin FROM message_state WHERE state = 'accepted' AND origin > ? ORDER BY origin LIMIT 1`,
        )
        .pluck(),
      ready: db
        .prepare(
          `SELECT m.seq AS offset, l.body, l.enqueued_at, m.attempt, m.auto_retries
           FROM message_state m JOIN messages l ON l.stream = ? AND l.offset = m.seq
           WHERE m.state = 'accepted' AND m.origin = ?
             AND m.id NOT IN (SELECT value FROM json_each(?))
             AND (m.stream_key = '' OR (
               NOT EXISTS (SELECT 1 FROM message_state p
                           WHERE p.stream_key = m.stream_key AND p.state = 'accepted' AND p.seq < m.seq)
               AND NOT EXISTS (SELECT 1 FROM key_holds h WHERE h.stream_key = m.stream_key AND h.head <> m.id)))
           ORDER BY m.seq LIMIT ?`,
        )
        .safeIntegers(true),
      releaseDue: db.prepare(
        `UPDATE message_state SET state = 'accepted', retry_at = NULL, updated_at = ?
         WHERE state = 'retryScheduled' AND retry_at <= ?`,
      ),
      queued: db.prepare(
        `SELECT origin, COUNT(*) AS count FROM message_state WHERE state = 'accepted' GROUP BY origin`,
      ),
      counts: db.prepare(`SELECT state, COUNT(*) AS count FROM message_state
                          WHERE state IN ('accepted', 'retryScheduled') GROUP BY state`),
    };
  }

  async origins(): Promise<string[]> {
    const origins: string[] = [];
    let after = '';
    for (;;) {
      const next = this.statements.nextOrigin.get(after) as string | undefined;
      if (next === undefined) return origins;
      origins.push(next);
      after = next;
    }
  }

  async ready(origin: string, max: number, exclude: Iterable<string>): Promise<StreamRecord[]> {
    const rows = this.statements.ready.all(
      this.mainStream,
      origin,
      JSON.stringify([...exclude]),
      max,
    ) as ReadyRow[];
    return rows.map((row) => {
      const body = decodeEnvelope(row.body);
      return {
        stream: this.mainStream,
        offset: row.offset,
        body: { ...body, attempt: Number(row.attempt), autoRetries: Number(row.auto_retries) },
        enqueuedAt: new Date(Number(row.enqueued_at)),
      };
    });
  }

  /** Due automatic retries go back to `accepted`; returns how many. */
  releaseDue(now = Date.now()): number {
    return this.statements.releaseDue.run(now, now).changes;
  }

  /** Accepted messages per target origin (held ones included). */
  queuedByOrigin(): Map<string, number> {
    const rows = this.statements.queued.all() as Array<{ origin: string; count: number }>;
    return new Map(rows.map((row) => [row.origin, row.count]));
  }

  counts(): { backlog: number; scheduledRetries: number } {
    const rows = this.statements.counts.all() as Array<{ state: string; count: number }>;
    const of = (state: string) => rows.find((row) => row.state === state)?.count ?? 0;
    return { backlog: of('accepted'), scheduledRetries: of('retryScheduled') };
  }
}
