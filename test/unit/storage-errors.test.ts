import { RestError } from '@azure/core-rest-pipeline';
import { AuthenticationError, CredentialUnavailableError } from '@azure/identity';
import { ServiceBusError } from '@azure/service-bus';
import Database from 'better-sqlite3';
import { azureStorageError } from '../../shared/adapters/azure/azure-errors';
import { localStorageError } from '../../shared/adapters/local/local-errors';
import { errorAnswer } from '../../shared/api/error-answers';
import { PartialAppendError, StorageError, type StorageErrorCode } from '../../shared/pipeline/errors';
import { ReplayInterruptedError } from '../../shared/pipeline/replay';
import { RecordingLogger } from '../helpers/recording-logger';

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

describe('storage errors: each adapter translates its own into one closed set of codes', () => {
  it.each<{ error: Error; code: StorageErrorCode }>([
    { error: new RestError('slow down', { statusCode: 429 }), code: 'throttled' },
    { error: new RestError('busy', { statusCode: 503 }), code: 'throttled' },
    { error: new RestError('no role', { statusCode: 403 }), code: 'denied' },
    { error: new RestError('no token', { statusCode: 401 }), code: 'denied' },
    { error: new RestError('no such table', { statusCode: 404 }), code: 'missing' },
    { error: new RestError('entity too large', { statusCode: 413 }), code: 'tooLarge' },
    { error: new RestError('oops', { statusCode: 500 }), code: 'unavailable' },
    { error: new RestError('socket hang up', { code: 'ECONNRESET' }), code: 'unavailable' },
    { error: new ServiceBusError('busy', 'ServiceBusy'), code: 'throttled' },
    { error: new ServiceBusError('quota', 'QuotaExceeded'), code: 'full' },
    { error: new ServiceBusError('too big', 'MessageSizeExceeded'), code: 'tooLarge' },
    { error: new ServiceBusError('gone', 'MessagingEntityNotFound'), code: 'missing' },
    { error: new ServiceBusError('timeout', 'ServiceTimeout'), code: 'unavailable' },
    { error: new ServiceBusError('no Send claim', 'UnauthorizedAccess'), code: 'denied' },
    { error: new ServiceBusError('disabled', 'MessagingEntityDisabled'), code: 'missing' },
    { error: new CredentialUnavailableError('no managed identity here'), code: 'denied' },
    {
      error: new AuthenticationError(400, { error: 'invalid_client', error_description: 'bad secret' }),
      code: 'denied',
    },
    {
      error: new AuthenticationError(503, { error: 'temporarily_unavailable', error_description: 'later' }),
      code: 'unavailable',
    },
    { error: new Error('anything else'), code: 'unavailable' },
  ])('Azure: $error.name "$error.message" is $code', ({ error, code }) => {
    const translated = azureStorageError('send', error);
    expect(translated).toBeInstanceOf(StorageError);
    expect(translated.code).toBe(code);
    expect(translated.message).toBe(`could not send: ${error.message}`);
    expect(translated.cause).toBe(error);
  });

  it.each<{ error: Error; code: StorageErrorCode }>([
    { error: new Database.SqliteError('database or disk is full', 'SQLITE_FULL'), code: 'full' },
    {
      error: new Database.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY'),
      code: 'denied',
    },
    { error: new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'), code: 'unavailable' },
    {
      error: new Database.SqliteError('database disk image is malformed', 'SQLITE_CORRUPT'),
      code: 'corrupt',
    },
    { error: new Database.SqliteError('file is not a database', 'SQLITE_NOTADB'), code: 'corrupt' },
    { error: new Database.SqliteError('string or blob too big', 'SQLITE_TOOBIG'), code: 'tooLarge' },
    { error: new Database.SqliteError('database is locked', 'SQLITE_BUSY'), code: 'unavailable' },
    { error: errno('ENOSPC'), code: 'full' },
    { error: errno('EACCES'), code: 'denied' },
    { error: errno('EROFS'), code: 'denied' },
    { error: errno('ENOENT'), code: 'missing' },
    { error: errno('EIO'), code: 'unavailable' },
  ])('local: $error.name "$error.message" is $code', ({ error, code }) => {
    expect(localStorageError('write', error).code).toBe(code);
  });

  it('keeps a StorageError as it is', () => {
    const original = new StorageError('full', 'could not write: full');
    expect(azureStorageError('again', original)).toBe(original);
    expect(localStorageError('again', original)).toBe(original);
  });
});

describe('errorAnswer: one mapping from storage codes to HTTP answers', () => {
  it.each<[StorageErrorCode, number, string | undefined]>([
    ['unavailable', 503, '5'],
    ['throttled', 503, '30'],
    ['full', 507, undefined],
    ['tooLarge', 413, undefined],
    ['denied', 503, undefined],
    ['missing', 503, undefined],
    ['corrupt', 503, undefined],
  ])('%s answers %i (Retry-After %s) with the code, and logs it', (code, status, retryAfter) => {
    const log = new RecordingLogger();
    const answer = errorAnswer(new StorageError(code, 'could not append: boom'), log, 'nothing was accepted');
    expect(answer.status).toBe(status);
    expect(answer.headers?.['retry-after']).toBe(retryAfter);
    expect(answer.body).toEqual({
      error: expect.stringMatching(/, nothing was accepted: could not append: boom$/),
      code,
    });
    expect(log.lines).toEqual([
      expect.objectContaining({ event: 'storage.failed', fields: expect.objectContaining({ code }) }),
    ]);
  });

  it('claims no consequence when the route names none (a read)', () => {
    const answer = errorAnswer(
      new StorageError('unavailable', 'could not read: boom'),
      new RecordingLogger(),
    );
    expect(answer.body).toEqual({ error: 'storage unavailable: could not read: boom', code: 'unavailable' });
  });

  it('answers a partial append with the messages accepted, not "nothing was accepted"', () => {
    const accepted = [{ stream: 'datasync', id: 'a' }];
    const partial = new PartialAppendError(
      accepted,
      3,
      new StorageError('throttled', 'could not send: busy'),
    );
    const answer = errorAnswer(partial, new RecordingLogger(), 'nothing was accepted');
    expect(answer).toMatchObject({ status: 503, headers: { 'retry-after': '30' } });
    expect(answer.body).toEqual({
      error: expect.stringMatching(
        /^storage is throttling requests, 1 of 3 were accepted .*: could not send: busy$/,
      ),
      code: 'throttled',
      messages: accepted,
    });
  });

  const summary = {
    lastReadOffset: 4n,
    processedmessages: 1,
    failedMessages: 0,
    skippedMessages: 0,
    endOfStream: false,
  };

  it('answers a replay stopped by something other than storage 500, with its summary', () => {
    const stopped = new ReplayInterruptedError(summary, { cause: new TypeError('bug') });
    expect(errorAnswer(stopped, new RecordingLogger())).toEqual({
      status: 500,
      body: {
        error: expect.stringMatching(/^internal error, replay stopped/),
        ...summary,
        lastReadOffset: 4,
      },
    });
  });

  it('answers a replay stopped by a record too large for its error stream 503, not 413', () => {
    const stopped = new ReplayInterruptedError(summary, { cause: new StorageError('tooLarge', 'too big') });
    expect(errorAnswer(stopped, new RecordingLogger())).toMatchObject({
      status: 503,
      body: { code: 'tooLarge', processedmessages: 1, lastReadOffset: 4 },
    });
  });

  it('answers 500 for an unexpected fault, without its message', () => {
    const log = new RecordingLogger();
    expect(errorAnswer(new TypeError('secret detail'), log)).toEqual({
      status: 500,
      body: { error: 'internal error' },
    });
  });
});
