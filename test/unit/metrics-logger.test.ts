import { MetricsLogger } from '../../shared/metrics/metrics-logger';
import { PrometheusMetrics } from '../../shared/metrics/prometheus-metrics';
import type { StatusReport } from '../../shared/api/status-report';
import { RecordingLogger } from '../helpers/recording-logger';

/** The value of one sample line of the Prometheus text, e.g. `datasync_failed_total{stream="x",reason="http"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

const status: StatusReport = {
  streams: [
    { stream: 'datasync', retained: 7 },
    { stream: 'datasync-error-503', retained: 4, errorStream: true, openFailures: 3 },
  ],
  consumer: { stream: 'datasync', backlog: 5, inFlight: 2, scheduledRetries: 1 },
  heldKeys: { keys: 1, messages: 6 },
  secretStoreCalls: { reads: 0, writes: 0 },
  targets: [{ origin: 'https://api.example.com', inFlight: 2, queued: 9 }],
  recentFailures: [],
};

describe('MetricsLogger', () => {
  let log: RecordingLogger;
  let metrics: PrometheusMetrics;
  let logger: MetricsLogger;

  beforeEach(() => {
    log = new RecordingLogger();
    metrics = new PrometheusMetrics(async () => status, log);
    logger = new MetricsLogger(log, metrics);
  });

  it('passes every event on to the logger it wraps, unchanged', () => {
    logger.info('sync.accepted', { stream: 'datasync', count: 3 });
    logger.warn('sync.failed', { id: 'a', reason: 'http', errorStream: 'datasync-error-503' });
    logger.error('host.other', { detail: 'x' });

    expect(log.lines).toEqual([
      { level: 'info', event: 'sync.accepted', fields: { stream: 'datasync', count: 3 } },
      {
        level: 'warn',
        event: 'sync.failed',
        fields: { id: 'a', reason: 'http', errorStream: 'datasync-error-503' },
      },
      { level: 'error', event: 'host.other', fields: { detail: 'x' } },
    ]);
  });

  it('counts accepted, delivered, failed by stream and reason, retries and replays from the log events', async () => {
    logger.info('sync.accepted', { stream: 'datasync', count: 3 });
    logger.info('sync.accepted', { stream: 'datasync', count: 2 });
    const origin = 'https://api.example.com';
    logger.info('sync.delivered', { id: 'a', origin, status: 200, attempt: 1, durationMs: 40 });
    logger.info('sync.delivered', { id: 'b', origin, status: 201, attempt: 1, durationMs: 700 });
    logger.warn('sync.failed', {
      id: 'c',
      origin,
      reason: 'http',
      status: 503,
      errorStream: 'datasync-error-503',
    });
    logger.warn('sync.failed', { id: 'd', origin, reason: 'timeout', errorStream: 'datasync-error-503' });
    logger.warn('sync.failed', {
      id: 'e',
      origin,
      reason: 'http',
      status: 503,
      errorStream: 'datasync-error-503',
    });
    logger.warn('sync.retry_scheduled', { id: 'f', origin, reason: 'network', attempt: 1, retry: 1 });
    logger.info('replay.done', { stream: 'datasync-error-503', processed: 4, failed: 1, skipped: 2 });

    const text = await metrics.scrape();

    expect(sample(text, 'datasync_ingested_total{stream="datasync"}')).toBe(5);
    expect(sample(text, `datasync_delivered_total{origin="${origin}"}`)).toBe(2);
    expect(sample(text, 'datasync_failed_total{stream="datasync-error-503",reason="http"}')).toBe(2);
    expect(sample(text, 'datasync_failed_total{stream="datasync-error-503",reason="timeout"}')).toBe(1);
    expect(sample(text, 'datasync_retries_scheduled_total{reason="network"}')).toBe(1);
    expect(sample(text, 'datasync_replayed_total{stream="datasync-error-503",outcome="delivered"}')).toBe(4);
    expect(sample(text, 'datasync_replayed_total{stream="datasync-error-503",outcome="failed"}')).toBe(1);
    expect(sample(text, 'datasync_replayed_total{stream="datasync-error-503",outcome="skipped"}')).toBe(2);
  });

  it('puts each delivery duration into the latency histogram of its origin', async () => {
    const origin = 'https://api.example.com';
    logger.info('sync.delivered', { id: 'a', origin, durationMs: 40 });
    logger.info('sync.delivered', { id: 'b', origin, durationMs: 700 });

    const text = await metrics.scrape();

    const bucket = (le: string) =>
      sample(text, `datasync_delivery_duration_seconds_bucket{le="${le}",origin="${origin}"}`);
    expect(bucket('0.025')).toBe(0);
    expect(bucket('0.05')).toBe(1);
    expect(bucket('0.5')).toBe(1);
    expect(bucket('1')).toBe(2);
    expect(sample(text, `datasync_delivery_duration_seconds_count{origin="${origin}"}`)).toBe(2);
    expect(sample(text, `datasync_delivery_duration_seconds_sum{origin="${origin}"}`)).toBeCloseTo(0.74);
  });

  it('reads held keys, in-flight per target, backlog and open failures from the status at scrape time', async () => {
    const text = await metrics.scrape();

    expect(sample(text, 'datasync_open_failures{stream="datasync-error-503"}')).toBe(3);
    expect(sample(text, 'datasync_open_failures{stream="datasync"}')).toBeUndefined();
    expect(sample(text, 'datasync_stream_retained{stream="datasync"}')).toBe(7);
    expect(sample(text, 'datasync_consumer_backlog')).toBe(5);
    expect(sample(text, 'datasync_consumer_in_flight')).toBe(2);
    expect(sample(text, 'datasync_scheduled_retries')).toBe(1);
    expect(sample(text, 'datasync_held_keys')).toBe(1);
    expect(sample(text, 'datasync_held_messages')).toBe(6);
    expect(sample(text, 'datasync_target_in_flight{origin="https://api.example.com"}')).toBe(2);
    expect(sample(text, 'datasync_target_queued{origin="https://api.example.com"}')).toBe(9);
  });

  it('still answers the counters when the status cannot be read, and logs why', async () => {
    metrics = new PrometheusMetrics(async () => {
      throw new Error('database is locked');
    }, log);
    new MetricsLogger(log, metrics).info('sync.accepted', { stream: 'datasync', count: 1 });

    const text = await metrics.scrape();

    expect(sample(text, 'datasync_ingested_total{stream="datasync"}')).toBe(1);
    expect(sample(text, 'datasync_stream_retained{stream="datasync"}')).toBeUndefined();
    expect(log.events('metrics.status_failed')[0]?.fields.error).toContain('database is locked');
  });
});
