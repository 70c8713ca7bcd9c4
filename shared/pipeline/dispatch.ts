import type { Envelope, Failure } from '../contract/envelope';
import { offsetToJson, type Offset } from '../contract/offset';
import { originOf } from '../contract/sync-request';
import { EXHAUSTED_KEY, type ErrorRouting, type Route } from './error-routing';
import { isTargetError } from './errors';
import { redact } from './redact';
import type { Alerts, Archive, Logger, SecretStore, StreamStore, Target, TargetRequest } from './ports';
import { isTransient, retryDelayMs, type RetryPolicy } from './retry-policy';
import { buildTargetRequest } from './target-request';

export interface DispatchDeps {
  stream: StreamStore;
  secrets: SecretStore;
  archive: Archive;
  alerts: Alerts;
  target: Target;
  routing: ErrorRouting;
  retry: RetryPolicy;
  /** Attempts (deliveries, automatic retries and replays) after which a message is parked as unrecoverable. */
  maxAttempts: number;
  log: Logger;
}

export interface DispatchOptions {
  /** The replay's mapping; the configured one otherwise. */
  routing?: ErrorRouting;
  /** Schedule a delayed re-attempt on the source stream for transient failures (the consumer path, not replays). */
  autoRetry?: boolean;
}

/** Where a message came from: a stream and its offset there. */
export interface Source {
  stream: string;
  offset: Offset;
  body: Envelope;
}

export type Outcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'scheduled'; at: Date; failure: Failure }
  | { kind: 'routed'; stream: string; offset?: Offset; failure: Failure; unrecoverable: boolean };

/** What is known of a failure before it is routed. */
type FailureFacts = Omit<Failure, 'routedBy' | 'at' | 'from'>;

const EXCERPT_CHARS = 512;

/**
 * Delivers one message to its target. When that fails, the outcome is made durable: a delayed
 * re-attempt for a transient failure while automatic retries remain, otherwise the error stream the
 * classification chooses (plus archive and alert when that stream is unrecoverable). Throws only when
 * the outcome could not be made durable, so the source message must not be settled.
 */
export async function dispatch(
  deps: DispatchDeps,
  source: Source,
  options: DispatchOptions = {},
): Promise<Outcome> {
  const envelope = source.body;
  const attempt = envelope.attempt + 1;
  const prepared = await prepareRequest(deps.secrets, envelope);
  const facts =
    'request' in prepared ? await callTarget(deps.target, prepared.request, prepared.credential) : prepared;
  if (facts.status !== undefined && facts.status >= 200 && facts.status < 300) {
    deps.log.info('sync.delivered', {
      id: envelope.id,
      status: facts.status,
      stream: source.stream,
      attempt,
    });
    return { kind: 'delivered', status: facts.status };
  }
  const exhausted = attempt >= deps.maxAttempts;
  const retries = envelope.autoRetries ?? 0;
  if (options.autoRetry && !exhausted && isTransient(facts) && retries < deps.retry.autoRetries) {
    return scheduleRetry(deps, source, attempt, facts);
  }
  const routing = options.routing ?? deps.routing;
  const route = exhausted ? routing.park(EXHAUSTED_KEY) : routing.route(facts);
  return routeFailure(deps, source, route, attempt, facts);
}

type Prepared = { request: TargetRequest; credential?: string } | FailureFacts;

async function prepareRequest(secrets: SecretStore, envelope: Envelope): Promise<Prepared> {
  const message = envelope.streamMessage;
  const name = message.vaultSecretName;
  if (name === undefined) return { request: buildTargetRequest(envelope) };
  const secret = await secrets.get(name);
  const origin = originOf(message.targetRestApi);
  if (!secret) return { reason: 'missingSecret', detail: `no credential stored under "${name}"` };
  if (secret.origin !== origin) {
    return {
      reason: 'missingSecret',
      detail: `credential "${name}" is bound to ${secret.origin}, not ${origin}`,
    };
  }
  return { request: buildTargetRequest(envelope, secret.value), credential: secret.value };
}

/** The target's answer as facts (a 2xx status means delivered). */
async function callTarget(
  target: Target,
  request: TargetRequest,
  credential: string | undefined,
): Promise<FailureFacts> {
  try {
    const response = await target.call(request);
    return {
      reason: 'http',
      status: response.status,
      responseExcerpt: redact(response.bodyExcerpt, credential).slice(0, EXCERPT_CHARS),
      ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
    };
  } catch (error) {
    if (!isTargetError(error)) throw error;
    return { reason: error.reason, detail: redact(error.message, credential) };
  }
}

function failureRecord(source: Source, facts: FailureFacts, routedBy: string): Failure {
  return {
    ...facts,
    routedBy,
    at: new Date().toISOString(),
    from: { stream: source.stream, offset: source.offset.toString() },
  };
}

async function scheduleRetry(
  deps: DispatchDeps,
  source: Source,
  attempt: number,
  facts: FailureFacts,
): Promise<Outcome> {
  const retry = (source.body.autoRetries ?? 0) + 1;
  const at = new Date(Date.now() + retryDelayMs(deps.retry, retry, facts.retryAfterMs));
  const failure = failureRecord(source, facts, 'autoRetry');
  await deps.stream.schedule(source.stream, { ...source.body, attempt, autoRetries: retry, failure }, at);
  deps.log.warn('sync.retry_scheduled', {
    id: source.body.id,
    status: facts.status,
    reason: facts.reason,
    attempt,
    retry,
    at: at.toISOString(),
  });
  return { kind: 'scheduled', at, failure };
}

async function routeFailure(
  deps: DispatchDeps,
  source: Source,
  route: Route,
  attempt: number,
  facts: FailureFacts,
): Promise<Outcome> {
  const failure = failureRecord(source, facts, route.key);
  const record: Envelope = { ...source.body, attempt, autoRetries: 0, failure };
  const [appended] = await deps.stream.append(route.stream, [record]);
  deps.log.warn('sync.failed', {
    id: record.id,
    status: failure.status,
    reason: failure.reason,
    routedBy: route.key,
    errorStream: route.stream,
    attempt,
  });
  if (route.unrecoverable) {
    const location = await deps.archive.put({ stream: route.stream, offset: appended?.offset, record });
    await deps.alerts.publish({
      messageId: record.id,
      stream: route.stream,
      offset: appended?.offset === undefined ? undefined : String(offsetToJson(appended.offset)),
      targetOrigin: originOf(record.streamMessage.targetRestApi),
      failure,
      attempt,
      archivedAt: location,
    });
  }
  return {
    kind: 'routed',
    stream: route.stream,
    offset: appended?.offset,
    failure,
    unrecoverable: route.unrecoverable,
  };
}
