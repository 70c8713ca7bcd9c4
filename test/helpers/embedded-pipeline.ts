import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpApi } from '../../shared/api/http-api';
import type { StatusReport } from '../../shared/api/status-report';
import { PipelineAssembly } from '../../shared/assembly/pipeline-assembly';
import { loadConfig, type LocalConfig } from '../../shared/config/config';
import type { Envelope } from '../../shared/contract/envelope';
import { EmbeddedBackends } from '../../shared/local/embedded-backends';
import { localStatus } from '../../shared/local/local-status';
import type { ConnectionDeps } from '../../shared/pipeline/connections';
import type { DispatchDeps, FailureOrder } from '../../shared/pipeline/dispatch';
import type { PopulateDeps } from '../../shared/pipeline/populate';
import type { StreamRecord } from '../../shared/pipeline/ports';
import { RecordingLogger } from './recording-logger';

export interface PipelineOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  autoRetries?: number;
  /** `DATASYNC_TARGET_ALLOWLIST` entries; private targets are allowed unless `allowPrivate` is false. */
  allowlist?: string[];
  allowPrivate?: boolean;
  onFailure?: FailureOrder;
  /** More `DATASYNC_*` settings. */
  env?: Record<string, string>;
}

/**
 * The pipeline as the hosts assemble it (`PipelineAssembly`: bulkhead, pacing, credentials) on the
 * embedded backends in a temp data dir, for one test; stages are called directly.
 */
export class EmbeddedPipeline {
  readonly dir = mkdtempSync(join(tmpdir(), 'datasync-test-'));
  readonly log = new RecordingLogger();
  readonly config: LocalConfig;
  readonly backends: EmbeddedBackends;
  readonly assembly: PipelineAssembly;
  readonly populateDeps: PopulateDeps;
  /** The consumer's deliveries (automatic retries per `autoRetries`, none by default). */
  readonly consumerDeps: DispatchDeps;
  /** A replay's deliveries (never automatic retries). */
  readonly replayDeps: DispatchDeps;
  readonly connectionDeps: ConnectionDeps;

  constructor(options: PipelineOptions = {}) {
    this.config = loadConfig(
      {
        DATASYNC_DATA_DIR: this.dir,
        DATASYNC_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
        DATASYNC_TARGET_TIMEOUT_MS: String(options.timeoutMs ?? 2000),
        DATASYNC_MAX_ATTEMPTS: String(options.maxAttempts ?? 10),
        DATASYNC_AUTO_RETRIES: String(options.autoRetries ?? 0),
        DATASYNC_RETRY_BASE_MS: '50',
        DATASYNC_RETRY_MAX_DELAY_MS: '1000',
        DATASYNC_STORAGE_RETRY_BOUND_MS: '200',
        DATASYNC_MAX_BATCH: '100',
        DATASYNC_ON_FAILURE_ORDER: options.onFailure ?? 'hold',
        DATASYNC_TARGET_ALLOWLIST: (options.allowlist ?? ['*']).join(','),
        DATASYNC_ALLOW_PRIVATE_TARGETS: String(options.allowPrivate ?? true),
        ...options.env,
      },
      'local',
    );
    this.backends = new EmbeddedBackends(this.config, { exclusive: false });
    this.assembly = new PipelineAssembly(this.config);
    const backends = this.backends.backends(this.log);
    this.populateDeps = this.assembly.populateDeps(backends, this.log);
    this.consumerDeps = this.assembly.consumerDeps(backends, this.log);
    this.replayDeps = this.assembly.replayDeps(backends, this.log);
    this.connectionDeps = this.assembly.connectionDeps(backends, this.log);
  }

  get db() {
    return this.backends.db;
  }

  get stream() {
    return this.backends.stream;
  }

  get states() {
    return this.backends.states;
  }

  get queue() {
    return this.backends.queue;
  }

  /** The secret store itself, behind the cache the pipeline reads through. */
  get secrets() {
    return this.backends.secretStore;
  }

  /** The HTTP API as the hosts assemble it (no target pausing: that is the local host's). */
  api(options: { apiKey?: string } = {}): HttpApi {
    return this.assembly.api(this.backends.backends(this.log), () => this.status(), this.log, options);
  }

  /** The local host's status report of this pipeline (no consumer loop runs here). */
  async status(): Promise<StatusReport> {
    return localStatus({
      mainStream: this.config.mainStream,
      backends: this.backends,
      assembly: this.assembly,
      paused: new Map(),
      consumerInFlight: 0,
    });
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
    this.assembly.close();
    if (this.db.open) this.backends.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
