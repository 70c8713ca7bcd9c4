import { OutcomeNotDurableError } from './errors';
import type { Logger, StreamRecord } from './ports';

/** The messages a consumer may deliver now (the embedded backend reads them from the message states). */
export interface DeliveryQueue {
  /** Target origins that have messages waiting. */
  origins(): Promise<string[]>;
  /**
   * Up to `max` messages for `origin` that may go now, oldest first, leaving out `exclude`: each is
   * the oldest undelivered message of its key and its key is not held.
   */
  ready(origin: string, max: number, exclude: Iterable<string>): Promise<StreamRecord[]>;
}

/** How many messages of one target origin may be in hand now (pause, breaker, adaptive limit). */
export interface OriginGate {
  /** 0 holds the origin's messages back (they stay accepted, in order). */
  capacity(origin: string): number;
  /** A message of `origin` was taken (a half-open breaker lets only one through). */
  started(origin: string): void;
}

export interface DeliveryLoopOptions {
  /** Messages handled at once, over all targets. */
  concurrency: number;
  /** Per target origin: a slow or failing target never takes every slot. */
  gate: OriginGate;
  pollMs: number;
  /** First wait before a message whose handling failed before its target was called is tried again. */
  retryDelayMs: number;
  log: Logger;
}

const MAX_RETRY_DELAY_MS = 30_000;

/** An origin is read again once a quarter of its slots are free. */
function lowWater(capacity: number): number {
  return Math.max(1, Math.floor(capacity / 4));
}

/**
 * The local consumer. Takes ready messages per target origin (never more than the origin's gate
 * allows, so a hanging target's backlog cannot fill the read window) and hands each to
 * `handle`, which records its outcome per message: after a crash only the messages in flight are
 * delivered again. A message whose outcome could not be recorded at all is not handled again by
 * this process, because its target may already have been called.
 */
export class DeliveryLoop {
  private readonly handling = new Map<string, { origin: string; done: Promise<void> }>();
  private readonly inHandByOrigin = new Map<string, number>();
  /** Messages not to take before a time (Infinity: not in this process). */
  private readonly waitUntil = new Map<string, { at: number; delay: number }>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private nextOrigin = 0;

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly handle: (record: StreamRecord) => Promise<void>,
    private readonly options: DeliveryLoopOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** New work may be ready (an append, a due retry, a released key): look now. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Starts no new delivery, then waits up to `graceMs` for the ones in flight, reporting what is
   * left every second. Resolves with how many were still in flight at the deadline.
   */
  async stop(graceMs: number, progress?: (inFlight: number) => void): Promise<number> {
    this.running = false;
    this.wake();
    await this.loop;
    const deadline = Date.now() + graceMs;
    while (this.handling.size > 0 && Date.now() < deadline) {
      progress?.(this.handling.size);
      const tick = new Promise((resolve) => setTimeout(resolve, Math.min(1000, deadline - Date.now())));
      await Promise.race([Promise.allSettled([...this.handling.values()].map((h) => h.done)), tick]);
    }
    return this.handling.size;
  }

  get inFlight(): number {
    return this.handling.size;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let started = 0;
      try {
        started = await this.fill();
      } catch (error) {
        this.options.log.error('consumer.read_failed', { error: String(error) });
      }
      if (started === 0 && !this.woken) await this.sleep();
    }
  }

  /**
   * Starts as many ready messages as the limits allow, taking origins in turn; returns how many. An
   * origin is read once a quarter of its slots are free (or none is busy), so a busy target is read
   * in batches rather than once per finished message.
   */
  private async fill(): Promise<number> {
    let room = this.options.concurrency - this.handling.size;
    if (room <= 0) return 0;
    const origins = await this.queue.origins();
    let started = 0;
    for (let turn = 0; turn < origins.length && room > 0; turn++) {
      const origin = origins[(this.nextOrigin + turn) % origins.length] as string;
      const busy = this.inHandByOrigin.get(origin) ?? 0;
      const capacity = this.options.gate.capacity(origin);
      const free = Math.min(capacity - busy, room);
      if (free <= 0 || (busy > 0 && free < lowWater(capacity))) continue;
      const exclude = [...this.handling.keys(), ...this.idsWaiting()];
      for (const record of await this.queue.ready(origin, free, exclude)) {
        this.begin(origin, record);
        room -= 1;
        started += 1;
      }
    }
    this.nextOrigin = origins.length === 0 ? 0 : (this.nextOrigin + 1) % origins.length;
    return started;
  }

  private idsWaiting(): string[] {
    const now = Date.now();
    return [...this.waitUntil].filter(([, wait]) => wait.at > now).map(([id]) => id);
  }

  private begin(origin: string, record: StreamRecord): void {
    const id = record.body.id;
    this.options.gate.started(origin);
    this.inHandByOrigin.set(origin, (this.inHandByOrigin.get(origin) ?? 0) + 1);
    const done = this.handle(record).then(
      () => void this.waitUntil.delete(id),
      (error: unknown) => this.holdBack(record, error),
    );
    this.handling.set(id, {
      origin,
      done: done.finally(() => {
        this.handling.delete(id);
        const left = (this.inHandByOrigin.get(origin) ?? 1) - 1;
        if (left === 0) this.inHandByOrigin.delete(origin);
        else this.inHandByOrigin.set(origin, left);
        this.wake();
      }),
    });
  }

  private holdBack(record: StreamRecord, error: unknown): void {
    const id = record.body.id;
    if (error instanceof OutcomeNotDurableError) {
      this.waitUntil.set(id, { at: Infinity, delay: 0 });
      this.options.log.error('consumer.outcome_lost', {
        id,
        error: String(error),
        message:
          'not delivered again by this process; after a restart it is (its target may have been called)',
      });
      return;
    }
    const delay = Math.min(
      (this.waitUntil.get(id)?.delay ?? this.options.retryDelayMs / 2) * 2,
      MAX_RETRY_DELAY_MS,
    );
    this.waitUntil.set(id, { at: Date.now() + delay, delay });
    this.options.log.error('consumer.handle_failed', { id, error: String(error), retryInMs: delay });
    setTimeout(() => this.wake(), delay).unref();
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
