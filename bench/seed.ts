import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../shared/adapters/local/sqlite-database';
import { SqliteStream } from '../shared/adapters/local/sqlite-stream';
import type { Envelope } from '../shared/contract/envelope';

/** Writes `count` messages for `target` straight into a data directory's stream, in big transactions. */
export async function seed(dataDir: string, stream: string, count: number, target: string): Promise<void> {
  const db = openDatabase(join(dataDir, 'datasync.db'));
  db.pragma('synchronous = OFF');
  const store = new SqliteStream(db);
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
