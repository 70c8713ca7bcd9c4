import { createHmac } from 'node:crypto';
import type { Signing } from '../contract/connection';

/**
 * The Standard Webhooks headers (https://www.standardwebhooks.com/): the message id, the send time in
 * Unix seconds, and `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the secret's bytes
 * (the base64 after `whsec_`). The id is the message id, so a receiver can drop redeliveries.
 */
export function signatureHeaders(
  signing: Signing,
  id: string,
  body: string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const key = Buffer.from(signing.secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
