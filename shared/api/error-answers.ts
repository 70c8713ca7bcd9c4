import { JsonBodyError } from '../contract/envelope-codec';
import { offsetToJson } from '../contract/offset';
import {
  IdempotencyConflictError,
  isStorageError,
  messageOf,
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
  missing: { status: 503, meaning: 'storage is not set up (a queue, table or container is missing)' },
  corrupt: { status: 503, meaning: 'stored data cannot be read' },
};

/** The one mapping of every error the API can meet to its HTTP answer. */
export function errorAnswer(cause: unknown, log: Logger): ApiResponse {
  if (cause instanceof JsonBodyError) return errorBody(400, cause.message);
  if (cause instanceof ValidationError)
    return { status: 400, body: { error: 'invalid request', problems: cause.problems } };
  if (cause instanceof PayloadTooLargeError)
    return { status: 413, body: { error: 'too large', problems: cause.problems } };
  if (cause instanceof StreamNotFoundError) return errorBody(404, cause.message);
  if (cause instanceof IdempotencyConflictError) return errorBody(422, cause.message);
  if (cause instanceof ReplayInterruptedError) {
    log.error('replay.failed', { error: String(cause.cause) });
    const answer = storageAnswer(cause.cause, log, cause.message);
    return { ...answer, body: { ...(answer.body as object), ...summaryToJson(cause.summary) } };
  }
  if (isStorageError(cause)) return storageAnswer(cause, log, 'nothing was accepted');
  log.error('request.failed', { error: String(cause) });
  return errorBody(500, 'internal error');
}

function storageAnswer(cause: unknown, log: Logger, consequence: string): ApiResponse {
  const code = storageCodeIn(cause) ?? 'unavailable';
  const message = messageOf(cause);
  const { status, retryAfterS, meaning } = STORAGE_ANSWERS[code];
  log.error('storage.failed', { code, error: message });
  return {
    status,
    ...(retryAfterS === undefined ? {} : { headers: { 'retry-after': String(retryAfterS) } }),
    body: { error: `${meaning}, ${consequence}: ${message}`, code },
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
