import type { Failure } from '../contract/envelope';

/** Failures that usually heal by themselves: worth a delayed re-attempt before an error stream. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

export interface RetryPolicy {
  /** Delayed re-attempts before the error stream; 0 routes at once (the reference behaviour). */
  autoRetries: number;
  baseDelayMs: number;
  /** Cap on any delay, `Retry-After` included. */
  maxDelayMs: number;
}

export function isTransient(failure: Pick<Failure, 'reason' | 'status'>): boolean {
  // A token endpoint is a service of its own: its outages are usually short, and a connection with a
  // wrong client secret spends only the bounded automatic retries before its error stream.
  if (failure.reason === 'timeout' || failure.reason === 'network' || failure.reason === 'tokenUnavailable')
    return true;
  return failure.reason === 'http' && failure.status !== undefined && TRANSIENT_STATUSES.has(failure.status);
}

/**
 * Exponential backoff with jitter (half to all of base·2^(n-1)), never sooner than the target's
 * `Retry-After`, never later than the cap. `retry` counts from 1.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = Math.round(exponential * (0.5 + random() * 0.5));
  return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}
