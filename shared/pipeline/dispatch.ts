import type { Envelope, Failure } from '../contract/envelope';
import { offsetToJson, type Offset } from '../contract/offset';
import { originOf } from '../contract/sync-request';
import { durably, type DurabilityPolicy } from './durably';
import { EXHAUSTED_KEY, type ErrorRouting, type Route } from './error-routing';
import type { Credentials, NamedSecret } from './credentials';
import { isCredentialError, isSecretUnreadableError, isTargetError, OutcomeNotDurableError } from './errors';
import type { InFlight } from './in-flight';
import type { Attempt, AttemptRecord, MessageStates } from './message-states';
import type { Alerts, Archive, Logger, SecretStore, StreamStore, Target } from './ports';
import { isTransient, retryDelayMs, type RetryPolicy } from './retry-policy';

/** What to do with the later messages of a key while one of them has failed. */
export type FailureOrder = 'hold' | 'continue';

export interface DispatchDeps {
  stream: StreamStore;
  states: MessageStates;
  secrets: SecretStore;
  archive: Archive;
  alerts: Alerts;
  target: Target;
  /** Turns a message's stored secret into what its call carries (credential, connection token, signature). */
  credentials: Credentials;
  inFlight: InFlight;
  routing: ErrorRouting;
  /** Automatic retries of transient failures: the consumer's policy; replays get none (chosen by the assembly). */
  retry: RetryPolicy;
  /** Attempts (deliveries, automatic retries and replays) after which a message is parked as unrecoverable. */
  maxAttempts: number;
  onFailure: FailureOrder;
  /** How long an outcome that cannot be made durable is retried before the message is parked. */
  durability: DurabilityPolicy;
  log: Logger;
}

export interface DispatchOptions {
  /** The replay's mapping; the configured one otherwise. */
  routing?: ErrorRouting;
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

/** What is known of an attempt's failure before it is routed. */
type AttemptFailure = Omit<Failure, 'routedBy' | 'at' | 'from'>;

/** An attempt's result: a 2xx status, or the failure. */
type AttemptResult = { delivered: true; status: number } | ({ delivered: false } & AttemptFailure);

const EXCERPT_CHARS = 512;

/**
 * Delivers one message to its target and makes the outcome durable: delivered; a delayed re-attempt
 * for a transient failure while automatic retries remain; otherwise the error stream the
 * classification chooses (plus archive and alert when that stream is unrecoverable). The target is
 * called once; only the recording is retried when storage fails, and past the durability bound the
 * message is parked (`storageFailure`). Throws only when even that could not be recorded.
 */
export async function dispatch(
  deps: DispatchDeps,
  source: Source,
  options: DispatchOptions = {},
): Promise<Outcome> {
  const envelope = source.body;
  const attempt = envelope.attempt + 1;
  const started = Date.now();
  const origin = originOf(envelope.streamMessage.targetRestApi);
  deps.inFlight.add(envelope.id, origin);
  let result: AttemptResult;
  try {
    result = await attemptDelivery(deps, envelope);
  } finally {
    deps.inFlight.delete(envelope.id);
  }
  const durationMs = Date.now() - started;
  const base = { attempt, at: new Date().toISOString(), durationMs };
  if (result.delivered) {
    deps.log.info('sync.delivered', { id: envelope.id, origin, status: result.status, attempt, durationMs });
    const parked = await recordOrPark(deps, source, attempt, origin, {
      id: envelope.id,
      streamKey: envelope.streamKey,
      attempt: { ...base, outcome: 'delivered', status: result.status },
      next: { state: 'delivered' },
      holdKey: false,
    });
    return parked ?? { kind: 'delivered', status: result.status };
  }
  const { delivered, ...failure } = result;
  const exhausted = attempt >= deps.maxAttempts;
  const retries = envelope.autoRetries ?? 0;
  if (!exhausted && isTransient(failure) && retries < deps.retry.autoRetries) {
    return scheduleRetry(deps, source, { ...base, origin }, failure);
  }
  const routing = options.routing ?? deps.routing;
  const route = exhausted ? routing.park(EXHAUSTED_KEY) : routing.route(failure);
  return routeFailure(deps, source, route, { ...base, origin }, failure);
}

async function attemptDelivery(deps: DispatchDeps, envelope: Envelope): Promise<AttemptResult> {
  const message = envelope.streamMessage;
  const name = message.vaultSecretName;
  if (name === undefined) return callTarget(deps, envelope, undefined);
  let secret;
  try {
    secret = await deps.secrets.get(name);
  } catch (error) {
    if (!isSecretUnreadableError(error)) throw error;
    return { delivered: false, reason: 'undecryptableSecret', detail: error.message };
  }
  const origin = originOf(message.targetRestApi);
  if (!secret)
    return { delivered: false, reason: 'missingSecret', detail: `no credential stored under "${name}"` };
  if (secret.origin !== origin) {
    return {
      delivered: false,
      reason: 'missingSecret',
      detail: `credential "${name}" is bound to ${secret.origin}, not ${origin}`,
    };
  }
  return callTarget(deps, envelope, { name, secret });
}

async function callTarget(
  deps: DispatchDeps,
  envelope: Envelope,
  named: NamedSecret | undefined,
): Promise<AttemptResult> {
  try {
    const response = await deps.credentials.send(deps.target, envelope, named);
    if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status };
    return {
      delivered: false,
      reason: 'http',
      status: response.status,
      responseExcerpt: response.bodyExcerpt.slice(0, EXCERPT_CHARS),
      ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
    };
  } catch (error) {
    if (isCredentialError(error)) return { delivered: false, reason: error.reason, detail: error.message };
    if (!isTargetError(error)) throw error;
    return { delivered: false, reason: error.reason, detail: error.message };
  }
}

function failureRecord(source: Source, failure: AttemptFailure, routedBy: string): Failure {
  return {
    ...failure,
    routedBy,
    at: new Date().toISOString(),
    from: { stream: source.stream, offset: source.offset.toString() },
  };
}

function attemptFacts(failure: AttemptFailure): Omit<Attempt, 'attempt' | 'at' | 'outcome'> {
  return {
    reason: failure.reason,
    ...(failure.status === undefined ? {} : { status: failure.status }),
    ...(failure.detail === undefined ? {} : { detail: failure.detail }),
    ...(failure.responseExcerpt === undefined ? {} : { responseExcerpt: failure.responseExcerpt }),
  };
}

interface AttemptBase {
  attempt: number;
  at: string;
  durationMs: number;
  origin: string;
}

async function scheduleRetry(
  deps: DispatchDeps,
  source: Source,
  base: AttemptBase,
  failure: AttemptFailure,
): Promise<Outcome> {
  const { origin, ...attemptBase } = base;
  const retry = (source.body.autoRetries ?? 0) + 1;
  const at = new Date(Date.now() + retryDelayMs(deps.retry, retry, failure.retryAfterMs));
  const record = failureRecord(source, failure, 'autoRetry');
  const envelope: Envelope = { ...source.body, attempt: base.attempt, autoRetries: retry, failure: record };
  const parked = await recordOrPark(deps, source, base.attempt, origin, {
    id: envelope.id,
    streamKey: envelope.streamKey,
    attempt: { ...attemptBase, outcome: 'retryScheduled', ...attemptFacts(failure) },
    next: { state: 'retryScheduled', retryAt: at, envelope },
    holdKey: holdsKey(deps, envelope),
  });
  if (parked) return parked;
  deps.log.warn('sync.retry_scheduled', {
    id: envelope.id,
    origin,
    status: failure.status,
    reason: failure.reason,
    attempt: base.attempt,
    retry,
    at: at.toISOString(),
  });
  return { kind: 'scheduled', at, failure: record };
}

async function routeFailure(
  deps: DispatchDeps,
  source: Source,
  route: Route,
  base: AttemptBase,
  failure: AttemptFailure,
): Promise<Outcome> {
  const { origin, ...attemptBase } = base;
  const record: Envelope = {
    ...source.body,
    attempt: base.attempt,
    autoRetries: 0,
    failure: failureRecord(source, failure, route.key),
  };
  const outcome = route.unrecoverable ? 'parked' : 'failed';
  let offset: Offset | undefined;
  const recorded = await durably(deps.durability, deps.log, record.id, async () => {
    // The error record first: a crash before the state is written leaves a superseded copy, never a gap.
    if (offset === undefined) offset = (await deps.stream.append(route.stream, [record]))[0]?.offset;
    await deps.states.record({
      id: record.id,
      streamKey: record.streamKey,
      attempt: {
        ...attemptBase,
        outcome,
        ...attemptFacts(failure),
        stream: route.stream,
        ...(offset === undefined ? {} : { offset }),
      },
      next: {
        state: outcome,
        location: { stream: route.stream, ...(offset === undefined ? {} : { offset }) },
      },
      holdKey: holdsKey(deps, record),
    });
  });
  if (!recorded) return parkForStorage(deps, source, base.attempt, origin);
  deps.log.warn('sync.failed', {
    id: record.id,
    origin,
    status: failure.status,
    reason: failure.reason,
    routedBy: route.key,
    errorStream: route.stream,
    attempt: base.attempt,
    unrecoverable: route.unrecoverable,
  });
  if (route.unrecoverable) await archiveAndAlert(deps, { stream: route.stream, offset, record, origin });
  return {
    kind: 'routed',
    stream: route.stream,
    offset,
    failure: record.failure as Failure,
    unrecoverable: route.unrecoverable,
  };
}

/**
 * Records an attempt, retrying storage failures. When they last too long the message is parked, and
 * that outcome is returned: the caller answers it instead of the one it could not record.
 */
async function recordOrPark(
  deps: DispatchDeps,
  source: Source,
  attempt: number,
  origin: string,
  entry: AttemptRecord,
): Promise<Outcome | undefined> {
  const recorded = await durably(deps.durability, deps.log, entry.id, () => deps.states.record(entry));
  return recorded ? undefined : parkForStorage(deps, source, attempt, origin);
}

/**
 * The outcome could not be made durable within the bound: the message is parked where it is (its
 * record on the source stream stays replayable) and an alert says why. The target is not called again.
 */
async function parkForStorage(
  deps: DispatchDeps,
  source: Source,
  attempt: number,
  origin: string,
): Promise<Outcome> {
  const failure: Failure = {
    reason: 'storageFailure',
    detail: `the outcome could not be recorded within ${deps.durability.boundMs} ms`,
    routedBy: 'storageFailure',
    at: new Date().toISOString(),
    from: { stream: source.stream, offset: source.offset.toString() },
  };
  try {
    await deps.states.record({
      id: source.body.id,
      streamKey: source.body.streamKey,
      attempt: {
        attempt,
        at: failure.at,
        outcome: 'parked',
        reason: 'storageFailure',
        detail: failure.detail,
      },
      next: { state: 'parked', location: { stream: source.stream, offset: source.offset } },
      holdKey: holdsKey(deps, source.body),
    });
  } catch (error) {
    throw new OutcomeNotDurableError(source.body.id, { cause: error });
  }
  deps.log.error('sync.failed', {
    id: source.body.id,
    origin,
    reason: 'storageFailure',
    routedBy: 'storageFailure',
    errorStream: source.stream,
    attempt,
    unrecoverable: true,
  });
  await publishAlert(deps, {
    stream: source.stream,
    offset: source.offset,
    record: { ...source.body, attempt, failure },
    origin,
    archivedAt: 'not archived: storage failure',
  });
  return { kind: 'routed', stream: source.stream, offset: source.offset, failure, unrecoverable: true };
}

interface Parked {
  stream: string;
  offset?: Offset;
  record: Envelope;
  origin: string;
}

/** The archive is retried within the durability bound; the alert goes out either way. */
async function archiveAndAlert(deps: DispatchDeps, parked: Parked): Promise<void> {
  let location = '';
  const archived = await durably(deps.durability, deps.log, parked.record.id, async () => {
    location = await deps.archive.put({
      stream: parked.stream,
      offset: parked.offset,
      record: parked.record,
    });
  });
  await publishAlert(deps, {
    ...parked,
    archivedAt: archived ? location : 'not archived: the archive could not be written',
  });
}

async function publishAlert(deps: DispatchDeps, parked: Parked & { archivedAt: string }): Promise<void> {
  try {
    await deps.alerts.publish({
      messageId: parked.record.id,
      stream: parked.stream,
      offset: parked.offset === undefined ? undefined : String(offsetToJson(parked.offset)),
      targetOrigin: parked.origin,
      failure: parked.record.failure as Failure,
      attempt: parked.record.attempt,
      archivedAt: parked.archivedAt,
    });
  } catch (error) {
    // The message is parked and its state says why; the alert channel is down, so the log carries it.
    deps.log.error('alert.publish_failed', { id: parked.record.id, error: String(error) });
  }
}

function holdsKey(deps: DispatchDeps, envelope: Envelope): boolean {
  return deps.onFailure === 'hold' && envelope.streamKey !== '';
}
