import {
  CredentialError,
  DatasyncError,
  IdempotencyConflictError,
  isSecretUnreadableError,
  messageOf,
  OutcomeNotDurableError,
  PayloadTooLargeError,
  SecretUnreadableError,
  StorageError,
  StreamNotFoundError,
  TargetError,
  ValidationError,
} from '../../shared/pipeline/errors';

describe('pipeline errors', () => {
  const cause = new Error('disk gone');

  // A log line or stack trace shows `name: message`: the name says which error, the message what it was about.
  it.each<[string, DatasyncError, string]>([
    ['DatasyncError', new DatasyncError('boom'), 'boom'],
    [
      'ValidationError',
      new ValidationError(['body.id: required', 'body.key: too long']),
      'invalid request: body.id: required; body.key: too long',
    ],
    ['PayloadTooLargeError', new PayloadTooLargeError(['body: over 1 MB']), 'too large: body: over 1 MB'],
    ['StreamNotFoundError', new StreamNotFoundError('orders'), 'no stream named "orders"'],
    ['StorageError', new StorageError('full', 'could not write: full'), 'could not write: full'],
    ['TargetError', new TargetError('timeout', 'no answer in 30 s'), 'no answer in 30 s'],
    ['CredentialError', new CredentialError('missingSecret', 'no connection "crm"'), 'no connection "crm"'],
    [
      'SecretUnreadableError',
      new SecretUnreadableError('crm'),
      'the credential stored under "crm" cannot be decrypted with the current key',
    ],
    [
      'IdempotencyConflictError',
      new IdempotencyConflictError('k-1'),
      'Idempotency-Key "k-1" was used before with a different request body',
    ],
    [
      'OutcomeNotDurableError',
      new OutcomeNotDurableError('m-1'),
      'the outcome of message m-1 could not be recorded',
    ],
  ])('a %s reads as its name and what it was about', (name, error, message) => {
    expect(String(error)).toBe(`${name}: ${message}`);
  });

  it('keeps the original error as the cause', () => {
    expect(new StorageError('unavailable', 'could not read', { cause }).cause).toBe(cause);
    expect(new SecretUnreadableError('crm', { cause }).cause).toBe(cause);
    expect(new OutcomeNotDurableError('m-1', { cause }).cause).toBe(cause);
  });

  it('tells a secret that cannot be decrypted from other errors', () => {
    expect(isSecretUnreadableError(new SecretUnreadableError('crm'))).toBe(true);
    expect(isSecretUnreadableError(new CredentialError('missingSecret', 'no connection'))).toBe(false);
  });

  describe('messageOf', () => {
    it.each<[string, unknown, string]>([
      ['an Error', new Error('boom'), 'boom'],
      [
        'an error from another realm (not instanceof Error)',
        { name: 'Error', message: 'elsewhere' },
        'elsewhere',
      ],
      ['a thrown string', 'plain text', 'plain text'],
      ['null', null, 'null'],
      ['undefined', undefined, 'undefined'],
      ['an object whose message is not text', { message: 42 }, '[object Object]'],
    ])('reads %s', (_name, error, message) => {
      expect(messageOf(error)).toBe(message);
    });
  });
});
