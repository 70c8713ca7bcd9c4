/** `GET /api/stream/status`: the same shape on every host. */
export interface StatusReport {
  streams: Array<{
    stream: string;
    /** Where the backend knows it cheaply (the embedded one; on Azure see the queue metrics). */
    lastOffset?: number | string;
    /** Records kept on the stream (history, not backlog); where the backend knows it cheaply. */
    retained?: number;
    errorStream?: boolean;
    unrecoverable?: boolean;
    /** Failures on this stream not handled yet (not delivered, skipped or superseded): drop to 0 once replayed. */
    openFailures?: number;
    /** Where an omitted `readAfterOffset` continues. */
    replayPosition?: number | string;
  }>;
  consumer: {
    stream: string;
    /** Accepted messages not delivered yet (held ones included); null where not counted cheaply (Azure: the queue's ActiveMessages metric). */
    backlog: number | null;
    inFlight: number;
    scheduledRetries: number;
  };
  heldKeys: { keys: number; messages: number; oldestSince?: string };
  /** Calls that reached the secret store behind its cache since the start. */
  secretStoreCalls: { reads: number; writes: number };
  /** Per target origin: in flight in this process (on Azure: this instance); `queued` where the backend counts it. */
  targets: Array<{
    origin: string;
    inFlight: number;
    queued?: number;
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
    /** Absent where the backend did not say (Service Bus sends). */
    offset?: number | string;
    target: string;
    attempt: number;
    reason?: string;
    status?: number;
    routedBy?: string;
    at?: string;
  }>;
}

/** The `status.gauges` log line's fields, which the open-failure and held-key alerts query. */
export function gaugeLogFields(status: StatusReport): Record<string, number | null> {
  return {
    backlog: status.consumer.backlog,
    inFlight: status.consumer.inFlight,
    scheduledRetries: status.consumer.scheduledRetries,
    openFailures: status.streams.reduce((sum, stream) => sum + (stream.openFailures ?? 0), 0),
    heldKeys: status.heldKeys.keys,
    heldMessages: status.heldKeys.messages,
  };
}
