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
