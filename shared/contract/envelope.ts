import type { StreamMessage } from './sync-request';

/** Why a delivery failed, translated once at the boundary. */
export type FailureReason =
  | 'http'
  | 'timeout'
  | 'network'
  | 'forbiddenTarget'
  | 'missingSecret'
  /** The stored credential cannot be decrypted (lost key file, changed DATASYNC_SECRET_KEY). */
  | 'undecryptableSecret'
  /** A connection's OAuth2 token endpoint gave no token (unreachable, refused, or an unusable answer). */
  | 'tokenUnavailable'
  /** The outcome could not be recorded within the durability bound. */
  | 'storageFailure';

/** What happened on the last failed attempt; credentials are never part of it. */
export interface Failure {
  reason: FailureReason;
  status?: number;
  /** Start of the target's response body, with the credential redacted. */
  responseExcerpt?: string;
  detail?: string;
  /** What the target asked for in `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** The error-mapping key that chose the stream ("404", "5xx", "timeout", "unexpectedError"...) or "autoRetry". */
  routedBy: string;
  at: string;
  from: { stream: string; offset: string };
}

/**
 * What the stream stores: the caller's message plus what the product knows about it.
 * On an error stream, `failure` says what happened; the envelope is then the error record.
 */
export interface Envelope {
  id: string;
  streamKey: string;
  streamMessage: StreamMessage;
  /** Failed delivery attempts so far (0 when first ingested), automatic retries and replays included. */
  attempt: number;
  /** Automatic retries already made since the message last entered the main stream. */
  autoRetries?: number;
  failure?: Failure;
}
