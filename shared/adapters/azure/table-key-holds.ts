import { restStatus } from './azure-errors';
import { odata, type TableClient } from '@azure/data-tables';
import type { Envelope } from '../../contract/envelope';
import { fromChunks, keys, toChunks } from './table-keys';

/** Sends a message to the main queue again (a Service Bus scheduled message; `at` may be now). */
export type Resend = (envelope: Envelope, messageId: string) => Promise<void>;

export interface HoldRow {
  streamKey: string;
  /** The message the key waits for; while draining, the held message re-sent last. */
  head: string;
  since: Date;
  /**
   * Released (or its head delivered or skipped): the waiting messages go on, one after the other,
   * each re-sent when the one before it is done. The key is not held, but newcomers queue behind.
   */
  draining: boolean;
  /** Sequence of the next waiting row. */
  nextSeq: number;
  /** Re-sends so far: names each re-sent message, so a repeated re-send is dropped as a duplicate. */
  resends: number;
  etag: string;
}

const CONFLICT_TRIES = 8;

/**
 * Held keys on Table Storage. A key's partition holds its hold row and the messages that reached the
 * trigger while the key was held, in arrival order (the session delivers a key's messages in order).
 * When the head is delivered, skipped or released, the first waiting message is re-sent to the main
 * queue and becomes the head; the next one follows when it is done. One at a time keeps the order:
 * a message arriving meanwhile queues behind. Concurrent changes are caught by ETags and retried.
 */
export class TableKeyHolds {
  constructor(
    private readonly table: TableClient,
    private readonly resend: Resend,
  ) {}

  async get(streamKey: string): Promise<HoldRow | undefined> {
    try {
      const row = await this.table.getEntity<Omit<HoldRow, 'etag'>>(keys.key(streamKey), keys.holdRow);
      return { ...row, since: new Date(row.since), etag: row.etag };
    } catch (error) {
      if (restStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** The key waits for `head`: a new hold, or a draining one whose head failed again. */
  async hold(streamKey: string, head: string): Promise<void> {
    await conflictRetried(async () => {
      const current = await this.get(streamKey);
      if (!current) {
        await this.table.createEntity({
          partitionKey: keys.key(streamKey),
          rowKey: keys.holdRow,
          streamKey,
          head,
          since: new Date(),
          draining: false,
          nextSeq: 0,
          resends: 0,
        });
      } else if (current.draining && current.head === head) {
        await this.update(current, { draining: false, since: new Date() });
      }
    });
  }

  /**
   * Queues a message that reached the trigger while its key is held or draining behind another
   * message. Resolves false when it may go now (no hold, or it is the head).
   */
  async holdBack(envelope: Envelope): Promise<boolean> {
    return conflictRetried(async () => {
      const current = await this.get(envelope.streamKey);
      if (!current || current.head === envelope.id) return false;
      await this.table.submitTransaction([
        [
          'update',
          { partitionKey: keys.key(envelope.streamKey), rowKey: keys.holdRow, nextSeq: current.nextSeq + 1 },
          'Merge',
          { etag: current.etag },
        ],
        [
          'create',
          {
            partitionKey: keys.key(envelope.streamKey),
            rowKey: keys.waitingRow(current.nextSeq),
            id: envelope.id,
            ...toChunks('envelope', JSON.stringify(envelope)),
          },
        ],
      ]);
      return true;
    });
  }

  /**
   * `head` no longer holds its key (delivered, skipped, released): the first waiting message is
   * re-sent and becomes the head, or the hold ends when none waits. A no-op when `head` is not the head.
   */
  async advance(streamKey: string, head: string): Promise<void> {
    await conflictRetried(async () => {
      const current = await this.get(streamKey);
      if (!current || current.head !== head) return;
      const [next] = await this.waiting(streamKey, 1);
      if (!next) {
        await this.table.deleteEntity(keys.key(streamKey), keys.holdRow, { etag: current.etag });
        return;
      }
      // Re-sent before the hold row moves on: a failure in between re-sends the same message id.
      await this.resend(next.envelope, `${next.envelope.id}-resend-${current.resends}`);
      await this.table.submitTransaction([
        [
          'update',
          {
            partitionKey: keys.key(streamKey),
            rowKey: keys.holdRow,
            head: next.envelope.id,
            draining: true,
            since: new Date(),
            resends: current.resends + 1,
          },
          'Merge',
          { etag: current.etag },
        ],
        ['delete', { partitionKey: keys.key(streamKey), rowKey: next.rowKey }],
      ]);
    });
  }

  /** Messages waiting behind the key's head, oldest first. */
  async waiting(streamKey: string, max: number): Promise<Array<{ rowKey: string; envelope: Envelope }>> {
    const rows: Array<{ rowKey: string; envelope: Envelope }> = [];
    const filter = odata`PartitionKey eq ${keys.key(streamKey)} and RowKey ge ${keys.waitingRows.from} and RowKey lt ${keys.waitingRows.to}`;
    for await (const entity of this.table.listEntities({ queryOptions: { filter } })) {
      rows.push({ rowKey: entity.rowKey as string, envelope: JSON.parse(fromChunks('envelope', entity)) });
      if (rows.length >= max) break;
    }
    return rows;
  }

  async countWaiting(streamKey: string): Promise<number> {
    let count = 0;
    const filter = odata`PartitionKey eq ${keys.key(streamKey)} and RowKey ge ${keys.waitingRows.from} and RowKey lt ${keys.waitingRows.to}`;
    for await (const page of this.table
      .listEntities({ queryOptions: { filter, select: ['RowKey'] } })
      .byPage())
      count += page.length;
    return count;
  }

  /** Every held (not draining) key: a range query over the key partitions only. */
  async heldRows(): Promise<HoldRow[]> {
    const rows: HoldRow[] = [];
    const filter = odata`PartitionKey ge ${keys.keys.from} and PartitionKey lt ${keys.keys.to} and RowKey eq ${keys.holdRow} and draining eq false`;
    for await (const row of this.table.listEntities<Omit<HoldRow, 'etag'>>({ queryOptions: { filter } })) {
      rows.push({ ...row, since: new Date(row.since), etag: row.etag });
    }
    return rows.sort((a, b) => a.since.getTime() - b.since.getTime());
  }

  private async update(current: HoldRow, changes: Partial<Omit<HoldRow, 'etag'>>): Promise<void> {
    await this.table.updateEntity(
      { partitionKey: keys.key(current.streamKey), rowKey: keys.holdRow, ...changes },
      'Merge',
      { etag: current.etag },
    );
  }
}

/** Runs `work` again when another writer changed or created the same rows first (409, 412). */
export async function conflictRetried<T>(work: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await work();
    } catch (error) {
      const status = restStatus(error);
      if ((status !== 409 && status !== 412) || tries >= CONFLICT_TRIES) throw error;
    }
  }
}
