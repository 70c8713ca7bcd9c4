import { isSecretUnreadableError } from './errors';
import { LRUCache } from 'lru-cache';
import type { SecretStore, StoredSecret } from './ports';

interface Entry {
  secret: StoredSecret;
  expiresAt: number;
}

/** Names kept in memory; the least recently used go first. */
export const DEFAULT_MAX_CACHED_SECRETS = 10_000;

/**
 * Keeps the secret store off the per-message path: reads at most once per TTL per name and writes
 * only when the value or its origin changed (Key Vault allows ~300 writes / 10 s per vault).
 * Bounded (LRU), and only secrets that exist are kept: names callers merely ask for cost no memory.
 */
export class CachedSecretStore implements SecretStore {
  private readonly entries: LRUCache<string, Entry>;
  /** Calls that reached the secret store behind the cache. */
  readonly backendCalls = { reads: 0, writes: 0 };

  constructor(
    private readonly inner: SecretStore,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    maxEntries = DEFAULT_MAX_CACHED_SECRETS,
  ) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  /** Names currently cached. */
  get size(): number {
    return this.entries.size;
  }

  async get(name: string): Promise<StoredSecret | undefined> {
    const entry = this.entries.get(name);
    if (entry && entry.expiresAt > this.now()) return entry.secret;
    this.backendCalls.reads += 1;
    const secret = await this.inner.get(name);
    if (secret) this.entries.set(name, { secret, expiresAt: this.now() + this.ttlMs });
    else this.entries.delete(name);
    return secret;
  }

  async put(name: string, secret: StoredSecret): Promise<void> {
    const current = await this.get(name).catch((error: unknown) => {
      // A credential the key cannot open is replaced by the one given now.
      if (isSecretUnreadableError(error)) return undefined;
      throw error;
    });
    if (current && current.value === secret.value && current.origin === secret.origin) return;
    this.backendCalls.writes += 1;
    await this.inner.put(name, secret);
    this.entries.set(name, { secret, expiresAt: this.now() + this.ttlMs });
  }

  async delete(name: string): Promise<boolean> {
    this.backendCalls.writes += 1;
    const deleted = await this.inner.delete(name);
    this.entries.delete(name);
    return deleted;
  }
}
