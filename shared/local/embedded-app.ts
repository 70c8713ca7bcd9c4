import { LocalAlerts } from '../adapters/local/local-alerts';
import type { HttpApi, TargetControl } from '../api/http-api';
import { gaugeLogFields, type StatusReport } from '../api/status-report';
import type { Host } from '../assembly/host';
import { PipelineAssembly } from '../assembly/pipeline-assembly';
import type { LocalConfig } from '../config/config';
import { DeliveryLoop } from '../pipeline/delivery-loop';
import { dispatch, type DispatchDeps } from '../pipeline/dispatch';
import type { Logger } from '../pipeline/ports';
import { EmbeddedBackends } from './embedded-backends';
import { localStatus } from './local-status';

/** How often due automatic retries are made ready again. */
const RELEASE_INTERVAL_MS = 250;

/** The local host: the pipeline on embedded backends, with its own consumer (`DeliveryLoop`). */
export class EmbeddedApp implements Host {
  readonly mainStream: string;
  readonly backends: EmbeddedBackends;
  private readonly assembly: PipelineAssembly;
  private readonly consumerDeps: DispatchDeps;
  private readonly consumer: DeliveryLoop;
  private readonly alerts: LocalAlerts;
  private readonly targets: TargetControl;
  private readonly stopAppendListener: () => void;
  /** Paused target origins (from the database at start), and since when. */
  private readonly paused: Map<string, Date>;
  /** Held keys already alerted, as `key/head`, so each hold alerts once per process. */
  private readonly alertedHolds = new Set<string>();
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: LocalConfig,
    private readonly log: Logger,
  ) {
    this.mainStream = config.mainStream;
    this.backends = new EmbeddedBackends(config, { exclusive: true });
    this.assembly = new PipelineAssembly(config);
    this.alerts = new LocalAlerts(this.backends.stream, log);
    this.consumerDeps = this.assembly.consumerDeps(this.backends.backends(log), log);
    const pauses = this.backends.pauses;
    this.paused = pauses.all();
    this.targets = {
      pause: async (origin) => {
        pauses.pause(origin);
        if (!this.paused.has(origin)) this.paused.set(origin, new Date());
      },
      resume: async (origin) => pauses.resume(origin) && this.paused.delete(origin),
    };
    const pacing = this.assembly.pacing;
    this.consumer = new DeliveryLoop(
      this.backends.queue,
      async (record) => {
        await dispatch(this.consumerDeps, record);
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
    this.stopAppendListener = this.backends.stream.onAppend((stream) => {
      if (stream === config.mainStream) this.consumer.wake();
    });
  }

  get stream() {
    return this.backends.stream;
  }

  get states() {
    return this.backends.states;
  }

  /** The HTTP endpoints; `log` defaults to the process logger. */
  api(log: Logger = this.log): HttpApi {
    return this.assembly.api(this.backends.backends(log), () => this.status(), log, {
      onRelease: () => this.consumer.wake(),
      targets: this.targets,
      apiKey: this.config.local.apiKey,
    });
  }

  async start(): Promise<void> {
    if (!this.backends.secretStore.keyOpensStoredSecrets()) {
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
  async close(): Promise<void> {
    this.assembly.close();
    this.backends.close();
  }

  async stop(graceMs: number): Promise<number> {
    const cutOff = await this.drain(graceMs);
    await this.close();
    return cutOff;
  }

  private releaseDueRetries(): void {
    try {
      if (this.backends.queue.releaseDue() > 0) this.consumer.wake();
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
      const expired = this.backends.retention.expire(
        this.config.retentionMs,
        this.config.idempotencyWindowMs,
      );
      const idleDays = this.config.local.secretMaxIdleDays;
      const secrets =
        idleDays > 0
          ? this.backends.secretStore.deleteIdleSince(new Date(Date.now() - idleDays * 86_400_000))
          : 0;
      if (secrets > 0) this.log.info('secrets.deleted_idle', { count: secrets, idleDays });
      if (expired.records + expired.states > 0) this.log.info('retention.expired', expired);
      await this.alertLongHolds();
      this.log.info('status.gauges', gaugeLogFields(await this.status()));
    } catch (error) {
      this.log.error('housekeeping.failed', { error: String(error) });
    }
  }

  private async alertLongHolds(): Promise<void> {
    const threshold = Date.now() - this.config.heldAlertMs;
    for (const held of await this.backends.states.heldKeys(1000)) {
      const id = `${held.streamKey}/${held.head}`;
      if (held.since.getTime() > threshold || this.alertedHolds.has(id)) continue;
      await this.alerts.publishHeldKey(held);
      this.alertedHolds.add(id);
    }
  }

  async status(): Promise<StatusReport> {
    return localStatus({
      mainStream: this.mainStream,
      backends: this.backends,
      assembly: this.assembly,
      paused: this.paused,
      consumerInFlight: this.consumer.inFlight,
    });
  }
}
