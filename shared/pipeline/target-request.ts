import type { Envelope } from '../contract/envelope';
import { encodeJson } from '../contract/envelope-codec';
import type { TargetRequest } from './ports';

/**
 * The HTTP call a message asks for: its method, URL, payload and headers, plus an `Idempotency-Key`
 * (the message id) so targets can drop the duplicates at-least-once brings. The credential is added
 * by `Credentials`.
 */
export function buildTargetRequest(envelope: Envelope): TargetRequest {
  const message = envelope.streamMessage;
  const headers: Record<string, string> = {};
  for (const { key, value } of message.targetRestApiHeaders ?? []) headers[key.toLowerCase()] = value;
  headers['idempotency-key'] ??= envelope.id;
  const payload = message.targetRestApiPayload;
  if (payload === undefined)
    return { method: message.targetRestApiOperation, url: message.targetRestApi, headers };
  const body = typeof payload === 'string' ? payload : encodeJson(payload);
  if (typeof payload !== 'string') headers['content-type'] ??= 'application/json';
  return { method: message.targetRestApiOperation, url: message.targetRestApi, headers, body };
}
