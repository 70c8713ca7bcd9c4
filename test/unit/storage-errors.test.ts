import { RestError } from '@azure/core-rest-pipeline';
import { ServiceBusError } from '@azure/service-bus';
import Database from 'better-sqlite3';
import { azureStorageError } from '../../shared/adapters/azure/azure-errors';
import { localStorageError } from '../../shared/adapters/local/local-errors';
import { errorAnswer } from '../../shared/api/error-answers';
import { StorageError, type StorageErrorCode } from '../../shared/pipeline/errors';
import { RecordingLogger } from '../helpers/recording-logger';

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

describe('storage errors: each adapter translates its own into one closed set of codes', () => {
  it.each<[unknown, StorageErrorCode]>([
    [new RestError('slow down', { statusCode: 429 }), 'throttled'],
    [new RestError('busy', { statusCode: 503 }), 'throttled'],
    [new RestError('no role', { statusCode: 403 }), 'denied'],
    [new RestError('no such table', { statusCode: 404 }), 'missing'],
    [new RestError('entity too large', { statusCode: 413 }), 'tooLarge'],
    [new RestError('oops', { statusCode: 500 }), 'unavailable'],
    [new RestError('socket hang up', { code: 'ECONNRESET' }), 'unavailable'],
    [new ServiceBusError('busy', 'ServiceBusy'), 'throttled'],
    [new ServiceBusError('quota', 'QuotaExceeded'), 'full'],
    [new ServiceBusError('too big', 'MessageSizeExceeded'), 'tooLarge'],
    [new ServiceBusError('gone', 'MessagingEntityNotFound'), 'missing'],
    [new ServiceBusError('timeout', 'ServiceTimeout'), 'unavailable'],
    [new Error('anything else'), 'unavailable'],
  ])('Azure: %s is %s', (error, code) => {
    const translated = azureStorageError('send', error);
    expect(translated).toBeInstanceOf(StorageError);
    expect(translated.code).toBe(code);
    expect(translated.message).toBe(`could not send: ${(error as Error).message}`);
    expect(translated.cause).toBe(error);
  });

  it.each<[unknown, StorageErrorCode]>([
    [new Database.SqliteError('database or disk is full', 'SQLITE_FULL'), 'full'],
    [new Database.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY'), 'denied'],
    [new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'), 'unavailable'],
    [new Database.SqliteError('database disk image is malformed', 'SQLITE_CORRUPT'), 'corrupt'],
    [new Database.SqliteError('file is not a database', 'SQLITE_NOTADB'), 'corrupt'],
    [new Database.SqliteError('string or blob too big', 'SQLITE_TOOBIG'), 'tooLarge'],
    [new Database.SqliteError('database is locked', 'SQLITE_BUSY'), 'unavailable'],
    [errno('ENOSPC'), 'full'],
    [errno('EACCES'), 'denied'],
    [errno('EROFS'), 'denied'],
    [errno('ENOENT'), 'missing'],
    [errno('EIO'), 'unavailable'],
  ])('local: %s is %s', (error, code) => {
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
    const answer = errorAnswer(new StorageError(code, 'could not append: boom'), log);
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

  it('answers 500 for an unexpected fault, without its message', () => {
    const log = new RecordingLogger();
    expect(errorAnswer(new TypeError('secret detail'), log)).toEqual({
      status: 500,
      body: { error: 'internal error' },
    });
  });
});
