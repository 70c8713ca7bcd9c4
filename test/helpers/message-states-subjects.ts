import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { TableMessageStates } from '../../shared/adapters/azure/table-message-states';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteMessageStates } from '../../shared/adapters/local/sqlite-message-states';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import type { Envelope } from '../../shared/contract/envelope';
import type { MessageStates } from '../../shared/pipeline/message-states';

/** A MessageStates adapter as the contract tests drive it. */
export interface StatesSubject {
  states: MessageStates;
  /** Messages accepted onto the main stream, not read by the consumer yet. */
  accept(envelopes: Envelope[]): Promise<void>;
  /** The consumer reads a message whose key is held: it waits behind the key's head. */
  reachConsumer(envelope: Envelope): Promise<void>;
  close(): Promise<void>;
}

/** SQLite: messages are registered in the append's transaction; held ones wait in the log. */
export function sqliteSubject(): StatesSubject {
  const dir = mkdtempSync(join(tmpdir(), 'datasync-states-'));
  const db = openDatabase(join(dir, 'datasync.db'));
  const states = new SqliteMessageStates(db, 'datasync');
  const stream = new SqliteStream(db, states.registerAppended);
  return {
    states,
    accept: async (envelopes) => void (await stream.append('datasync', envelopes)),
    reachConsumer: async () => undefined,
    close: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Scheduled {
  stream: string;
  envelope: Envelope;
  at: Date;
  messageId: string;
}

let tables = 0;

/** Table Storage on Azurite, one table per test; scheduled messages are recorded, not sent. */
export async function tableSubject(
  connectionString: string,
): Promise<StatesSubject & { states: TableMessageStates; scheduled: Scheduled[]; table: TableClient }> {
  tables += 1;
  const table = TableClient.fromConnectionString(connectionString, `states${process.pid}x${tables}`, {
    allowInsecureConnection: true,
  });
  await table.createTable();
  const scheduled: Scheduled[] = [];
  const states = new TableMessageStates(table, {
    mainStream: 'datasync',
    idempotencyWindowMs: 3600_000,
    schedule: async (stream, envelope, at, messageId) =>
      void scheduled.push({ stream, envelope, at, messageId }),
  });
  return {
    states,
    scheduled,
    table,
    accept: (envelopes) => states.register(envelopes),
    reachConsumer: async (envelope) => {
      const admission = await states.admit(envelope);
      if (admission !== 'heldBack')
        throw new Error(`expected ${envelope.id} to be held back, got ${admission}`);
    },
    close: () => table.deleteTable(),
  };
}
