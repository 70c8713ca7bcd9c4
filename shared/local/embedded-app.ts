import { join } from 'node:path';
import { FileArchive } from '../adapters/local/file-archive';
import { LocalAlerts } from '../adapters/local/local-alerts';
import { openDatabase } from '../adapters/local/sqlite-database';
import { SqliteDeliveryQueue } from '../adapters/local/sqlite-delivery-queue';
import { SqliteMessageStates } from '../adapters/local/sqlite-message-states';
import { SqliteRetention } from '../adapters/local/sqlite-retention';
import { loadOrCreateKey, SqliteSecretStore } from '../adapters/local/sqlite-secret-store';
import { SqliteTargetPauses } from '../adapters/local/sqlite-target-pauses';
import { SqliteStream } from '../adapters/local/sqlite-stream';
import type { HttpApi } from '../api/http-api';
import type { StatusReport } from '../api/status-report';
import { PipelineAssembly } from '../assembly/pipeline-assembly';
import type { Config } from '../config/config';
import { offsetToJson } from '../contract/offset';
import { DeliveryLoop } from '../pipeline/delivery-loop';
import { dispatch } from '../pipeline/dispatch';
import type { Logger } from '../pipeline/ports';
import { CachedSecretStore } from '../pipeline/secret-cache';

/** How often due automatic retries are made ready again. */
const RELEASE_INTERVAL_MS = 250;
const RECENT_FAILURES = 5;

/** The whole pipeline on embedded backends: SQLite stream, states and secrets, file archive, local alerts. */
export class EmbeddedApp {
  readonly api: HttpApi;
  readonly stream: SqliteStream;
  readonly states: SqliteMessageStates;
  private readonly queue: SqliteDeliveryQueue;
  private readonly retention: SqliteRetention;
  private readonly consumer: DeliveryLoop;
  private readonly assembly: PipelineAssembly;
  private readonly alerts: LocalAlerts;
  private readonly db;
  private readonly secretStore: SqliteSecretStore;
  private readonly secrets: CachedSecretStore;
  private readonly stopAppendListener: () => void;
  private readonly pauses: SqliteTargetPauses;
  /** Paused target origins (from the database at start), and since when. */
  private readonly paused: Map<string, Date>;
  /** Held keys already alerted, as `key/head`, so each hold alerts once per process. */
  private readonly alertedHolds = new Set<string>();
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    const dataDir = config.local.dataDir;
    this.db = openDatabase(join(dataDir, 'datasync.db'), { exclusive: true });
    this.states = new SqliteMessageStates(this.db, config.mainStream);
    this.stream = new SqliteStream(this.db, this.states.registerAppended);
    this.queue = new SqliteDeliveryQueue(this.db, config.mainStream);
    this.retention = new SqliteRetention(this.db);
    const key = loadOrCreateKey(join(dataDir, 'secrets.key'), config.local.secretKey);
    this.secretStore = new SqliteSecretStore(this.db, key);
    this.secrets = new CachedSecretStore(this.secretStore, config.secretCacheTtlMs);
    this.assembly = new PipelineAssembly(config);
    this.alerts = new LocalAlerts(this.stream, log);
    const backends = {
      stream: this.stream,
      states: this.states,
      secrets: this.secrets,
      archive: new FileArchive(join(dataDir, 'archive')),
      alerts: this.alerts,
    };
    const dispatchDeps = this.assembly.dispatchDeps(backends, log);
    this.pauses = new SqliteTargetPauses(this.db);
    this.paused = this.pauses.all();
    this.api = this.assembly.api(backends, () => this.status(), log, {
      onRelease: () => this.consumer.wake(),
      targets: {
        pause: async (origin) => {
          this.pauses.pause(origin);
          if (!this.paused.has(origin)) this.paused.set(origin, new Date());
        },
        resume: async (origin) => this.pauses.resume(origin) && this.paused.delete(origin),
      },
    });
    const pacing = this.assembly.pacing;
    this.consumer = new DeliveryLoop(
      this.queue,
      async (record) => {
        await dispatch(dispatchDeps, record, { autoRetry: true });
      },
      {
        concurrency: config.dispatch.concurrency,
        gate: {
          capacity: (origin) => (this.paused.has(origin) ? 0 : pacing.of(origin).capacity()),
          started: (origin) => pacing.of(origin).started(),
        },
        pollMs: 500,
        retryDelayMs: 1000,
        log,
      },
    );
    this.stopAppendListener = this.stream.onAppend((stream) => {
      if (stream === config.mainStream) this.consumer.wake();
    });
  }

  async start(): Promise<void> {
    if (!this.secretStore.keyOpensStoredSecrets()) {
      this.log.warn('secrets.key_mismatch', {
        message:
          'the secret key does not open the stored credentials (lost key file or changed DATASYNC_SECRET_KEY): messages that need them are parked as undecryptableSecret until the credential is sent again',
      });
    }
    if (this.config.local.dispatchPaused) {
      this.log.warn('dispatch.paused', {
        message: 'DATASYNC_DISPATCH_PAUSED=true: messages are accepted and kept, not delivered',
      });
    } else {
      this.consumer.start();
    }
    this.releaseTimer = setInterval(() => this.releaseDueRetries(), RELEASE_INTERVAL_MS);
  }

  /**
   * Starts no new delivery and gives the ones in flight `graceMs` to finish and record their outcome
   * (reporting progress). Resolves with how many were cut off: they are delivered again after a restart.
   */
  async drain(graceMs: number, progress?: (inFlight: number) => void): Promise<number> {
    clearInterval(this.releaseTimer);
    this.stopAppendListener();
    return this.consumer.stop(graceMs, progress);
  }

  /** Closes connections and the database; call after `drain` and once no request is served. */
  close(): void {
    this.assembly.close();
    this.states.flush();
    this.db.close();
  }

  async stop(graceMs: number): Promise<number> {
    const cutOff = await this.drain(graceMs);
    this.close();
    return cutOff;
  }

  private releaseDueRetries(): void {
    try {
      if (this.queue.releaseDue() > 0) this.consumer.wake();
    } catch (error) {
      this.log.error('retry.release_failed', { error: String(error) });
    }
  }

  /**
   * The minute's housekeeping: retention, idle secrets, alerts for keys held too long, and a gauges
   * log line for dashboards. Never throws: a failure is logged and tried again next time.
   */
  async housekeeping(): Promise<void> {
    try {
      const expired = this.retention.expire(this.config.retentionMs, this.config.idempotencyWindowMs);
      const idleDays = this.config.local.secretMaxIdleDays;
      const secrets =
        idleDays > 0 ? this.secretStore.deleteIdleSince(new Date(Date.now() - idleDays * 86_400_000)) : 0;
      if (secrets > 0) this.log.info('secrets.deleted_idle', { count: secrets, idleDays });
      if (expired.records + expired.states > 0) this.log.info('retention.expired', expired);
      await this.alertLongHolds();
      const status = await this.status();
      this.log.info('status.gauges', {
        backlog: status.consumer.backlog,
        inFlight: status.consumer.inFlight,
        scheduledRetries: status.consumer.scheduledRetries,
        openFailures: status.streams.reduce((sum, stream) => sum + (stream.openFailures ?? 0), 0),
        heldKeys: status.heldKeys.keys,
        heldMessages: status.heldKeys.messages,
      });
    } catch (error) {
      this.log.error('housekeeping.failed', { error: String(error) });
    }
  }

  private async alertLongHolds(): Promise<void> {
    const threshold = Date.now() - this.config.heldAlertMs;
    for (const held of await this.states.heldKeys(1000)) {
      const id = `${held.streamKey}/${held.head}`;
      if (held.since.getTime() > threshold || this.alertedHolds.has(id)) continue;
      await this.alerts.publishHeldKey(held);
      this.alertedHolds.add(id);
    }
  }

  private targetReport(origin: string, inFlight: number, queued: number): StatusReport['targets'][number] {
    const pacer = this.assembly.pacing.of(origin);
    const pausedSince = this.paused.get(origin);
    if (pausedSince) {
      return {
        origin,
        inFlight,
        queued,
        limit: 0,
        state: 'paused',
        reason: `paused since ${pausedSince.toISOString()}`,
      };
    }
    const state = pacer.state;
    return {
      origin,
      inFlight,
      queued,
      limit: pacer.capacity(),
      state,
      ...(pacer.reason ? { reason: pacer.reason } : {}),
      ...(state === 'open' || state === 'throttled'
        ? { until: new Date(pacer.waitUntil).toISOString() }
        : {}),
    };
  }

  async status(): Promise<StatusReport> {
    const routing = this.assembly.routing;
    const errorStreamNames = new Set(routing.streams());
    const streams = this.stream.summaries();
    const openFailures = this.states.openFailures();
    const errorStreams = streams.filter((summary) => errorStreamNames.has(summary.stream));
    const passes = await Promise.all(errorStreams.map((summary) => this.states.replayPass(summary.stream)));
    const failures = await Promise.all(
      errorStreams.map((summary) => this.stream.latest(summary.stream, RECENT_FAILURES)),
    );
    const held = this.states.heldTotals();
    const queued = this.queue.queuedByOrigin();
    const inFlight = this.assembly.inFlight.byOrigin();
    const paced = [...this.assembly.pacing.entries()].map(([origin]) => origin);
    const origins = [
      ...new Set([...queued.keys(), ...inFlight.keys(), ...this.paused.keys(), ...paced]),
    ].sort();
    return {
      streams: streams.map((summary) => {
        const pass = passes[errorStreams.indexOf(summary)];
        return {
          stream: summary.stream,
          lastOffset: offsetToJson(summary.lastOffset),
          retained: summary.retained,
          ...(errorStreamNames.has(summary.stream)
            ? {
                errorStream: true,
                unrecoverable: routing.isUnrecoverable(summary.stream),
                openFailures: openFailures.get(summary.stream) ?? 0,
                ...(pass ? { replayPosition: offsetToJson(pass.position) } : {}),
              }
            : {}),
        };
      }),
      consumer: {
        stream: this.config.mainStream,
        ...this.queue.counts(),
        inFlight: this.consumer.inFlight,
      },
      heldKeys: {
        keys: held.keys,
        messages: held.messages,
        ...(held.oldestSince ? { oldestSince: held.oldestSince.toISOString() } : {}),
      },
      secretStoreCalls: { ...this.secrets.backendCalls },
      targets: origins.map((origin) =>
        this.targetReport(origin, inFlight.get(origin) ?? 0, queued.get(origin) ?? 0),
      ),
      recentFailures: failures
        .flat()
        .sort((a, b) => b.enqueuedAt.getTime() - a.enqueuedAt.getTime())
        .slice(0, RECENT_FAILURES * 2)
        .map((record) => ({
          stream: record.stream,
          offset: offsetToJson(record.offset),
          id: record.body.id,
          target: new URL(record.body.streamMessage.targetRestApi).origin,
          attempt: record.body.attempt,
          reason: record.body.failure?.reason,
          status: record.body.failure?.status,
          routedBy: record.body.failure?.routedBy,
          at: record.body.failure?.at,
        })),
    };
  }
}
