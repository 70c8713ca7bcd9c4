/** What one target call showed about its target's health: its answer, or that none came. */
export type CallObservation =
  | { status: number; durationMs: number; retryAfterMs?: number }
  /** No answer: timed out, or the connection failed. */
  | { failed: 'timeout' | 'network' };

export type OriginState = 'closed' | 'open' | 'halfOpen' | 'throttled';

export interface PacingOptions {
  /** The limit a target starts at, and returns to after its breaker closes. */
  initialLimit: number;
  /** Never more than this in flight to one target (DATASYNC_DISPATCH_CONCURRENCY). */
  maxLimit: number;
  /** Failures in a row (timeouts, connection errors, 5xx, 429) that open the breaker. */
  breakerThreshold: number;
  /** First open period; doubled on each failed probe, up to `maxBreakerMs`. */
  breakerMs: number;
  maxBreakerMs: number;
  /** Longest `Retry-After` honoured for the whole origin. */
  maxRetryAfterMs: number;
}

export const DEFAULT_PACING: Omit<
  PacingOptions,
  'initialLimit' | 'maxLimit' | 'breakerThreshold' | 'breakerMs'
> = {
  maxBreakerMs: 5 * 60_000,
  maxRetryAfterMs: 10 * 60_000,
};

/** Latency above this multiple of the best seen counts as the target struggling. */
const LATENCY_TOLERANCE = 2;

/**
 * Adaptive concurrency for one target origin (AIMD, as TCP and Netflix's concurrency-limits do):
 * each answer that is good and not much slower than the best seen adds 1/limit (about one more
 * call per round trip); a 429, 503, timeout, connection failure or a latency blow-up halves it, at
 * most once per round trip. `Retry-After` pauses the whole origin. After `breakerThreshold` failures
 * in a row the breaker opens (no calls), then lets one probe through (half-open) and closes on success.
 */
export class OriginPacer {
  private limitValue: number;
  private bestLatencyMs = Infinity;
  private lastDecrease = 0;
  private failuresInARow = 0;
  private openUntil = 0;
  private openPeriodMs: number;
  private probing = false;
  private throttledUntil = 0;
  /** Why the last calls were held back or the limit fell, for status. */
  reason = '';

  constructor(
    private readonly options: PacingOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.limitValue = options.initialLimit;
    this.openPeriodMs = options.breakerMs;
  }

  get limit(): number {
    return Math.max(1, Math.floor(this.limitValue));
  }

  get state(): OriginState {
    const now = this.now();
    if (this.openUntil > now) return 'open';
    // A Retry-After that outlasts the open period holds the probe back too.
    if (this.throttledUntil > now) return 'throttled';
    if (this.openUntil > 0) return 'halfOpen';
    return 'closed';
  }

  /** When a held-back origin may be called again (0: now). */
  get waitUntil(): number {
    return Math.max(this.openUntil, this.throttledUntil);
  }

  /** How many calls may be in flight now. */
  capacity(): number {
    switch (this.state) {
      case 'open':
      case 'throttled':
        return 0;
      case 'halfOpen':
        return this.probing ? 0 : 1;
      default:
        return this.limit;
    }
  }

  /** A call is about to start (the half-open probe is taken). */
  started(): void {
    if (this.state === 'halfOpen') this.probing = true;
  }

  observe(call: CallObservation): void {
    const now = this.now();
    if ('failed' in call) this.overloaded(now, call.failed);
    else if (call.status === 429 || call.status >= 500) {
      const honoured = call.status === 429 || call.status === 503;
      this.overloaded(now, `HTTP ${call.status}`, honoured ? call.retryAfterMs : undefined);
    } else this.answered(now, call.durationMs);
  }

  private overloaded(now: number, why: string, retryAfterMs?: number): void {
    this.failuresInARow += 1;
    this.decrease(now, why);
    if (retryAfterMs !== undefined) {
      this.throttledUntil = Math.max(
        this.throttledUntil,
        now + Math.min(retryAfterMs, this.options.maxRetryAfterMs),
      );
      // After the halving's `HTTP 429`: this says why calls are held back. A breaker opening now says more.
      this.reason = `Retry-After ${Math.ceil(retryAfterMs / 1000)} s`;
    }
    if (this.probing) this.reopen(now, true);
    else if (this.failuresInARow >= this.options.breakerThreshold) this.reopen(now, false);
  }

  private answered(now: number, durationMs: number): void {
    this.failuresInARow = 0;
    if (this.openUntil > 0) this.close();
    this.bestLatencyMs = Math.min(this.bestLatencyMs, durationMs);
    if (durationMs > this.bestLatencyMs * LATENCY_TOLERANCE && durationMs > 50) {
      this.decrease(now, `latency ${durationMs} ms`);
    } else {
      this.limitValue = Math.min(this.options.maxLimit, this.limitValue + 1 / this.limitValue);
    }
  }

  private decrease(now: number, why: string): void {
    // One halving per round trip: the calls already in flight report the same trouble. Before any
    // answer there is no round trip to go by, and a target failing from the start must still slow us.
    const roundTripMs = Number.isFinite(this.bestLatencyMs) ? this.bestLatencyMs : 0;
    if (now - this.lastDecrease < Math.max(roundTripMs, 10)) return;
    this.lastDecrease = now;
    this.limitValue = Math.max(1, this.limitValue / 2);
    this.reason = why;
  }

  private reopen(now: number, afterProbe: boolean): void {
    if (afterProbe) this.openPeriodMs = Math.min(this.openPeriodMs * 2, this.options.maxBreakerMs);
    this.openUntil = now + this.openPeriodMs;
    this.probing = false;
    this.reason = `${this.failuresInARow} failures in a row`;
  }

  private close(): void {
    this.openUntil = 0;
    this.probing = false;
    this.openPeriodMs = this.options.breakerMs;
    this.limitValue = Math.max(this.limitValue, Math.min(this.options.initialLimit, this.options.maxLimit));
    this.reason = '';
  }
}

/** One pacer per target origin, created on first use. */
export class Pacing {
  private readonly origins = new Map<string, OriginPacer>();

  constructor(private readonly options: PacingOptions) {}

  of(origin: string): OriginPacer {
    let pacer = this.origins.get(origin);
    if (!pacer) {
      pacer = new OriginPacer(this.options);
      this.origins.set(origin, pacer);
    }
    return pacer;
  }

  entries(): IterableIterator<[string, OriginPacer]> {
    return this.origins.entries();
  }
}
