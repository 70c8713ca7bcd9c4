import { PEEK_PAGE, peekPages, type ServiceBusClientLike } from './service-bus-stream';

export interface QueueDepth {
  queue: string;
  /** Active messages, counted by peeking up to `cap`; null when the queue cannot be peeked (sessions). */
  active: number | null;
  deadLettered: number;
  /** True when a count reached the cap (there may be more). */
  capped: boolean;
  error?: string;
}

/**
 * Queue depths by peeking, which the app's Data Receiver role allows (runtime counts need the
 * Manage right, which the app deliberately does not have). Bounded by `cap` per queue.
 */
export class ServiceBusStatus {
  constructor(
    private readonly client: ServiceBusClientLike,
    private readonly cap: number,
  ) {}

  async depths(queues: string[], sessionQueues: ReadonlySet<string>): Promise<QueueDepth[]> {
    return Promise.all(
      queues.map(async (queue) => {
        try {
          const deadLettered = await this.count(queue, true);
          const active = sessionQueues.has(queue) ? null : await this.count(queue, false);
          return {
            queue,
            active: active?.count ?? null,
            deadLettered: deadLettered.count,
            capped: deadLettered.capped || (active?.capped ?? false),
          };
        } catch (error) {
          return { queue, active: null, deadLettered: 0, capped: false, error: (error as Error).message };
        }
      }),
    );
  }

  private async count(queue: string, deadLetter: boolean): Promise<{ count: number; capped: boolean }> {
    const receiver = this.client.createReceiver(queue, deadLetter ? { subQueueType: 'deadLetter' } : {});
    let count = 0;
    try {
      for await (const page of peekPages(receiver, 0n, () => PEEK_PAGE)) {
        count += page.filter((message) => message.state === 'active').length;
        if (count >= this.cap) return { count: this.cap, capped: true };
      }
      return { count, capped: false };
    } finally {
      await receiver.close();
    }
  }
}
