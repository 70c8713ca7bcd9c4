import type { SecretClient } from '@azure/keyvault-secrets';
import { StorageError } from '../../pipeline/errors';
import type { SecretStore, StoredSecret } from '../../pipeline/ports';

interface Poller {
  pollUntilDone(): Promise<unknown>;
}

/** The part of `SecretClient` this adapter uses (and the test fake implements). */
export type SecretClientLike = Pick<SecretClient, 'getSecret' | 'setSecret'> & {
  beginDeleteSecret(name: string): Promise<Poller>;
  beginRecoverDeletedSecret(name: string): Promise<Poller>;
};

export interface KeyVaultSecretStoreOptions {
  /** Prepended to every name, so the product's secrets are recognisable in a shared vault. */
  prefix: string;
  /** Attempts for a throttled (429) call before giving up. */
  maxAttempts?: number;
  /** First backoff; doubled per attempt, or the service's Retry-After when it says. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const ORIGIN_TAG = 'datasync-origin';

/**
 * Secrets in Key Vault. The origin a credential is bound to lives in a tag; throttling (429) is
 * retried with backoff. Put a `CachedSecretStore` in front: Key Vault allows about 300 writes and
 * 4000 reads per 10 s per vault, far below one call per message.
 */
export class KeyVaultSecretStore implements SecretStore {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: SecretClientLike,
    private readonly options: KeyVaultSecretStoreOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 500;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async get(name: string): Promise<StoredSecret | undefined> {
    try {
      const secret = await this.withBackoff(() => this.client.getSecret(this.options.prefix + name));
      const origin = secret.properties.tags?.[ORIGIN_TAG];
      if (secret.value === undefined || origin === undefined) return undefined;
      return { value: secret.value, origin };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw new StorageError(`could not read secret "${name}" from Key Vault: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async put(name: string, secret: StoredSecret): Promise<void> {
    const vaultName = this.options.prefix + name;
    const set = () =>
      this.withBackoff(() =>
        this.client.setSecret(vaultName, secret.value, {
          tags: { [ORIGIN_TAG]: secret.origin, 'datasync-name': name },
          contentType: 'datasync target credential',
        }),
      );
    try {
      await set().catch(async (error: unknown) => {
        // A deleted name stays reserved while soft-deleted (purge protection): recover it, then write.
        if (statusOf(error) !== 409) throw error;
        await (
          await this.withBackoff(() => this.client.beginRecoverDeletedSecret(vaultName))
        ).pollUntilDone();
        await set();
      });
    } catch (error) {
      throw new StorageError(`could not store secret "${name}" in Key Vault: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Soft-deletes the secret (the vault keeps it for its retention period, recoverable). */
  async delete(name: string): Promise<boolean> {
    try {
      const poller = await this.withBackoff(() => this.client.beginDeleteSecret(this.options.prefix + name));
      await poller.pollUntilDone();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw new StorageError(
        `could not delete secret "${name}" from Key Vault: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  private async withBackoff<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (statusOf(error) !== 429 || attempt >= this.maxAttempts) throw error;
        await this.sleep(retryAfterMs(error) ?? this.backoffMs * 2 ** (attempt - 1));
      }
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function retryAfterMs(error: unknown): number | undefined {
  const header = (
    error as { response?: { headers?: { get(name: string): string | undefined } } }
  ).response?.headers?.get('retry-after');
  const seconds = Number(header);
  return header !== undefined && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}
