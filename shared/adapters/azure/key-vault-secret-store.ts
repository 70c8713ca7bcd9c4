import { azureStorageError, restStatus } from './azure-errors';
import type { TokenCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
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
}

/**
 * Throttling (429, with the service's Retry-After) and transient faults are retried by the SDK's own
 * pipeline: at most 4 retries, exponential from 500 ms, none longer than 8 s.
 */
export const KEY_VAULT_RETRY: NonNullable<SecretClientOptions['retryOptions']> = {
  maxRetries: 4,
  retryDelayInMs: 500,
  maxRetryDelayInMs: 8000,
};

/** The vault's `SecretClient` with the retry policy above (`httpClient`: tests fake the transport). */
export function createSecretClient(
  vaultUrl: string,
  credential: TokenCredential,
  options: Pick<SecretClientOptions, 'httpClient'> = {},
): SecretClient {
  return new SecretClient(vaultUrl, credential, { ...options, retryOptions: KEY_VAULT_RETRY });
}

const ORIGIN_TAG = 'datasync-origin';

/**
 * Secrets in Key Vault. The origin a credential is bound to lives in a tag; throttling is retried by
 * the client's pipeline (`createSecretClient`), not here, so retries do not multiply. Put a
 * `CachedSecretStore` in front: Key Vault allows about 300 writes and 4000 reads per 10 s per vault,
 * far below one call per message.
 */
export class KeyVaultSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretClientLike,
    private readonly options: KeyVaultSecretStoreOptions,
  ) {}

  async get(name: string): Promise<StoredSecret | undefined> {
    try {
      const secret = await this.client.getSecret(this.options.prefix + name);
      const origin = secret.properties.tags?.[ORIGIN_TAG];
      if (secret.value === undefined || origin === undefined) return undefined;
      return { value: secret.value, origin };
    } catch (error) {
      if (restStatus(error) === 404) return undefined;
      throw azureStorageError(`read secret "${name}" from Key Vault`, error);
    }
  }

  async put(name: string, secret: StoredSecret): Promise<void> {
    const vaultName = this.options.prefix + name;
    const set = () =>
      this.client.setSecret(vaultName, secret.value, {
        tags: { [ORIGIN_TAG]: secret.origin, 'datasync-name': name },
        contentType: 'datasync target credential',
      });
    try {
      await set().catch(async (error: unknown) => {
        // A deleted name stays reserved while soft-deleted (purge protection): recover it, then write.
        if (restStatus(error) !== 409) throw error;
        await (await this.client.beginRecoverDeletedSecret(vaultName)).pollUntilDone();
        await set();
      });
    } catch (error) {
      throw azureStorageError(`store secret "${name}" in Key Vault`, error);
    }
  }

  /** Soft-deletes the secret (the vault keeps it for its retention period, recoverable). */
  async delete(name: string): Promise<boolean> {
    try {
      const poller = await this.client.beginDeleteSecret(this.options.prefix + name);
      await poller.pollUntilDone();
      return true;
    } catch (error) {
      if (restStatus(error) === 404) return false;
      throw azureStorageError(`delete secret "${name}" from Key Vault`, error);
    }
  }
}
