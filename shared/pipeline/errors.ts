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
    readonly reason: Exclude<FailureReason, 'http' | 'missingSecret'>,
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
