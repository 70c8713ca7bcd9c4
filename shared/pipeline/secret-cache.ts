import { isSecretUnreadableError } from './errors';
import type { SecretStore, StoredSecret } from './ports';

interface Entry {
  secret: StoredSecret | undefined;
  expiresAt: number;
}

/** How long "no such secret" is believed: short, because another instance may store it. */
const MISSING_TTL_MS = 5_000;

/**
 * Keeps the secret store off the per-message path: reads at most once per TTL per name and writes
 * only when the value or its origin changed (Key Vault allows ~300 writes / 10 s per vault).
 */
export class CachedSecretStore implements SecretStore {
  private readonly entries = new Map<string, Entry>();
  /** Calls that reached the secret store behind the cache. */
  readonly backendCalls = { reads: 0, writes: 0 };

  constructor(
    private readonly inner: SecretStore,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(name: string): Promise<StoredSecret | undefined> {
    const entry = this.entries.get(name);
    if (entry && entry.expiresAt > this.now()) return entry.secret;
    this.backendCalls.reads += 1;
    const secret = await this.inner.get(name);
    this.remember(name, secret);
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
    this.remember(name, secret);
  }

  async delete(name: string): Promise<boolean> {
    this.backendCalls.writes += 1;
    const deleted = await this.inner.delete(name);
    this.remember(name, undefined);
    return deleted;
  }

  private remember(name: string, secret: StoredSecret | undefined): void {
    const ttl = secret ? this.ttlMs : Math.min(this.ttlMs, MISSING_TTL_MS);
    this.entries.set(name, { secret, expiresAt: this.now() + ttl });
  }
}
