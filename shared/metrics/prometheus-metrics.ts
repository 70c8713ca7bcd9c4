import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../pipeline/ports';
import type { SyncMetrics } from './metrics-logger';
import type { StatusReport } from '../api/status-report';
import { gaugeSamples, type GaugeName } from './gauge-samples';

/** Delivery latency buckets in seconds: a fast local target to the default 30 s deadline. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const GAUGES: Record<GaugeName, { name: string; help: string; labels: string[] }> = {
  streamRetained: {
    name: 'datasync_stream_retained',
    help: 'Messages retained per stream',
    labels: ['stream'],
  },
  openFailures: {
    name: 'datasync_open_failures',
    help: 'Failures not yet handled per error stream',
    labels: ['stream'],
  },
  consumerBacklog: {
    name: 'datasync_consumer_backlog',
    help: 'Messages accepted, not yet dispatched',
    labels: [],
  },
  consumerInFlight: { name: 'datasync_consumer_in_flight', help: 'Messages being dispatched', labels: [] },
  scheduledRetries: {
    name: 'datasync_scheduled_retries',
    help: 'Automatic retries waiting for their time',
    labels: [],
  },
  heldKeys: { name: 'datasync_held_keys', help: 'Stream keys held behind a failed head', labels: [] },
  heldMessages: { name: 'datasync_held_messages', help: 'Messages held behind a failed head', labels: [] },
  targetInFlight: {
    name: 'datasync_target_in_flight',
    help: 'Calls in flight per target origin',
    labels: ['origin'],
  },
  targetQueued: {
    name: 'datasync_target_queued',
    help: 'Calls queued per target origin',
    labels: ['origin'],
  },
};

/**
 * The pipeline's metrics in a prom-client registry: counters and the latency histogram fed by
 * `MetricsLogger`, gauges set from the status report when Prometheus scrapes.
 */
export class PrometheusMetrics implements SyncMetrics {
  readonly contentType: string;
  private readonly registry = new Registry();
  private readonly ingested = new Counter({
    name: 'datasync_ingested_total',
    help: 'Sync requests accepted',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  private readonly deliveredTotal = new Counter({
    name: 'datasync_delivered_total',
    help: 'Messages delivered to their target',
    labelNames: ['origin'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'datasync_delivery_duration_seconds',
    help: 'Target call duration of delivered messages',
    labelNames: ['origin'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly failedTotal = new Counter({
    name: 'datasync_failed_total',
    help: 'Messages routed to an error stream',
    labelNames: ['stream', 'reason'],
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'datasync_retries_scheduled_total',
    help: 'Automatic retries scheduled after a transient failure',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'datasync_replayed_total',
    help: 'Messages handled by replays, by outcome',
    labelNames: ['stream', 'outcome'],
    registers: [this.registry],
  });
  private readonly gauges: Record<GaugeName, Gauge>;

  constructor(
    private readonly status: () => Promise<StatusReport>,
    private readonly log: Logger,
  ) {
    this.contentType = this.registry.contentType;
    collectDefaultMetrics({ register: this.registry, prefix: 'datasync_' });
    this.gauges = Object.fromEntries(
      Object.entries(GAUGES).map(([key, spec]) => [
        key,
        new Gauge({ name: spec.name, help: spec.help, labelNames: spec.labels, registers: [this.registry] }),
      ]),
    ) as Record<GaugeName, Gauge>;
  }

  accepted(stream: string, count: number): void {
    this.ingested.inc({ stream }, count);
  }

  delivered(origin: string, durationMs: number | undefined): void {
    this.deliveredTotal.inc({ origin });
    if (durationMs !== undefined) this.latency.observe({ origin }, durationMs / 1000);
  }

  failed(stream: string, reason: string): void {
    this.failedTotal.inc({ stream, reason });
  }

  retryScheduled(reason: string): void {
    this.retries.inc({ reason });
  }

  replayed(stream: string, delivered: number, failed: number, skipped: number): void {
    this.replays.inc({ stream, outcome: 'delivered' }, delivered);
    this.replays.inc({ stream, outcome: 'failed' }, failed);
    this.replays.inc({ stream, outcome: 'skipped' }, skipped);
  }

  /** The Prometheus text exposition, with the gauges read from the status report now. */
  async scrape(): Promise<string> {
    for (const gauge of Object.values(this.gauges)) gauge.reset();
    try {
      const samples = gaugeSamples(await this.status());
      for (const [key, values] of Object.entries(samples)) {
        const gauge = this.gauges[key as GaugeName];
        for (const sample of values) gauge.set(sample.labels, sample.value);
      }
    } catch (error) {
      this.log.error('metrics.status_failed', { error: String(error) });
    }
    return this.registry.metrics();
  }
}
