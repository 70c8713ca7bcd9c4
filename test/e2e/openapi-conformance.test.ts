import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryRequest, syncRequest } from '../helpers/fixtures';
import { LocalHost } from '../helpers/local-host';
import { OpenApiSpec } from '../helpers/openapi-spec';
import { TargetServer } from '../helpers/target-server';

jest.setTimeout(120_000);

const KEY = 'conformance-key';

/** Every answer `npm start` gives here is checked against docs/openapi.yaml. */
describe('docs/openapi.yaml describes what npm start answers', () => {
  const spec = new OpenApiSpec();
  let dataDir: string;
  let target: TargetServer;
  let host: LocalHost;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-openapi-'));
    target = await new TargetServer().start();
    host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir, DATASYNC_API_KEY: KEY }).start();
  });
  afterAll(async () => {
    await host.stop('SIGKILL');
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const request = http.request(
        `${host.url}/api${path}`,
        { method, headers: { 'x-functions-key': KEY, 'content-type': 'application/json', ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  async function expectDocumented(
    method: string,
    path: string,
    status: number,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const response = await call(method, path, text, headers);
    expect(response.status).toBe(status);
    expect(spec.problems(method, path, response.status, response.body)).toEqual([]);
  }

  it('for sync', async () => {
    await expectDocumented('POST', '/stream/sync', 202, syncRequest(`${target.url}/a`), {
      authorization: 'Bearer t',
    });
    await expectDocumented('POST', '/stream/sync', 400, [{ streamMessage: {} }]);
    await expectDocumented('POST', '/stream/sync', 400, '{"broken":');
    await expectDocumented('POST', '/stream/sync', 401, [], { 'x-functions-key': 'wrong' });
    await expectDocumented('POST', '/stream/sync', 403, [], { host: 'evil.example' });
    await expectDocumented('POST', '/stream/sync', 413, [], { 'content-length': String(5 * 1024 * 1024) });
    await expectDocumented('POST', '/stream/sync', 415, [], { 'content-type': 'text/plain' });
  });

  it('for retry and status', async () => {
    target.reply('/missing', { status: 404 });
    await call(
      'POST',
      '/stream/sync',
      JSON.stringify(syncRequest(`${target.url}/missing`, { vaultSecretName: undefined })),
    );
    await host.waitFor('sync.failed');
    await expectDocumented('POST', '/stream/retry', 200, retryRequest('datasync-error-404'));
    await expectDocumented('POST', '/stream/retry', 400, { noOfMessagesToProcess: 0 });
    await expectDocumented('POST', '/stream/retry', 404, retryRequest('never-written'));
    await expectDocumented('GET', '/stream/status', 200);
  });

  it('for message history, held keys and targets', async () => {
    target.reply('/held', { status: 404 });
    const sent = await call(
      'POST',
      '/stream/sync',
      JSON.stringify([
        syncRequest(`${target.url}/held`, { vaultSecretName: undefined }, 'k1'),
        syncRequest(`${target.url}/held`, { vaultSecretName: undefined }, 'k1'),
      ]),
      { 'idempotency-key': 'conformance-1' },
    );
    const [head] = (sent.body as { messages: Array<{ id: string }> }).messages;
    await host.waitFor('sync.failed');
    const history = await call('GET', `/messages/${head?.id}`);
    expect(history.status).toBe(200);
    expect(spec.problems('GET', '/messages/{id}', 200, history.body)).toEqual([]);
    const unknown = await call('GET', '/messages/no-such-id');
    expect(spec.problems('GET', '/messages/{id}', unknown.status, unknown.body)).toEqual([]);
    await expectDocumented('GET', '/keys', 200);
    await expectDocumented('POST', '/keys/release', 200, { streamKey: 'k1' });
    await expectDocumented('POST', '/keys/release', 404, { streamKey: 'k1' });
    await expectDocumented('POST', '/keys/skip', 400, {});
    await expectDocumented('GET', '/targets', 200);
    await expectDocumented('POST', '/targets/pause', 200, { origin: target.url });
    await expectDocumented('POST', '/targets/resume', 200, { origin: target.url });
    await expectDocumented('POST', '/targets/resume', 404, { origin: target.url });
    await expectDocumented('GET', '/stream/status', 200);
  });

  it('the check itself refuses an answer the spec does not describe', () => {
    expect(spec.problems('POST', '/stream/sync', 202, { messages: [{ stream: 'datasync' }] })).not.toEqual(
      [],
    );
    expect(spec.problems('POST', '/stream/sync', 418, {})).not.toEqual([]);
    expect(spec.problems('GET', '/stream/status', 200, { streams: [{ stream: 'bad name!' }] })).not.toEqual(
      [],
    );
  });
});
