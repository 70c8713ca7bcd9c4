import { CachedSecretStore } from '../../shared/pipeline/secret-cache';
import { CountingSecretStore } from '../helpers/counting-secret-store';

describe('CachedSecretStore', () => {
  let now = 0;
  const clock = () => now;

  it('writes only when the value or origin changed', async () => {
    const inner = new CountingSecretStore();
    const cache = new CachedSecretStore(inner, 60_000, clock);
    for (let i = 0; i < 100; i += 1) await cache.put('789', { value: 'Bearer a', origin: 'https://t' });
    expect(inner.puts).toBe(1);
    await cache.put('789', { value: 'Bearer b', origin: 'https://t' });
    await cache.put('789', { value: 'Bearer b', origin: 'https://other' });
    expect(inner.puts).toBe(3);
  });

  it('reads each name at most once per TTL', async () => {
    const inner = new CountingSecretStore();
    inner.values.set('789', { value: 'Bearer a', origin: 'https://t' });
    const cache = new CachedSecretStore(inner, 60_000, clock);
    for (let i = 0; i < 1000; i += 1) await cache.get('789');
    expect(inner.gets).toBe(1);
    now += 60_001;
    await expect(cache.get('789')).resolves.toEqual({ value: 'Bearer a', origin: 'https://t' });
    expect(inner.gets).toBe(2);
  });

  it('does not write when a cold cache finds the same value already stored', async () => {
    const inner = new CountingSecretStore();
    inner.values.set('789', { value: 'Bearer a', origin: 'https://t' });
    await new CachedSecretStore(inner, 60_000, clock).put('789', { value: 'Bearer a', origin: 'https://t' });
    expect(inner.puts).toBe(0);
  });

  it('keeps at most its bound of names, dropping the least recently used', async () => {
    const inner = new CountingSecretStore();
    for (let i = 0; i < 5; i += 1) inner.values.set(`n${i}`, { value: `v${i}`, origin: 'https://t' });
    const cache = new CachedSecretStore(inner, 60_000, clock, 3);
    for (const name of ['n0', 'n1', 'n2', 'n0', 'n3', 'n4']) await cache.get(name);
    expect(cache.size).toBe(3);
    const reads = inner.gets;
    await cache.get('n0');
    expect(inner.gets).toBe(reads);
    await cache.get('n1');
    expect(inner.gets).toBe(reads + 1);
  });

  it('reads a name that had no secret again at once: a secret stored since is seen before the TTL', async () => {
    const inner = new CountingSecretStore();
    const cache = new CachedSecretStore(inner, 60_000, clock);
    await expect(cache.get('789')).resolves.toBeUndefined();
    inner.values.set('789', { value: 'Bearer a', origin: 'https://t' });
    await expect(cache.get('789')).resolves.toEqual({ value: 'Bearer a', origin: 'https://t' });
    expect(inner.gets).toBe(2);
  });

  it('keeps no entry for a name that has no secret', async () => {
    const inner = new CountingSecretStore();
    const cache = new CachedSecretStore(inner, 60_000, clock);
    for (let i = 0; i < 1000; i += 1) await cache.get(`unknown-${i}`);
    expect(cache.size).toBe(0);
  });
});
