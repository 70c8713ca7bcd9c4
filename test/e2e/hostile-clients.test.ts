import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../helpers/local-host';
import { RawConnection } from '../helpers/raw-http';

jest.setTimeout(120_000);

const KEY = 'k3y-for-tests';

/**
 * `npm start` against clients that send malformed requests, hang up mid-upload, flood bodies
 * without a key or come from another site. After each, the same process must still answer.
 */
describe('npm start against hostile and careless clients', () => {
  let dataDir: string;
  let host: LocalHost;
  let port: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-hostile-'));
    host = await new LocalHost({
      DATASYNC_DATA_DIR: dataDir,
      DATASYNC_API_KEY: KEY,
      DATASYNC_MAX_BODY_BYTES: '900',
      DATASYNC_MAX_BUFFERED_BYTES: '1000',
      DATASYNC_ALLOWED_HOSTS: 'dev.box',
    }).start();
    port = Number(new URL(host.url).port);
  });
  afterAll(async () => {
    await host.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const raw = () => new RawConnection(port);
  const post = (path: string, headers: string[], body = '') =>
    [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...headers, '', body].join('\r\n');
  async function stillServing() {
    const response = await fetch(`${host.url}/api/stream/status`, { headers: { 'x-functions-key': KEY } });
    expect(response.status).toBe(200);
  }

  it('answers a request target that is not a URL path, and keeps serving', async () => {
    const connection = raw().write(`GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    expect((await connection.response()).status).toBe(404);
    connection.destroy();
    await stillServing();
  });

  it('keeps serving when a client hangs up mid-upload, and logs it', async () => {
    const connection = raw().write(
      post(
        '/api/stream/sync',
        ['Content-Type: application/json', `x-functions-key: ${KEY}`, 'Content-Length: 800'],
        '{"streamKey":"ab"',
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    connection.destroy();
    await host.waitFor('http.client_gone');
    await stillServing();
  });

  it('answers 401 before reading a body sent without the key', async () => {
    const connection = raw().write(
      post('/api/stream/sync', ['Content-Type: application/json', 'Content-Length: 4194304'], '[{"a":'),
    );
    expect(await connection.response()).toMatchObject({
      status: 401,
      headers: expect.stringMatching(/connection: close/i),
    });
    connection.destroy();
  });

  it('answers 413 for a declared length over the limit before reading it', async () => {
    const connection = raw().write(
      post('/api/stream/sync', [
        'Content-Type: application/json',
        `x-functions-key: ${KEY}`,
        'Content-Length: 901',
      ]),
    );
    expect((await connection.response()).status).toBe(413);
    connection.destroy();
  });

  it('answers 413 for an undeclared (chunked) body as soon as it passes the limit, before it ends', async () => {
    const connection = raw().write(
      post('/api/stream/sync', [
        'Content-Type: application/json',
        `x-functions-key: ${KEY}`,
        'Transfer-Encoding: chunked',
      ]),
    );
    // One chunk of 901 (0x385) bytes and no last chunk: the body never ends.
    connection.write(`385\r\n${' '.repeat(901)}\r\n`);
    expect(await connection.response()).toMatchObject({
      status: 413,
      body: expect.stringContaining('over the limit of 900 bytes'),
    });
    connection.destroy();
    await stillServing();
  });

  it('answers 503 while other bodies fill the buffer cap, and takes bodies again once they are gone', async () => {
    const headers = ['Content-Type: application/json', `x-functions-key: ${KEY}`, 'Content-Length: 800'];
    const first = raw().write(post('/api/stream/sync', [...headers, 'Expect: 100-continue']));
    expect((await first.response({ interim: true })).status).toBe(100);
    const second = raw().write(post('/api/stream/sync', headers));
    expect(await second.response()).toMatchObject({
      status: 503,
      body: expect.stringContaining('1000 bytes of other bodies'),
    });
    const gone = () => host.lines.filter((line) => line.event === 'http.client_gone').length;
    const goneBefore = gone();
    first.destroy();
    second.destroy();
    while (gone() === goneBefore) await new Promise((resolve) => setTimeout(resolve, 20));
    const third = raw().write(
      post(
        '/api/stream/sync',
        ['Content-Type: application/json', `x-functions-key: ${KEY}`, 'Content-Length: 2'],
        '[]',
      ),
    );
    expect((await third.response()).status).toBe(202);
    third.destroy();
  });

  it('refuses a POST a browser could send cross-site (no Content-Type, text/plain) with 415', async () => {
    for (const type of [[], ['Content-Type: text/plain']]) {
      const connection = raw().write(
        post('/api/stream/sync', [...type, `x-functions-key: ${KEY}`, 'Content-Length: 2'], '[]'),
      );
      expect((await connection.response()).status).toBe(415);
      connection.destroy();
    }
  });

  it('answers only loopback Host names and DATASYNC_ALLOWED_HOSTS (DNS rebinding)', async () => {
    const get = async (hostHeader: string) => {
      const connection = raw().write(
        `GET /api/stream/status HTTP/1.1\r\nHost: ${hostHeader}\r\nx-functions-key: ${KEY}\r\n\r\n`,
      );
      const response = await connection.response();
      connection.destroy();
      return response.status;
    };
    expect(await get('evil.example')).toBe(403);
    expect(await get(`evil.example:${port}`)).toBe(403);
    expect(await get(`localhost:${port}`)).toBe(200);
    expect(await get(`[::1]:${port}`)).toBe(200);
    expect(await get(`dev.box:${port}`)).toBe(200);
  });
});

describe('npm start settings that would open the host', () => {
  it('refuses to start with DATASYNC_API_KEY set but empty', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'datasync-hostile-'));
    try {
      await expect(
        new LocalHost({ DATASYNC_DATA_DIR: dataDir, DATASYNC_API_KEY: '' }).start(15_000),
      ).rejects.toThrow(/DATASYNC_API_KEY is set but empty/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
