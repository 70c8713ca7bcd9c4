import type { Logger } from '../pipeline/ports';

/** What the pipeline's log events count; implemented by prom-client locally. */
export interface SyncMetrics {
  accepted(stream: string, count: number): void;
  delivered(origin: string, durationMs: number | undefined): void;
  failed(stream: string, reason: string): void;
  retryScheduled(reason: string): void;
  replayed(stream: string, delivered: number, failed: number, skipped: number): void;
}

type Fields = Record<string, unknown>;

const text = (value: unknown, fallback = 'unknown') =>
  typeof value === 'string' && value !== '' ? value : fallback;
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Each log event the metrics derive from, and what it adds. */
const RECORDERS: Record<string, (metrics: SyncMetrics, fields: Fields) => void> = {
  'sync.accepted': (metrics, f) => metrics.accepted(text(f.stream), count(f.count)),
  'sync.delivered': (metrics, f) =>
    metrics.delivered(text(f.origin), typeof f.durationMs === 'number' ? f.durationMs : undefined),
  'sync.failed': (metrics, f) => metrics.failed(text(f.errorStream), text(f.reason)),
  'sync.retry_scheduled': (metrics, f) => metrics.retryScheduled(text(f.reason)),
  'replay.done': (metrics, f) =>
    metrics.replayed(text(f.stream), count(f.processed), count(f.failed), count(f.skipped)),
};

/**
 * A Logger decorator: passes every event on to the real logger and counts the pipeline's sync and
 * replay events, so the pipeline itself carries no metrics code. A metrics fault never loses the log line.
 */
export class MetricsLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly metrics: SyncMetrics,
  ) {}

  info(event: string, fields: Fields = {}): void {
    this.inner.info(event, fields);
    this.record(event, fields);
  }

  warn(event: string, fields: Fields = {}): void {
    this.inner.warn(event, fields);
    this.record(event, fields);
  }

  error(event: string, fields: Fields = {}): void {
    this.inner.error(event, fields);
    this.record(event, fields);
  }

  private record(event: string, fields: Fields): void {
    const recorder = RECORDERS[event];
    if (!recorder) return;
    try {
      recorder(this.metrics, fields);
    } catch (error) {
      this.inner.error('metrics.record_failed', { event, error: String(error) });
    }
  }
}
