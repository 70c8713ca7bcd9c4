import type { FailureReason } from '../contract/envelope';
import type { ErrorRoute } from '../contract/retry-request';

/** Alerts about unrecoverable failures; it holds alerts, not sync messages, so it is never replayed. */
export const ALERT_STREAM = 'datasync-alerts';

export const FALLBACK_KEY = 'unexpectedError';
export const EXHAUSTED_KEY = 'attemptsExhausted';

export const DEFAULT_ERROR_MAPPING: ErrorRoute[] = [
  { responsecode: '404', stream: 'datasync-error-404' },
  { responsecode: '503', stream: 'datasync-error-503' },
  { responsecode: FALLBACK_KEY, stream: 'datasync-error-unexpected', unrecoverable: true },
];

export interface Route {
  stream: string;
  /** The mapping key that matched. */
  key: string;
  /** Records on this stream are archived and raise an alert. */
  unrecoverable: boolean;
}

export interface FailureFacts {
  reason: FailureReason;
  status?: number;
}

/**
 * Chooses an error stream for a failure. Classification is data: a response code ("404"), a class
 * ("4xx"), a reason ("timeout", "network", "forbiddenTarget", "missingSecret") or the fallback
 * "unexpectedError". Unrecoverability belongs to the stream, so a replay's override that names a
 * configured unrecoverable stream still archives and alerts.
 */
export class ErrorRouting {
  private readonly byKey: Map<string, string>;
  private readonly unrecoverable: Set<string>;

  constructor(routes: ErrorRoute[], unrecoverableStreams: Iterable<string> = []) {
    this.byKey = new Map(routes.map((route) => [route.responsecode, route.stream]));
    this.unrecoverable = new Set(unrecoverableStreams);
    for (const route of routes) if (route.unrecoverable) this.unrecoverable.add(route.stream);
    if (!this.byKey.has(FALLBACK_KEY)) throw new Error(`error mapping needs a "${FALLBACK_KEY}" entry`);
  }

  /** This routing with some keys replaced for one replay. */
  withOverrides(overrides: ErrorRoute[]): ErrorRouting {
    if (overrides.length === 0) return this;
    const merged = new Map(this.byKey);
    for (const route of overrides) merged.set(route.responsecode, route.stream);
    const extra = overrides.filter((route) => route.unrecoverable).map((route) => route.stream);
    return new ErrorRouting(
      [...merged].map(([responsecode, stream]) => ({ responsecode, stream })),
      [...this.unrecoverable, ...extra],
    );
  }

  route(failure: FailureFacts): Route {
    // Retrying cannot make a forbidden target allowed, nor open a secret with the wrong key: park it.
    if (failure.reason === 'forbiddenTarget' || failure.reason === 'undecryptableSecret')
      return this.park(failure.reason);
    const keys: string[] = [];
    if (failure.status !== undefined)
      keys.push(String(failure.status), `${Math.floor(failure.status / 100)}xx`);
    keys.push(failure.reason);
    for (const key of keys) {
      const stream = this.byKey.get(key);
      if (stream) return { stream, key, unrecoverable: this.unrecoverable.has(stream) };
    }
    const stream = this.fallbackStream();
    return { stream, key: FALLBACK_KEY, unrecoverable: this.unrecoverable.has(stream) };
  }

  /** Where a message goes that must not be tried again: the key's stream, else the fallback; always unrecoverable. */
  park(key: string): Route {
    return { stream: this.byKey.get(key) ?? this.fallbackStream(), key, unrecoverable: true };
  }

  /** Every stream a failure can be routed to. */
  streams(): string[] {
    return [...new Set(this.byKey.values())];
  }

  isUnrecoverable(stream: string): boolean {
    return this.unrecoverable.has(stream);
  }

  private fallbackStream(): string {
    return this.byKey.get(FALLBACK_KEY) as string;
  }
}
