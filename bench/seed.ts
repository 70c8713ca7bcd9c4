import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../shared/adapters/local/sqlite-database';
import { SqliteStream } from '../shared/adapters/local/sqlite-stream';
import type { Envelope } from '../shared/contract/envelope';

/**
 * Writes `count` failed messages for `target` straight into a data directory: records on `stream`
 * and, for each, the state a failed delivery leaves (failed, located at that record), so a replay
 * delivers them. Big transactions, no fsync: a fixture, not the product's write path.
 */
export async function seed(dataDir: string, stream: string, count: number, target: string): Promise<void> {
  const db = openDatabase(join(dataDir, 'datasync.db'));
  db.pragma('synchronous = OFF');
  const failed = db.prepare(
    `INSERT INTO message_state (id, seq, stream_key, origin, operation, state, attempt, location_stream,
       location_offset, accepted_at, updated_at) VALUES (?, ?, '', ?, 'POST', 'failed', 1, ?, ?, ?, ?)`,
  );
  const origin = new URL(target).origin;
  const store = new SqliteStream(db, (appendedTo, appended) => {
    const now = Date.now();
    for (const item of appended) failed.run(item.id, item.offset, origin, appendedTo, item.offset, now, now);
  });
  const chunk = 10_000;
  for (let done = 0; done < count; done += chunk) {
    const messages: Envelope[] = Array.from({ length: Math.min(chunk, count - done) }, (_, i) => ({
      id: randomUUID(),
      streamKey: '',
      attempt: 1,
      streamMessage: {
        targetRestApi: `${target}/orders`,
        targetRestApiOperation: 'POST',
        targetRestApiPayload: { orderid: `seed-${done + i}`, PO: '18jan' },
        targetRestApiHeaders: [{ key: 'Content-Type', value: 'application/json' }],
      },
    }));
    await store.append(stream, messages);
  }
  db.close();
}
