import type Database from 'better-sqlite3';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteSecretStore } from '../../shared/adapters/local/sqlite-secret-store';
import { SecretUnreadableError } from '../../shared/pipeline/errors';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const DAY_MS = 86_400_000;
const secret = { value: 'Bearer sk-live-7f3a9c2e4b1d', origin: 'https://t.example' };

describe('the local secret store', () => {
  let db: Database.Database;
  let store: SqliteSecretStore;
  beforeEach(() => {
    db = openDatabase(':memory:');
    store = new SqliteSecretStore(db, Buffer.alloc(32, 7));
  });
  afterEach(() => db.close());

  const sealedOf = (name: string) =>
    (db.prepare('SELECT sealed FROM secrets WHERE name = ?').get(name) as { sealed: Buffer }).sealed;

  it('seals with a fresh IV each time: the same value stored twice gives other IVs and ciphertexts', async () => {
    await store.put('a', secret);
    const first = sealedOf('a');
    await store.put('a', secret);
    const again = sealedOf('a');
    await store.put('b', secret);
    const other = sealedOf('b');

    const ivs = [first, again, other].map((sealed) => sealed.subarray(0, IV_BYTES).toString('hex'));
    expect(new Set(ivs).size).toBe(3);
    const ciphertexts = [first, again, other].map((sealed) =>
      sealed.subarray(IV_BYTES + TAG_BYTES).toString('hex'),
    );
    expect(new Set(ciphertexts).size).toBe(3);
    expect(first.includes(Buffer.from(secret.value))).toBe(false);
    await expect(store.get('a')).resolves.toEqual(secret);
  });

  it('binds a sealed value to its name: copied under another name it does not open', async () => {
    await store.put('a', secret);
    await store.put('b', { value: 'Bearer other-credential', origin: secret.origin });
    db.prepare('UPDATE secrets SET sealed = ? WHERE name = ?').run(sealedOf('a'), 'b');

    await expect(store.get('b')).rejects.toBeInstanceOf(SecretUnreadableError);
    await expect(store.get('a')).resolves.toEqual(secret);
  });

  it('keeps a secret read recently when deleting idle ones, even if it was stored long ago', async () => {
    await store.put('read', secret);
    await store.put('unread', secret);
    const longAgo = Date.now() - 10 * DAY_MS;
    db.prepare('UPDATE secrets SET updated_at = ?, used_at = ?').run(longAgo, longAgo);

    await store.get('read');
    expect(store.deleteIdleSince(new Date(Date.now() - DAY_MS))).toBe(1);

    await expect(store.get('read')).resolves.toEqual(secret);
    await expect(store.get('unread')).resolves.toBeUndefined();
  });
});
