import { localStorageError, translatingLocalErrors } from './local-errors';
import type Database from 'better-sqlite3';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecretUnreadableError } from '../../pipeline/errors';
import type { SecretStore, StoredSecret } from '../../pipeline/ports';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Local secrets: AES-256-GCM per value, the secret name as associated data (a sealed value cannot
 * be moved to another name), the key outside the database.
 */
export class SqliteSecretStore implements SecretStore {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new Error('the local secret key must be 32 bytes');
    this.statements = {
      get: db.prepare('SELECT origin, sealed FROM secrets WHERE name = ?'),
      put: db.prepare(
        `INSERT INTO secrets (name, origin, sealed, updated_at, used_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET origin = excluded.origin, sealed = excluded.sealed,
           updated_at = excluded.updated_at, used_at = excluded.used_at`,
      ),
      delete: db.prepare('DELETE FROM secrets WHERE name = ?'),
      touch: db.prepare('UPDATE secrets SET used_at = ? WHERE name = ?'),
      count: db.prepare('SELECT COUNT(*) FROM secrets').pluck(),
      any: db.prepare('SELECT name, sealed FROM secrets ORDER BY updated_at DESC LIMIT 1'),
      deleteIdle: db.prepare('DELETE FROM secrets WHERE used_at < ?'),
    };
  }

  async get(name: string): Promise<StoredSecret | undefined> {
    const row = translatingLocalErrors(`read secret "${name}"`, () => this.statements.get.get(name)) as
      | { origin: string; sealed: Buffer }
      | undefined;
    if (!row) return undefined;
    try {
      this.statements.touch.run(Date.now(), name);
    } catch {
      // Only the idle clock is lost (a read-only or full disk): the read itself succeeded.
    }
    let value: string;
    try {
      value = this.open(name, row.sealed);
    } catch (error) {
      throw new SecretUnreadableError(name, { cause: error });
    }
    return { value, origin: row.origin };
  }

  async put(name: string, secret: StoredSecret): Promise<void> {
    try {
      const now = Date.now();
      this.statements.put.run(name, secret.origin, this.seal(name, secret.value), now, now);
    } catch (error) {
      throw localStorageError(`store secret "${name}"`, error);
    }
  }

  async delete(name: string): Promise<boolean> {
    return translatingLocalErrors(
      `delete secret "${name}"`,
      () => this.statements.delete.run(name).changes > 0,
    );
  }

  /** Deletes secrets neither stored nor read since `before`; returns how many. */
  deleteIdleSince(before: Date): number {
    return this.statements.deleteIdle.run(before.getTime()).changes;
  }

  /** False when a stored secret exists and cannot be opened with this key (checked at start). */
  keyOpensStoredSecrets(): boolean {
    const row = this.statements.any.get() as { name: string; sealed: Buffer } | undefined;
    if (!row) return true;
    try {
      this.open(row.name, row.sealed);
      return true;
    } catch {
      return false;
    }
  }

  count(): number {
    return this.statements.count.get() as number;
  }

  private seal(name: string, value: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
  }

  private open(name: string, sealed: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }
}

/** The key from DATASYNC_SECRET_KEY, else a key file made on first start (mode 0600). */
export function loadOrCreateKey(keyFile: string, fromEnv?: Buffer): Buffer {
  if (fromEnv) return fromEnv;
  if (existsSync(keyFile)) return Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(keyFile, key.toString('base64'), { mode: 0o600, flag: 'wx' });
  return key;
}
