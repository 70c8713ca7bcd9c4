/** Offsets arrive as a JSON number when exact, else as a decimal string. */
export type OffsetJson = number | string;

/** `GET /api/stream/status`: the server's own type, the same on every host. */
export type { StatusReport as Status } from '../shared/api/status-report';

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
