import type { Offset } from '../contract/offset';
import { KeyedRunner } from './keyed-runner';
import type { Logger, StreamRecord } from './ports';

/** A stream with a committed cursor per consumer: what the embedded backend offers. */
export interface ConsumableStream {
  readAfter(stream: string, after: Offset, max: number): Promise<StreamRecord[]>;
  committedOffset(consumer: string, stream: string): Promise<Offset>;
  commit(consumer: string, stream: string, offset: Offset): Promise<void>;
}

export interface ConsumerOptions {
  stream: string;
  consumer: string;
  /** Records read ahead of the committed cursor at most (bounds memory). */
  window: number;
  pollMs: number;
  /** First wait before handling a record again after its outcome could not be made durable. */
  retryDelayMs: number;
  log: Logger;
}

const MAX_RETRY_DELAY_MS = 30_000;
/** Cursor writes are coalesced to at most one per this interval (each is an fsync). */
const COMMIT_INTERVAL_MS = 50;

/**
 * Reads a stream after its committed cursor and hands each record to `handle`, in order per
 * stream key and concurrently across keys. The cursor only moves past a record once `handle`
 * resolved for it and for every record before it, so a crash redelivers (at-least-once) and never
 * skips. A record whose handling throws is tried again with backoff; records of other keys go on.
 */
export class StreamConsumer {
  private readonly runner = new KeyedRunner();
  private readonly inFlight = new Map<Offset, Promise<void>>();
  private readPosition: Offset = -1n;
  private committed: Offset = -1n;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private commitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: ConsumableStream,
    private readonly handle: (record: StreamRecord) => Promise<void>,
    private readonly options: ConsumerOptions,
  ) {}

  async start(): Promise<void> {
    this.committed = await this.source.committedOffset(this.options.consumer, this.options.stream);
    this.readPosition = this.committed;
    this.running = true;
    this.loop = this.run();
  }

  /** New messages were appended: read now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops reading, waits up to `graceMs` for records in flight, commits what was handled. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled([...this.inFlight.values()]), deadline]);
    clearTimeout(timer);
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    await this.commitNow();
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Reads when a quarter of the window is free (or nothing is in flight), so a busy stream is read
   * in batches rather than one query per finished record.
   */
  private async run(): Promise<void> {
    while (this.running) {
      const room = this.options.window - this.inFlight.size;
      const worthReading = this.inFlight.size === 0 || room >= this.lowWater();
      const records = worthReading ? await this.readSafely(room) : [];
      for (const record of records) this.schedule(record);
      if (records.length === 0) await this.sleep();
    }
  }

  private lowWater(): number {
    return Math.max(1, Math.floor(this.options.window / 4));
  }

  private async readSafely(max: number): Promise<StreamRecord[]> {
    try {
      return await this.source.readAfter(this.options.stream, this.readPosition, max);
    } catch (error) {
      this.options.log.error('consumer.read_failed', { stream: this.options.stream, error: String(error) });
      return [];
    }
  }

  private schedule(record: StreamRecord): void {
    this.readPosition = record.offset;
    const done = this.runner
      .run(record.body.streamKey, () => this.handleUntilDurable(record))
      .then((handled) => {
        if (!handled) return;
        this.inFlight.delete(record.offset);
        this.scheduleCommit();
        if (this.options.window - this.inFlight.size === this.lowWater() || this.inFlight.size === 0)
          this.wake();
      });
    this.inFlight.set(record.offset, done);
  }

  private async handleUntilDurable(record: StreamRecord): Promise<boolean> {
    let delay = this.options.retryDelayMs;
    for (;;) {
      try {
        await this.handle(record);
        return true;
      } catch (error) {
        this.options.log.error('consumer.handle_failed', {
          stream: record.stream,
          offset: record.offset.toString(),
          id: record.body.id,
          error: String(error),
          retryInMs: delay,
        });
      }
      if (!this.running) return false;
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (!this.running) return false;
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }

  /** Everything below the oldest record in flight has been handled. */
  private handledUpTo(): Offset {
    const oldest = this.inFlight.keys().next();
    return oldest.done ? this.readPosition : oldest.value - 1n;
  }

  private scheduleCommit(): void {
    if (this.commitTimer) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitNow();
    }, COMMIT_INTERVAL_MS);
  }

  private async commitNow(): Promise<void> {
    const upTo = this.handledUpTo();
    if (upTo <= this.committed) return;
    try {
      await this.source.commit(this.options.consumer, this.options.stream, upTo);
      this.committed = upTo;
    } catch (error) {
      this.options.log.error('consumer.commit_failed', { stream: this.options.stream, error: String(error) });
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(finish, this.options.pollMs);
      this.wakeUp = finish;
    });
  }
}
