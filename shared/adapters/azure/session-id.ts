import { createHash } from 'node:crypto';
import type { Envelope } from '../../contract/envelope';

/** Prefix of the sessions that carry messages without a `streamKey`. */
export const UNORDERED_SESSION_PREFIX = 'unordered-';

/**
 * The Service Bus session of a message: its `streamKey` (one session per key keeps the key's
 * order), or, for a message without a key, one of `buckets` shared sessions chosen by a hash of its
 * id. A session per keyless message would make the trigger wait its session idle timeout after every
 * single message; a bounded set of busy sessions keeps the trigger's session slots full.
 */
export function sessionIdFor(envelope: Pick<Envelope, 'id' | 'streamKey'>, buckets: number): string {
  if (envelope.streamKey !== '') return envelope.streamKey;
  const bucket = createHash('sha256').update(envelope.id).digest().readUInt32BE(0) % buckets;
  return `${UNORDERED_SESSION_PREFIX}${bucket}`;
}
