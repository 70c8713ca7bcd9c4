import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { HttpTarget } from '../../shared/adapters/http/http-target';
import { FileArchive } from '../../shared/adapters/local/file-archive';
import { LocalAlerts } from '../../shared/adapters/local/local-alerts';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteSecretStore } from '../../shared/adapters/local/sqlite-secret-store';
import { SqliteDeliveryQueue } from '../../shared/adapters/local/sqlite-delivery-queue';
import { SqliteMessageStates } from '../../shared/adapters/local/sqlite-message-states';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import type { StatusReport } from '../../shared/api/status-report';
import type { Envelope } from '../../shared/contract/envelope';
import type { StreamRecord } from '../../shared/pipeline/ports';
import { DEFAULT_SYNC_LIMITS } from '../../shared/contract/sync-request';
import type { ConnectionDeps } from '../../shared/pipeline/connections';
import type { DispatchDeps, FailureOrder } from '../../shared/pipeline/dispatch';
import { DEFAULT_ERROR_MAPPING, ErrorRouting } from '../../shared/pipeline/error-routing';
import type { PopulateDeps } from '../../shared/pipeline/populate';
import { Credentials } from '../../shared/pipeline/credentials';
import { OAuthTokens } from '../../shared/pipeline/oauth-tokens';
import { InFlight } from '../../shared/pipeline/in-flight';
import { TargetPolicy, type TargetPolicyOptions } from '../../shared/pipeline/target-policy';
import { RecordingLogger } from './recording-logger';

export interface PipelineOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  autoRetries?: number;
  policy?: TargetPolicyOptions;
  onFailure?: FailureOrder;
}

/** The pipeline on the real embedded adapters (SQLite in a temp dir, real HTTP), for one test. */
export class EmbeddedPipeline {
  readonly dir = mkdtempSync(join(tmpdir(), 'datasync-test-'));
  readonly db: Database.Database = openDatabase(join(this.dir, 'datasync.db'));
  readonly states = new SqliteMessageStates(this.db, 'datasync');
  readonly stream = new SqliteStream(this.db, this.states.registerAppended);
  readonly queue = new SqliteDeliveryQueue(this.db, 'datasync');
  readonly secrets = new SqliteSecretStore(this.db, Buffer.alloc(32, 7));
  readonly log = new RecordingLogger();
  readonly policy: TargetPolicy;
  readonly target: HttpTarget;
  readonly populateDeps: PopulateDeps;
  readonly dispatchDeps: DispatchDeps;
  readonly connectionDeps: ConnectionDeps;

  constructor(options: PipelineOptions = {}) {
    this.policy = new TargetPolicy(options.policy ?? { allowlist: ['*'], allowPrivate: true });
    this.target = new HttpTarget({
      timeoutMs: options.timeoutMs ?? 2000,
      policy: this.policy,
      maxSocketsPerHost: 8,
    });
    this.populateDeps = {
      stream: this.stream,
      states: this.states,
      secrets: this.secrets,
      mainStream: 'datasync',
      limits: { ...DEFAULT_SYNC_LIMITS, maxBatch: 100, maxMessageBytes: 256 * 1024 },
      targetPolicy: this.policy,
      log: this.log,
    };
    this.dispatchDeps = {
      stream: this.stream,
      states: this.states,
      inFlight: new InFlight(),
      onFailure: options.onFailure ?? 'hold',
      durability: { firstDelayMs: 10, boundMs: 200 },
      secrets: this.secrets,
      archive: new FileArchive(join(this.dir, 'archive')),
      alerts: new LocalAlerts(this.stream, this.log),
      target: this.target,
      credentials: new Credentials(new OAuthTokens(this.target)),
      routing: new ErrorRouting(DEFAULT_ERROR_MAPPING),
      retry: { autoRetries: options.autoRetries ?? 0, baseDelayMs: 50, maxDelayMs: 1000 },
      maxAttempts: options.maxAttempts ?? 10,
      log: this.log,
    };
    this.connectionDeps = { secrets: this.secrets, targetPolicy: this.policy, maxName: 127, log: this.log };
  }

  /** A status report of this pipeline (what the hosts build from the same adapters). */
  async status(): Promise<StatusReport> {
    return {
      streams: this.stream.summaries().map((summary) => ({
        stream: summary.stream,
        lastOffset: Number(summary.lastOffset),
        retained: summary.retained,
      })),
      consumer: { stream: 'datasync', ...this.queue.counts(), inFlight: 0 },
      heldKeys: { keys: 0, messages: 0 },
      secretStoreCalls: { reads: 0, writes: 0 },
      targets: [],
      recentFailures: [],
    };
  }

  /**
   * Puts messages where a failed delivery leaves them: accepted on the main stream, then failed to
   * `stream` with that record as their current location. Returns the error-stream records.
   */
  async seedFailures(stream: string, envelopes: Envelope[]): Promise<StreamRecord[]> {
    await this.stream.append('datasync', envelopes);
    const appended = await this.stream.append(
      stream,
      envelopes.map((envelope) => ({ ...envelope, attempt: envelope.attempt + 1 })),
    );
    for (const { id, offset } of appended) {
      const streamKey = envelopes.find((envelope) => envelope.id === id)?.streamKey ?? '';
      await this.states.record({
        id,
        streamKey,
        attempt: { attempt: 1, at: new Date().toISOString(), outcome: 'failed', stream, offset },
        next: { state: 'failed', location: { stream, offset } },
        holdKey: false,
      });
    }
    const records = await this.stream.readAfter(stream, -1n, 100_000);
    const ids = new Set(appended.map((item) => item.id));
    return records.filter((record) => ids.has(record.body.id));
  }

  async all(stream: string) {
    return this.stream.readAfter(stream, -1n, 10_000);
  }

  close(): void {
    this.target.close();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
