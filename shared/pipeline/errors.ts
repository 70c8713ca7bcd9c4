import type { FailureReason } from '../contract/envelope';

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

/** A backend (stream, secret store, archive) could not make an outcome durable. */
export class StorageError extends DatasyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
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
