/** `GET /api/stream/status`: the same shape on every host. */
export interface StatusReport {
  streams: Array<{
    stream: string;
    lastOffset: number | string;
    /** Records kept on the stream (history, not backlog). */
    retained: number;
    errorStream?: boolean;
    unrecoverable?: boolean;
    /** Failures on this stream not handled yet (not delivered, skipped or superseded): drop to 0 once replayed. */
    openFailures?: number;
    /** Where an omitted `readAfterOffset` continues. */
    replayPosition?: number | string;
  }>;
  consumer: {
    stream: string;
    /** Accepted messages not delivered yet (held ones included). */
    backlog: number;
    inFlight: number;
    scheduledRetries: number;
  };
  heldKeys: { keys: number; messages: number; oldestSince?: string };
  /** Calls that reached the secret store behind its cache since the start. */
  secretStoreCalls: { reads: number; writes: number };
  targets: Array<{
    origin: string;
    inFlight: number;
    queued: number;
    /** Calls allowed in flight now (adaptive). */
    limit?: number;
    /** `closed` (flowing), `open` (breaker: no calls), `halfOpen` (one probe), `throttled` (Retry-After), `paused`. */
    state?: 'closed' | 'open' | 'halfOpen' | 'throttled' | 'paused';
    /** Why its messages wait or its limit fell. */
    reason?: string;
    /** When a held-back target is called again. */
    until?: string;
  }>;
  recentFailures: Array<{
    id: string;
    stream: string;
    offset: number | string;
    target: string;
    attempt: number;
    reason?: string;
    status?: number;
    routedBy?: string;
    at?: string;
  }>;
}
