import type { FailureReason } from '../contract/envelope';
import type { Appended } from './ports';

export class DatasyncError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasyncError';
  }
}

/** The request is wrong; every problem is listed by JSON path. */
export class ValidationError extends DatasyncError {
  constructor(readonly problems: string[]) {
    super(`invalid request: ${problems.join('; ')}`);
    this.name = 'ValidationError';
  }
}

export class PayloadTooLargeError extends DatasyncError {
  constructor(readonly problems: string[]) {
    super(`too large: ${problems.join('; ')}`);
    this.name = 'PayloadTooLargeError';
  }
}

export class StreamNotFoundError extends DatasyncError {
  constructor(readonly stream: string) {
    super(`no stream named "${stream}"`);
    this.name = 'StreamNotFoundError';
  }
}

/**
 * Why a backend call failed, whatever the backend (each adapter translates its own errors):
 * - `unavailable`: not reachable, timed out, busy or an I/O fault; later may work;
 * - `throttled`: the service asked to slow down;
 * - `full`: out of space or quota;
 * - `tooLarge`: the item is over the backend's size limit;
 * - `denied`: this app's identity may not do it (role, file permissions, read-only);
 * - `missing`: the queue, table, container or file the configuration names does not exist;
 * - `corrupt`: stored data cannot be read back.
 */
export type StorageErrorCode =
  | 'unavailable'
  | 'throttled'
  | 'full'
  | 'tooLarge'
  | 'denied'
  | 'missing'
  | 'corrupt';

/** A backend (stream, states, secret store, archive, alerts) failed; `code` says how. */
export class StorageError extends DatasyncError {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/**
 * An append that stopped part-way on a backend with no transaction across its batches (Service Bus):
 * `accepted` are durable and will be delivered, the rest are not.
 */
export class PartialAppendError extends StorageError {
  constructor(
    readonly accepted: Appended[],
    readonly total: number,
    cause: StorageError,
  ) {
    super(cause.code, cause.message, { cause });
    this.name = 'PartialAppendError';
  }
}

/** An error's message, also for errors from another realm or module copy (not `instanceof Error`). */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

export function isStorageError(error: unknown): error is StorageError {
  return error instanceof StorageError;
}

/** No HTTP answer from the target. */
export class TargetError extends DatasyncError {
  constructor(
    readonly reason: Extract<FailureReason, 'timeout' | 'network' | 'forbiddenTarget'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TargetError';
  }
}

export function isTargetError(error: unknown): error is TargetError {
  return error instanceof TargetError;
}

/**
 * The stored secret names a connection whose credential cannot be had: its token endpoint failed
 * (`tokenUnavailable`) or the stored connection cannot be read (`missingSecret`). Messages never
 * carry a secret.
 */
export class CredentialError extends DatasyncError {
  constructor(
    readonly reason: Extract<FailureReason, 'tokenUnavailable' | 'missingSecret'>,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export function isCredentialError(error: unknown): error is CredentialError {
  return error instanceof CredentialError;
}

/** A stored secret exists but cannot be opened (wrong key): retrying cannot help. */
export class SecretUnreadableError extends DatasyncError {
  constructor(
    readonly secretName: string,
    options?: { cause?: unknown },
  ) {
    super(`the credential stored under "${secretName}" cannot be decrypted with the current key`, options);
    this.name = 'SecretUnreadableError';
  }
}

export function isSecretUnreadableError(error: unknown): error is SecretUnreadableError {
  return error instanceof SecretUnreadableError;
}

/** An `Idempotency-Key` was used before with another request body. */
export class IdempotencyConflictError extends DatasyncError {
  constructor(readonly key: string) {
    super(`Idempotency-Key "${key}" was used before with a different request body`);
    this.name = 'IdempotencyConflictError';
  }
}

/** A message's target was called but no outcome, not even "parked", could be recorded. */
export class OutcomeNotDurableError extends DatasyncError {
  constructor(
    readonly messageId: string,
    options?: { cause?: unknown },
  ) {
    super(`the outcome of message ${messageId} could not be recorded`, options);
    this.name = 'OutcomeNotDurableError';
  }
}
