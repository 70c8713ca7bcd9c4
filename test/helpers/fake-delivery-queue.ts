import type { Envelope } from '../../shared/contract/envelope';
import type { DeliveryQueue } from '../../shared/pipeline/delivery-loop';
import type { StreamRecord } from '../../shared/pipeline/ports';

/**
 * A `DeliveryQueue` in memory with the SQLite queue's semantics: per target origin, the open messages
 * in append order that are the oldest open message of their key. A message stays ready until `settle`
 * records its outcome. `failReads` makes the next reads of the origins fail; `onRead` runs just after
 * a read of the origins (an append landing then); reads of each origin are counted.
 */
export class FakeDeliveryQueue implements DeliveryQueue {
  readonly readsOf = new Map<string, number>();
  failReads = 0;
  onRead: (() => void) | undefined;
  private readonly open: StreamRecord[] = [];
  private offset = 0n;

  add(...envelopes: Envelope[]): void {
    for (const body of envelopes) {
      this.open.push({ stream: 'datasync', offset: this.offset, body, enqueuedAt: new Date() });
      this.offset += 1n;
    }
  }

  /** The message's outcome is recorded: it is no longer ready, and the next of its key is. */
  settle(id: string): void {
    const index = this.open.findIndex((record) => record.body.id === id);
    if (index >= 0) this.open.splice(index, 1);
  }

  async origins(): Promise<string[]> {
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw new Error('database is locked');
    }
    const origins = [...new Set(this.open.map(originOf))].sort();
    this.onRead?.();
    return origins;
  }

  async ready(origin: string, max: number, exclude: Iterable<string>): Promise<StreamRecord[]> {
    this.readsOf.set(origin, (this.readsOf.get(origin) ?? 0) + 1);
    const excluded = new Set(exclude);
    const heads = this.open.filter(
      (record, index) =>
        record.body.streamKey === '' ||
        !this.open.slice(0, index).some((earlier) => earlier.body.streamKey === record.body.streamKey),
    );
    return heads
      .filter((record) => originOf(record) === origin && !excluded.has(record.body.id))
      .slice(0, Math.max(0, max));
  }
}

const originOf = (record: StreamRecord) => new URL(record.body.streamMessage.targetRestApi).origin;
