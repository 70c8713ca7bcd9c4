import type { KeyVaultSecret, SetSecretOptions } from '@azure/keyvault-secrets';
import type { SecretClientLike } from '../../shared/adapters/azure/key-vault-secret-store';

function restError(statusCode: number, message: string, retryAfter?: string): Error {
  return Object.assign(new Error(message), {
    name: 'RestError',
    statusCode,
    response: { headers: { get: (name: string) => (name === 'retry-after' ? retryAfter : undefined) } },
  });
}

/**
 * A fake of the `SecretClient` calls the adapter makes: 404 (SecretNotFound) for unknown names,
 * names limited as Key Vault limits them, tags kept, soft delete (a deleted name answers 409 to a
 * write until it is recovered), 429 for the next N calls when told, calls counted.
 */
export class FakeSecretClient implements SecretClientLike {
  readonly secrets = new Map<string, { value: string; tags: Record<string, string> }>();
  readonly deleted = new Map<string, { value: string; tags: Record<string, string> }>();
  readonly calls = { get: 0, set: 0, delete: 0, recover: 0 };
  throttleNext = 0;
  retryAfter: string | undefined;

  async getSecret(name: string): Promise<KeyVaultSecret> {
    this.calls.get += 1;
    this.throttle();
    const stored = this.secrets.get(name);
    if (!stored) throw restError(404, `A secret with (name/id) ${name} was not found in this key vault.`);
    return {
      name,
      value: stored.value,
      properties: { name, vaultUrl: 'https://fake.vault', tags: stored.tags },
    };
  }

  async setSecret(name: string, value: string, options: SetSecretOptions = {}): Promise<KeyVaultSecret> {
    this.calls.set += 1;
    this.throttle();
    if (!/^[0-9A-Za-z-]{1,127}$/.test(name)) throw restError(400, `Invalid secret name ${name}`);
    if (this.deleted.has(name))
      throw restError(409, `Secret ${name} is currently in a deleted but recoverable state`);
    this.secrets.set(name, { value, tags: { ...options.tags } });
    return { name, value, properties: { name, vaultUrl: 'https://fake.vault', tags: options.tags } };
  }

  async beginDeleteSecret(name: string) {
    this.calls.delete += 1;
    this.throttle();
    const stored = this.secrets.get(name);
    if (!stored) throw restError(404, `A secret with (name/id) ${name} was not found in this key vault.`);
    this.secrets.delete(name);
    this.deleted.set(name, stored);
    return { pollUntilDone: async () => undefined };
  }

  async beginRecoverDeletedSecret(name: string) {
    this.calls.recover += 1;
    const stored = this.deleted.get(name);
    if (!stored) throw restError(404, `A deleted secret ${name} was not found in this key vault.`);
    this.deleted.delete(name);
    this.secrets.set(name, stored);
    return { pollUntilDone: async () => undefined };
  }

  private throttle(): void {
    if (this.throttleNext <= 0) return;
    this.throttleNext -= 1;
    throw restError(429, 'Too many requests', this.retryAfter);
  }
}
