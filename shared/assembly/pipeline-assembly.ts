import { HttpTarget } from '../adapters/http/http-target';
import { HttpApi, type TargetControl } from '../api/http-api';
import type { StatusReport } from '../api/status-report';
import type { Config } from '../config/config';
import { BulkheadTarget } from '../pipeline/bulkhead';
import type { ConnectionDeps } from '../pipeline/connections';
import { Credentials } from '../pipeline/credentials';
import { dispatch, type DispatchDeps, type Outcome, type Source } from '../pipeline/dispatch';
import { ErrorRouting } from '../pipeline/error-routing';
import { InFlight } from '../pipeline/in-flight';
import { PacedTarget } from '../pipeline/paced-target';
import { DEFAULT_PACING, Pacing } from '../pipeline/pacing';
import type { MessageStates } from '../pipeline/message-states';
import { OAuthTokens } from '../pipeline/oauth-tokens';
import type { PopulateDeps } from '../pipeline/populate';
import type { Alerts, Archive, Logger, SecretStore, StreamStore, Target } from '../pipeline/ports';
import { TargetPolicy } from '../pipeline/target-policy';

/** The backends a pipeline runs on; everything else comes from the configuration. */
export interface Backends {
  stream: StreamStore;
  states: MessageStates;
  secrets: SecretStore;
  archive: Archive;
  alerts: Alerts;
}

/**
 * Wires the pipeline from the configuration and a set of backends, the same way for the local host
 * and for Azure Functions: one target client (address policy, keep-alive, pacing per origin, an overall
 * limit) and one error
 * routing shared by every call; the logger is per call.
 */
export class PipelineAssembly {
  readonly policy: TargetPolicy;
  readonly routing: ErrorRouting;
  /** Target calls under way in this process (status, message history, replays). */
  readonly inFlight = new InFlight();
  /** Each target origin's adaptive limit, breaker and Retry-After, fed by every call. */
  readonly pacing: Pacing;
  private readonly httpTarget: HttpTarget;
  private readonly target: Target;
  /** Connection tokens are shared by every delivery of the process; token calls skip the bulkheads. */
  private readonly credentials: Credentials;

  constructor(private readonly config: Config) {
    this.policy = new TargetPolicy(config.targets);
    this.routing = new ErrorRouting(config.errorMapping);
    this.httpTarget = new HttpTarget({
      timeoutMs: config.dispatch.timeoutMs,
      policy: this.policy,
      maxSocketsPerHost: config.dispatch.concurrency,
    });
    this.pacing = new Pacing({
      ...DEFAULT_PACING,
      initialLimit: config.dispatch.perHostConcurrency,
      maxLimit: config.dispatch.concurrency,
      breakerThreshold: config.dispatch.breaker.threshold,
      breakerMs: config.dispatch.breaker.openMs,
    });
    this.target = new BulkheadTarget(
      new PacedTarget(this.httpTarget, this.pacing),
      config.dispatch.concurrency,
    );
    this.credentials = new Credentials(new OAuthTokens(this.httpTarget));
  }

  /** The consumer's deliveries: transient failures are retried automatically before they are routed. */
  consumerDeps(backends: Backends, log: Logger): DispatchDeps {
    return {
      ...backends,
      target: this.target,
      credentials: this.credentials,
      inFlight: this.inFlight,
      routing: this.routing,
      retry: this.config.retry,
      maxAttempts: this.config.dispatch.maxAttempts,
      onFailure: this.config.dispatch.onFailure,
      // Several tries within even a short bound: a twentieth of it, at most 250 ms, doubling.
      durability: {
        firstDelayMs: Math.min(250, this.config.dispatch.storageRetryBoundMs / 20),
        boundMs: this.config.dispatch.storageRetryBoundMs,
      },
      log,
    };
  }

  /** One message the Service Bus trigger received, delivered with the consumer's policy. */
  deliver(backends: Backends, source: Source, log: Logger): Promise<Outcome> {
    return dispatch(this.consumerDeps(backends, log), source);
  }

  /** A replay's deliveries: an operator is waiting for the answer, so a failure is routed at once. */
  replayDeps(backends: Backends, log: Logger): DispatchDeps {
    return { ...this.consumerDeps(backends, log), retry: { ...this.config.retry, autoRetries: 0 } };
  }

  populateDeps(backends: Backends, log: Logger): PopulateDeps {
    return {
      stream: backends.stream,
      states: backends.states,
      secrets: backends.secrets,
      mainStream: this.config.mainStream,
      limits: this.config.limits,
      targetPolicy: this.policy,
      log,
    };
  }

  connectionDeps(backends: Backends, log: Logger): ConnectionDeps {
    return {
      secrets: backends.secrets,
      targetPolicy: this.policy,
      maxName: this.config.limits.maxSecretName,
      log,
    };
  }

  api(
    backends: Backends,
    status: () => Promise<StatusReport>,
    log: Logger,
    local?: { onRelease?: () => void; targets?: TargetControl; apiKey?: string },
  ): HttpApi {
    return new HttpApi({
      populate: this.populateDeps(backends, log),
      dispatch: this.replayDeps(backends, log),
      connections: this.connectionDeps(backends, log),
      status,
      ...local,
      maxBodyBytes: this.config.limits.maxBodyBytes,
      replay: { budgetMs: this.config.replayBudgetMs, concurrency: this.config.dispatch.concurrency },
      log,
    });
  }

  /** Closes the target client's pooled connections. */
  close(): void {
    this.httpTarget.close();
  }
}
