import type { Envelope, Failure } from '../contract/envelope';
import { offsetToJson, type Offset } from '../contract/offset';
import { originOf } from '../contract/sync-request';
import type { ErrorRouting } from './error-routing';
import { isTargetError } from './errors';
import type { Alerts, Archive, Logger, SecretStore, StreamStore, Target, TargetRequest } from './ports';
import { buildTargetRequest } from './target-request';

export interface DispatchDeps {
  stream: StreamStore;
  secrets: SecretStore;
  archive: Archive;
  alerts: Alerts;
  target: Target;
  routing: ErrorRouting;
  /** Attempts (first delivery and replays) after which a message is parked as unrecoverable. */
  maxAttempts: number;
  log: Logger;
}

/** Where a message came from: a stream and its offset there. */
export interface Source {
  stream: string;
  offset: Offset;
  body: Envelope;
}

export type Outcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'routed'; stream: string; offset?: Offset; failure: Failure; unrecoverable: boolean };

const EXCERPT_CHARS = 512;

/**
 * Delivers one message to its target and, when that fails, makes the failure durable on the error
 * stream its classification chooses (plus archive and alert when that stream is unrecoverable).
 * Resolves with the outcome; throws only when the outcome could not be made durable, so the source
 * message must not be settled.
 */
export async function dispatch(deps: DispatchDeps, source: Source, routing = deps.routing): Promise<Outcome> {
  const envelope = source.body;
  const attempt = envelope.attempt + 1;
  const prepared = await prepareRequest(deps.secrets, envelope);
  if (!('request' in prepared)) return routeFailure(deps, source, routing, attempt, prepared);
  const result = await callTarget(deps.target, prepared.request, prepared.credential);
  const status = result.status;
  if (status !== undefined && status >= 200 && status < 300) {
    deps.log.info('sync.delivered', { id: envelope.id, status, stream: source.stream, attempt });
    return { kind: 'delivered', status };
  }
  return routeFailure(deps, source, routing, attempt, result);
}

/** What is known of a failure before it is routed. */
type FailureFacts = Omit<Failure, 'routedBy' | 'at' | 'from'>;

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
      responseExcerpt: redact(response.bodyExcerpt.slice(0, EXCERPT_CHARS), credential),
    };
  } catch (error) {
    if (!isTargetError(error)) throw error;
    return { reason: error.reason, detail: redact(error.message, credential) };
  }
}

async function routeFailure(
  deps: DispatchDeps,
  source: Source,
  routing: ErrorRouting,
  attempt: number,
  facts: FailureFacts,
): Promise<Outcome> {
  const exhausted = attempt >= deps.maxAttempts;
  const route = routing.route(exhausted ? { reason: 'attemptsExhausted' } : facts);
  const failure: Failure = {
    ...facts,
    routedBy: route.key,
    at: new Date().toISOString(),
    from: { stream: source.stream, offset: source.offset.toString() },
  };
  const record: Envelope = { ...source.body, attempt, failure };
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

/** Targets sometimes echo request headers in error bodies; the credential never leaves in one. */
function redact(text: string, credential: string | undefined): string {
  if (!credential) return text;
  let result = text.split(credential).join('[redacted]');
  const token = credential.replace(/^\S+\s+/, '');
  if (token.length >= 8) result = result.split(token).join('[redacted]');
  return result;
}
