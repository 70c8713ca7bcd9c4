import type { Logger } from './ports';

export interface DurabilityPolicy {
  /** First wait before writing an outcome again. */
  firstDelayMs: number;
  /** Give up after this long; the caller then parks the message (`storageFailure`). */
  boundMs: number;
}

const MAX_DELAY_MS = 30_000;

/**
 * Runs `write` until it succeeds, waiting longer after each failure, for at most `boundMs`.
 * Resolves true once written, false when the bound passed. `write` must be safe to run again.
 */
export async function durably(
  policy: DurabilityPolicy,
  log: Logger,
  id: string,
  write: () => Promise<void>,
): Promise<boolean> {
  const giveUpAt = Date.now() + policy.boundMs;
  let delay = policy.firstDelayMs;
  for (;;) {
    try {
      await write();
      return true;
    } catch (error) {
      const remaining = giveUpAt - Date.now();
      log.error('outcome.not_durable', {
        id,
        error: String(error),
        retryInMs: remaining > 0 ? delay : undefined,
      });
      if (remaining <= 0) return false;
      // unref: a host that is stopping does not wait for an outcome it can no longer write.
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, remaining)).unref());
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}
