import type Database from 'better-sqlite3';

/** States whose message still needs the record at its location. */
const OPEN = `('accepted', 'retryScheduled', 'failed', 'parked')`;

/**
 * Housekeeping of the embedded database: records older than the retention go, unless a message that
 * is not done yet still needs them; finished messages' states and attempts go after the retention;
 * ingest idempotency keys after their window.
 */
export class SqliteRetention {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      records: db.prepare(
        `DELETE FROM messages WHERE enqueued_at < ? AND NOT EXISTS (
           SELECT 1 FROM message_state s WHERE s.location_stream = messages.stream
             AND s.location_offset = messages.offset AND s.state IN ${OPEN})`,
      ),
      attempts: db.prepare(
        `DELETE FROM attempts WHERE id IN (SELECT id FROM message_state
           WHERE state IN ('delivered', 'skipped') AND updated_at < ?)`,
      ),
      states: db.prepare(
        `DELETE FROM message_state WHERE state IN ('delivered', 'skipped') AND updated_at < ?`,
      ),
      ingestKeys: db.prepare('DELETE FROM ingest_keys WHERE created_at < ?'),
    };
  }

  expire(
    retentionMs: number,
    idempotencyWindowMs: number,
    now = Date.now(),
  ): { records: number; states: number } {
    const before = now - retentionMs;
    const records = this.statements.records.run(before).changes;
    this.statements.attempts.run(before);
    const states = this.statements.states.run(before).changes;
    this.statements.ingestKeys.run(now - idempotencyWindowMs);
    return { records, states };
  }
}
