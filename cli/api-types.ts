/** Offsets arrive as a JSON number when exact, else as a decimal string. */
export type OffsetJson = number | string;

/** `GET /api/stream/status`; the fields marked optional are missing on hosts older than the typed status. */
export interface Status {
  streams: Array<{
    stream: string;
    errorStream?: boolean;
    unrecoverable?: boolean;
    lastOffset: OffsetJson;
    retained: number;
    openFailures?: number;
    replayPosition?: OffsetJson;
  }>;
  consumer: { stream: string; backlog?: number; lag?: number; inFlight: number; scheduledRetries: number };
  heldKeys?: { keys: number; messages: number; oldestSince?: string };
  targets?: Array<{ origin: string; inFlight: number; queued: number }>;
  recentFailures: Array<{
    id: string;
    stream: string;
    offset: OffsetJson;
    target: string;
    attempt: number;
    reason?: string;
    status?: number;
    at?: string;
  }>;
}

/** `POST /api/stream/retry`. */
export interface RetryAnswer {
  lastReadOffset: OffsetJson;
  processedmessages: number;
  failedMessages: number;
  endOfStream: boolean;
  skippedMessages?: number;
  replayableMessages?: number;
}

export interface Attempt {
  attempt: number;
  at: string;
  outcome: string;
  status?: number;
  reason?: string;
  detail?: string;
  responseExcerpt?: string;
  durationMs?: number;
  stream?: string;
  offset?: OffsetJson;
}

/** `GET /api/messages/{id}`. */
export interface MessageHistory {
  id: string;
  streamKey?: string;
  state: string;
  target: string;
  operation: string;
  acceptedAt: string;
  updatedAt: string;
  location?: { stream: string; offset: OffsetJson };
  heldBehind?: string;
  retryAt?: string;
  attempts: Attempt[];
}

/** `GET /api/keys`. */
export interface HeldKeys {
  keys: Array<{ streamKey: string; head: string; headState: string; since: string; held: number }>;
}
