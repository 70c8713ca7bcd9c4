import { join } from 'node:path';
import { FileArchive } from '../adapters/local/file-archive';
import { LocalAlerts } from '../adapters/local/local-alerts';
import { openDatabase } from '../adapters/local/sqlite-database';
import { loadOrCreateKey, SqliteSecretStore } from '../adapters/local/sqlite-secret-store';
import { SqliteStream } from '../adapters/local/sqlite-stream';
import type { HttpApi } from '../api/http-api';
import { PipelineAssembly } from '../assembly/pipeline-assembly';
import type { Config } from '../config/config';
import { offsetToJson } from '../contract/offset';
import { StreamConsumer } from '../pipeline/consumer';
import { dispatch } from '../pipeline/dispatch';
import type { Logger } from '../pipeline/ports';
import { CachedSecretStore } from '../pipeline/secret-cache';

export const CONSUMER_NAME = 'dispatch';
/** How often due automatic retries are moved back onto their stream. */
const RELEASE_INTERVAL_MS = 250;
const RECENT_FAILURES = 5;

/** The whole pipeline on embedded backends: SQLite stream and secrets, file archive, local alerts. */
export class EmbeddedApp {
  readonly api: HttpApi;
  readonly stream: SqliteStream;
  private readonly consumer: StreamConsumer;
  private readonly assembly: PipelineAssembly;
  private readonly db;
  private readonly secretStore: SqliteSecretStore;
  private readonly secrets: CachedSecretStore;
  private readonly stopAppendListener: () => void;
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    const dataDir = config.local.dataDir;
    this.db = openDatabase(join(dataDir, 'datasync.db'));
    this.stream = new SqliteStream(this.db);
    const key = loadOrCreateKey(join(dataDir, 'secrets.key'), config.local.secretKey);
    this.secretStore = new SqliteSecretStore(this.db, key);
    this.secrets = new CachedSecretStore(this.secretStore, config.secretCacheTtlMs);
    this.assembly = new PipelineAssembly(config);
    const backends = {
      stream: this.stream,
      secrets: this.secrets,
      archive: new FileArchive(join(dataDir, 'archive')),
      alerts: new LocalAlerts(this.stream, log),
    };
    const dispatchDeps = this.assembly.dispatchDeps(backends, log);
    this.api = this.assembly.api(backends, () => this.status(), log);
    this.consumer = new StreamConsumer(
      this.stream,
      async (record) => {
        await dispatch(dispatchDeps, record, { autoRetry: true });
      },
      {
        stream: config.mainStream,
        consumer: CONSUMER_NAME,
        // Enough read-ahead that a slow target's messages cannot hold up everything else.
        window: Math.max(1000, config.dispatch.concurrency * 16),
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
    if (this.config.local.dispatchPaused) {
      this.log.warn('dispatch.paused', {
        message: 'DATASYNC_DISPATCH_PAUSED=true: messages are accepted and kept, not delivered',
      });
    } else {
      await this.consumer.start();
    }
    this.releaseTimer = setInterval(() => this.releaseDueRetries(), RELEASE_INTERVAL_MS);
  }

  /** Stops the consumer (in-flight deliveries get `graceMs` to finish), then closes the database. */
  async stop(graceMs: number): Promise<void> {
    clearInterval(this.releaseTimer);
    this.stopAppendListener();
    await this.consumer.stop(graceMs);
    this.assembly.close();
    this.db.close();
  }

  private releaseDueRetries(): void {
    try {
      this.stream.releaseDue();
    } catch (error) {
      this.log.error('retry.release_failed', { error: String(error) });
    }
  }

  /** Housekeeping: messages past the retention, secrets idle past DATASYNC_SECRET_MAX_IDLE_DAYS. */
  expireOldData(): { messages: number; secrets: number } {
    const messages = this.stream.expire(this.config.retentionMs);
    const idleDays = this.config.local.secretMaxIdleDays;
    const secrets =
      idleDays > 0 ? this.secretStore.deleteIdleSince(new Date(Date.now() - idleDays * 86_400_000)) : 0;
    if (secrets > 0) this.log.info('secrets.deleted_idle', { count: secrets, idleDays });
    return { messages, secrets };
  }

  async status() {
    const routing = this.assembly.routing;
    const errorStreamNames = new Set(routing.streams());
    const committed = await this.stream.committedOffset(CONSUMER_NAME, this.config.mainStream);
    const streams = this.stream.summaries();
    const main = streams.find((summary) => summary.stream === this.config.mainStream);
    const errorStreams = streams.filter((summary) => errorStreamNames.has(summary.stream));
    const failures = await Promise.all(
      errorStreams.map((summary) => this.stream.latest(summary.stream, RECENT_FAILURES)),
    );
    return {
      streams: streams.map((summary) => ({
        stream: summary.stream,
        lastOffset: offsetToJson(summary.lastOffset),
        retained: summary.retained,
        ...(errorStreamNames.has(summary.stream)
          ? { errorStream: true, unrecoverable: routing.isUnrecoverable(summary.stream) }
          : {}),
      })),
      consumer: {
        stream: this.config.mainStream,
        committedOffset: offsetToJson(committed),
        lag: main ? Number(main.lastOffset - committed) : 0,
        inFlight: this.consumer.pending,
        scheduledRetries: this.stream.scheduledCount(),
      },
      secretStoreCalls: { ...this.secrets.backendCalls },
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
