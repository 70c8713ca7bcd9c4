import { KeyVaultSecretStore } from '../../shared/adapters/azure/key-vault-secret-store';
import { dispatch } from '../../shared/pipeline/dispatch';
import { populate } from '../../shared/pipeline/populate';
import { CachedSecretStore } from '../../shared/pipeline/secret-cache';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { FakeSecretClient } from '../helpers/fake-secret-client';
import { syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

describe('KeyVaultSecretStore', () => {
  const noWait = async () => undefined;

  it('stores the credential under the prefixed name with its origin in a tag, and reads it back', async () => {
    const client = new FakeSecretClient();
    const store = new KeyVaultSecretStore(client, { prefix: 'ds-', sleep: noWait });
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
    const store = new KeyVaultSecretStore(client, { prefix: 'ds-', sleep: noWait });
    await store.put('crm', { value: 'v1', origin: 'https://a.example' });
    await expect(store.delete('crm')).resolves.toBe(true);
    await expect(store.get('crm')).resolves.toBeUndefined();
    await expect(store.delete('crm')).resolves.toBe(false);
    await store.put('crm', { value: 'v2', origin: 'https://a.example' });
    expect(client.calls.recover).toBe(1);
    await expect(store.get('crm')).resolves.toEqual({ value: 'v2', origin: 'https://a.example' });
  });

  it('backs off on 429 and honours Retry-After', async () => {
    const client = new FakeSecretClient();
    const waits: number[] = [];
    const store = new KeyVaultSecretStore(client, {
      prefix: 'ds-',
      backoffMs: 100,
      sleep: async (ms) => void waits.push(ms),
    });
    client.throttleNext = 2;
    await store.put('789', { value: 'Bearer t', origin: 'https://a.example' });
    client.throttleNext = 1;
    client.retryAfter = '3';
    await store.get('789');
    expect(waits).toEqual([100, 200, 3000]);
    expect(client.calls).toMatchObject({ get: 2, set: 3 });
  });

  it('gives up after the last attempt with a storage error', async () => {
    const client = new FakeSecretClient();
    client.throttleNext = 10;
    const store = new KeyVaultSecretStore(client, { prefix: 'ds-', maxAttempts: 3, sleep: noWait });
    await expect(store.get('789')).rejects.toThrow(
      /could not read secret "789" from Key Vault: Too many requests/,
    );
    expect(client.calls.get).toBe(3);
  });

  it('behind the cache, spends no Key Vault call per message in steady state', async () => {
    const target = await new TargetServer().start();
    const pipeline = new EmbeddedPipeline();
    const client = new FakeSecretClient();
    const secrets = new CachedSecretStore(
      new KeyVaultSecretStore(client, { prefix: 'ds-', sleep: noWait }),
      60_000,
    );
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
        await dispatch({ ...pipeline.dispatchDeps, secrets }, record);
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
