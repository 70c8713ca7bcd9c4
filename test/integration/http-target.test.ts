import type { lookup } from 'node:dns';
import { HttpTarget } from '../../shared/adapters/http/http-target';
import { TargetPolicy } from '../../shared/pipeline/target-policy';
import { TargetServer } from '../helpers/target-server';

describe('HttpTarget', () => {
  let server: TargetServer;
  let target: HttpTarget | undefined;
  beforeEach(async () => (server = await new TargetServer().start()));
  afterEach(async () => {
    target?.close();
    await server.stop();
  });

  const make = (allowPrivate: boolean, timeoutMs = 1000) =>
    (target = new HttpTarget({
      timeoutMs,
      policy: new TargetPolicy({ allowlist: ['*'], allowPrivate }),
      maxSocketsPerHost: 4,
    }));

  it('refuses, without connecting, a name that resolves to a loopback address', async () => {
    const port = new URL(server.url).port;
    await expect(
      make(false).call({ method: 'POST', url: `http://localhost:${port}/x`, headers: {} }),
    ).rejects.toMatchObject({
      reason: 'forbiddenTarget',
    });
    expect(server.calls).toHaveLength(0);
  });

  it('refuses an IP literal in any spelling before connecting', async () => {
    const port = new URL(server.url).port;
    for (const host of ['127.0.0.1', '2130706433', '[::ffff:127.0.0.1]', '0x7f000001']) {
      await expect(
        make(false).call({ method: 'DELETE', url: `http://${host}:${port}/x`, headers: {} }),
      ).rejects.toMatchObject({
        reason: 'forbiddenTarget',
      });
    }
    expect(server.calls).toHaveLength(0);
  });

  it('reuses connections across calls (keep-alive)', async () => {
    const client = make(true);
    for (let i = 0; i < 5; i += 1) await client.call({ method: 'POST', url: `${server.url}/x`, headers: {} });
    expect(server.connections).toBe(1);
  });

  it('keeps only the start of a large error body and reads Retry-After', async () => {
    server.reply('/busy', { status: 429, body: 'x'.repeat(100_000), headers: { 'retry-after': '7' } });
    const response = await make(true).call({ method: 'POST', url: `${server.url}/busy`, headers: {} });
    expect(response).toEqual({ status: 429, bodyExcerpt: 'x'.repeat(2048), retryAfterMs: 7000 });
  });
});

describe('HttpTarget SSRF guard at connect time', () => {
  let server: TargetServer;
  beforeEach(async () => (server = await new TargetServer().start()));
  afterEach(() => server.stop());

  /** A DNS that answers what the test says, like a rebinding attacker's name server. */
  const fakeDns = (answers: string[]): typeof lookup =>
    ((_hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      const address = answers.shift() ?? '127.0.0.1';
      const family = address.includes(':') ? 6 : 4;
      if ((options as { all?: boolean }).all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    }) as unknown as typeof lookup;

  it('checks the address a name resolves to, not the name: a public-looking name for 127.0.0.1 is refused', async () => {
    const policy = new TargetPolicy({ allowlist: ['*'], allowPrivate: false });
    const target = new HttpTarget({
      timeoutMs: 1000,
      policy,
      maxSocketsPerHost: 2,
      resolve: fakeDns(['127.0.0.1']),
    });
    const url = `http://api.partner.example:${new URL(server.url).port}/orders`;
    expect(policy.refusalForUrl(url)).toBeUndefined();
    await expect(target.call({ method: 'POST', url, headers: {} })).rejects.toMatchObject({
      reason: 'forbiddenTarget',
      message: expect.stringMatching(/resolves to a forbidden address: address 127\.0\.0\.1 is loopback/),
    });
    expect(server.calls).toHaveLength(0);
    target.close();
  });

  it('catches a name that rebinds to the metadata address and to an IPv4-mapped loopback', async () => {
    const policy = new TargetPolicy({ allowlist: ['*'], allowPrivate: false });
    const target = new HttpTarget({
      timeoutMs: 1000,
      policy,
      maxSocketsPerHost: 2,
      resolve: fakeDns(['169.254.169.254', '::ffff:127.0.0.1']),
    });
    for (let i = 0; i < 2; i += 1) {
      await expect(
        target.call({ method: 'DELETE', url: 'http://rebind.example/x', headers: {} }),
      ).rejects.toMatchObject({
        reason: 'forbiddenTarget',
      });
    }
    target.close();
  });
});

describe('HttpTarget faults', () => {
  let server: TargetServer;
  let target: HttpTarget;
  beforeEach(async () => {
    server = await new TargetServer().start();
    target = new HttpTarget({
      timeoutMs: 300,
      policy: new TargetPolicy({ allowlist: ['*'], allowPrivate: true }),
      maxSocketsPerHost: 2,
    });
  });
  afterEach(async () => {
    target.close();
    await server.stop();
  });

  it('reports a connection reset as a network failure', async () => {
    server.reply('/reset', { status: 200, reset: true });
    await expect(
      target.call({ method: 'POST', url: `${server.url}/reset`, headers: {} }),
    ).rejects.toMatchObject({
      reason: 'network',
    });
  });

  it('holds a whole call, slow body included, to the timeout', async () => {
    server.reply('/trickle', { status: 200, trickle: { chunks: 50, intervalMs: 50 } });
    const started = Date.now();
    await expect(
      target.call({ method: 'POST', url: `${server.url}/trickle`, headers: {} }),
    ).rejects.toMatchObject({
      reason: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
