import { JsonBodyError } from '../contract/envelope-codec';
import { offsetToJson } from '../contract/offset';
import {
  IdempotencyConflictError,
  isStorageError,
  messageOf,
  PartialAppendError,
  PayloadTooLargeError,
  StreamNotFoundError,
  ValidationError,
  type StorageErrorCode,
} from '../pipeline/errors';
import type { Logger } from '../pipeline/ports';
import { ReplayInterruptedError, type ReplaySummary } from '../pipeline/replay';
import type { ApiResponse } from './http-api';

/** How each storage failure is answered: the status, when to try again, and what it means for the caller. */
const STORAGE_ANSWERS: Record<StorageErrorCode, { status: number; retryAfterS?: number; meaning: string }> = {
  unavailable: { status: 503, retryAfterS: 5, meaning: 'storage unavailable' },
  throttled: { status: 503, retryAfterS: 30, meaning: 'storage is throttling requests' },
  full: { status: 507, meaning: 'storage is full' },
  tooLarge: { status: 413, meaning: 'storage refused the size' },
  denied: { status: 503, meaning: 'storage refused access (check the app identity and its roles)' },
  missing: {
    status: 503,
    meaning: 'storage is not set up (a queue, table or container is missing or disabled)',
  },
  corrupt: { status: 503, meaning: 'stored data cannot be read' },
};

/**
 * The one mapping of every error the API can meet to its HTTP answer. `consequence` is what a storage
 * failure means for the request (e.g. "nothing was accepted"), when the route can say it.
 */
export function errorAnswer(cause: unknown, log: Logger, consequence?: string): ApiResponse {
  if (cause instanceof JsonBodyError) return errorBody(400, cause.message);
  if (cause instanceof ValidationError)
    return { status: 400, body: { error: 'invalid request', problems: cause.problems } };
  if (cause instanceof PayloadTooLargeError)
    return { status: 413, body: { error: 'too large', problems: cause.problems } };
  if (cause instanceof StreamNotFoundError) return errorBody(404, cause.message);
  if (cause instanceof IdempotencyConflictError) return errorBody(422, cause.message);
  if (cause instanceof ReplayInterruptedError) return replayStopped(cause, log);
  if (cause instanceof PartialAppendError) {
    const answer = storageAnswer(
      cause,
      log,
      `${cause.accepted.length} of ${cause.total} were accepted (listed in messages, and will be delivered); ` +
        'send only the others again, or repeat the request with the same Idempotency-Key',
    );
    return { ...answer, body: { ...answer.body, messages: cause.accepted } };
  }
  if (isStorageError(cause)) return storageAnswer(cause, log, consequence);
  log.error('request.failed', { error: String(cause) });
  return errorBody(500, 'internal error');
}

/** A replay stopped part-way answers what it did so far, whatever stopped it. */
function replayStopped(stopped: ReplayInterruptedError, log: Logger): ApiResponse {
  log.error('replay.failed', { error: String(stopped.cause) });
  const summary = summaryToJson(stopped.summary);
  const code = storageCodeIn(stopped.cause);
  if (code === undefined)
    return { status: 500, body: { error: `internal error, ${stopped.message}`, ...summary } };
  const answer = storageAnswer(stopped.cause, log, stopped.message);
  // A record too large for its error stream is no fault of the retry request, which a 413 would blame.
  const status = code === 'tooLarge' ? 503 : answer.status;
  return { ...answer, status, body: { ...answer.body, ...summary } };
}

function storageAnswer(
  cause: unknown,
  log: Logger,
  consequence: string | undefined,
): ApiResponse & { body: object } {
  const code = storageCodeIn(cause) ?? 'unavailable';
  const message = messageOf(cause);
  const { status, retryAfterS, meaning } = STORAGE_ANSWERS[code];
  log.error('storage.failed', { code, error: message });
  return {
    status,
    ...(retryAfterS === undefined ? {} : { headers: { 'retry-after': String(retryAfterS) } }),
    body: { error: `${meaning}${consequence === undefined ? '' : `, ${consequence}`}: ${message}`, code },
  };
}

/** The code of the first StorageError in the cause chain (an outcome not durable wraps the storage's error). */
function storageCodeIn(error: unknown): StorageErrorCode | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (isStorageError(current)) return current.code;
  }
  return undefined;
}

export function errorBody(status: number, message: string): ApiResponse {
  return { status, body: { error: message } };
}

export function summaryToJson(summary: ReplaySummary) {
  return { ...summary, lastReadOffset: offsetToJson(summary.lastReadOffset) };
}
