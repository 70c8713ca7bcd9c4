import {
  createSecretClient,
  KEY_VAULT_RETRY,
  KeyVaultSecretStore,
} from '../../shared/adapters/azure/key-vault-secret-store';
import { dispatch } from '../../shared/pipeline/dispatch';
import { populate } from '../../shared/pipeline/populate';
import { CachedSecretStore } from '../../shared/pipeline/secret-cache';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { FakeKeyVaultTransport, fakeCredential } from '../helpers/fake-key-vault-transport';
import { FakeSecretClient } from '../helpers/fake-secret-client';
import { syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

describe('KeyVaultSecretStore', () => {
  it('stores the credential under the prefixed name with its origin in a tag, and reads it back', async () => {
    const client = new FakeSecretClient();
    const store = new KeyVaultSecretStore(client, { prefix: 'ds-' });
    await store.put('789', { value: 'Bearer t', origin: 'https://a.example' });
    expect(client.secrets.get('ds-789')).toEqual({
      value: 'Bearer t',
      tags: { 'datasync-origin': 'https://a.example', 'datasync-name': '789' },
    });
    await expect(store.get('789')).resolves.toEqual({ value: 'Bearer t', origin: 'https://a.example' });
    await expect(store.get('unknown')).resolves.toBeUndefined();
  });

  it('deletes a secret (soft delete) and can store the same name again by recovering it first', async () => {
    const client = new FakeSecretClient();
    const store = new KeyVaultSecretStore(client, { prefix: 'ds-' });
    await store.put('crm', { value: 'v1', origin: 'https://a.example' });
    await expect(store.delete('crm')).resolves.toBe(true);
    await expect(store.get('crm')).resolves.toBeUndefined();
    await expect(store.delete('crm')).resolves.toBe(false);
    await store.put('crm', { value: 'v2', origin: 'https://a.example' });
    expect(client.calls.recover).toBe(1);
    await expect(store.get('crm')).resolves.toEqual({ value: 'v2', origin: 'https://a.example' });
  });

  it('leaves throttling to the SDK: one client call per read, a 429 that reaches it is a storage error', async () => {
    const client = new FakeSecretClient();
    client.throttleNext = 1;
    const store = new KeyVaultSecretStore(client, { prefix: 'ds-' });
    await expect(store.get('789')).rejects.toThrow(
      /could not read secret "789" from Key Vault: Too many requests/,
    );
    expect(client.calls.get).toBe(1);
  });

  it('retries 429 in the SDK pipeline, Retry-After honoured, at most KEY_VAULT_RETRY.maxRetries times', async () => {
    const transport = new FakeKeyVaultTransport();
    transport.secrets.set('ds-789', 'Bearer t');
    const store = new KeyVaultSecretStore(
      createSecretClient('https://example.vault.azure.net', fakeCredential, { httpClient: transport }),
      { prefix: 'ds-' },
    );
    transport.throttleNext = 2;
    await expect(store.get('789')).resolves.toEqual({ value: 'Bearer t', origin: 'https://a.example' });
    expect(transport.authenticatedRequests).toBe(3);

    transport.authenticatedRequests = 0;
    transport.throttleNext = 100;
    await expect(store.get('789')).rejects.toThrow(/could not read secret "789" from Key Vault/);
    expect(transport.authenticatedRequests).toBe((KEY_VAULT_RETRY.maxRetries ?? 0) + 1);
  });

  it('behind the cache, spends no Key Vault call per message in steady state', async () => {
    const target = await new TargetServer().start();
    const pipeline = new EmbeddedPipeline();
    const client = new FakeSecretClient();
    const secrets = new CachedSecretStore(new KeyVaultSecretStore(client, { prefix: 'ds-' }), 60_000);
    try {
      for (let i = 0; i < 20; i += 1) {
        await populate(
          { ...pipeline.populateDeps, secrets },
          {
            body: Array.from({ length: 10 }, () => syncRequest(`${target.url}/orders`)),
            authorization: 'Bearer same',
          },
        );
      }
      for (const record of await pipeline.all('datasync'))
        await dispatch({ ...pipeline.consumerDeps, secrets }, record);
      expect(target.calls).toHaveLength(200);
      // The first ingest looks the name up twice (is it a connection? has it changed?) while it does not
      // exist yet, and misses are not cached; every later call is served by the cache.
      expect(client.calls).toMatchObject({ get: 2, set: 1 });
    } finally {
      pipeline.close();
      await target.stop();
    }
  });
});
