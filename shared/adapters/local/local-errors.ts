import { messageOf, StorageError, type StorageErrorCode } from '../../pipeline/errors';

/** The one translation of SQLite and file-system errors into the pipeline's storage codes. */
export function localStorageError(doing: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(codeOf(error), `could not ${doing}: ${messageOf(error)}`, { cause: error });
}

/** Runs a SQLite call, translating what it throws. */
export function translatingLocalErrors<T>(doing: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw localStorageError(doing, error);
  }
}

function codeOf(error: unknown): StorageErrorCode {
  if (isSqliteError(error)) return sqliteCode(error.code);
  return FILE_SYSTEM_CODES[(error as NodeJS.ErrnoException | undefined)?.code ?? ''] ?? 'unavailable';
}

/**
 * By shape, not `instanceof`: the native addon binds the error class of the first copy of the module
 * loaded in the process, so another copy (a bundler, Jest's module registry) has another class.
 */
function isSqliteError(error: unknown): error is { name: 'SqliteError'; code: string } {
  const candidate = error as { name?: unknown; code?: unknown } | null;
  return candidate?.name === 'SqliteError' && typeof candidate.code === 'string';
}

/** SQLite's primary result code (`SQLITE_IOERR_WRITE` → `SQLITE_IOERR`). */
function sqliteCode(code: string): StorageErrorCode {
  const primary = code.split('_').slice(0, 2).join('_');
  return SQLITE_CODES[primary] ?? 'unavailable';
}

const SQLITE_CODES: Record<string, StorageErrorCode> = {
  SQLITE_FULL: 'full',
  SQLITE_TOOBIG: 'tooLarge',
  SQLITE_READONLY: 'denied',
  SQLITE_PERM: 'denied',
  SQLITE_AUTH: 'denied',
  SQLITE_CANTOPEN: 'missing',
  SQLITE_CORRUPT: 'corrupt',
  SQLITE_NOTADB: 'corrupt',
};

const FILE_SYSTEM_CODES: Record<string, StorageErrorCode> = {
  ENOSPC: 'full',
  EDQUOT: 'full',
  EFBIG: 'tooLarge',
  EACCES: 'denied',
  EPERM: 'denied',
  EROFS: 'denied',
  ENOENT: 'missing',
};
