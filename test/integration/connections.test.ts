import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpApi, type ApiRequest } from '../../shared/api/http-api';
import { LocalServer } from '../../shared/local/local-server';
import { dispatch, type Source } from '../../shared/pipeline/dispatch';
import { populate } from '../../shared/pipeline/populate';
import { EmbeddedPipeline, type PipelineOptions } from '../helpers/embedded-pipeline';
import { envelope, syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';
import { TokenServer } from '../helpers/token-server';

const CLIENT_SECRET = 'client-secret-4f1b9c2e7d';
const API_KEY = 'api-key-value-8c3e1a77';
const SIGNING_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const text = (value: unknown) =>
  JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? String(item) : item));

function request(body?: unknown): ApiRequest {
  return {
    header: (name) => (name.toLowerCase() === 'content-type' ? 'application/json' : undefined),
    body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
  };
}

/** Every file under `dir`, read as text (the archive). */
function filesUnder(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

describe('connections', () => {
  let pipeline: EmbeddedPipeline;
  let api: HttpApi;
  let tokens: TokenServer;
  let target: TargetServer;

  async function setUp(options: PipelineOptions = {}, expiresInS = 60, bodyOnly = false) {
    pipeline = new EmbeddedPipeline({
      ...options,
      env: { DATASYNC_MAX_BODY_BYTES: String(64 * 1024), ...options.env },
    });
    api = pipeline.api();
    tokens = await new TokenServer({
      clientId: 'datasync',
      clientSecret: CLIENT_SECRET,
      expiresInS,
      bodyOnly,
    }).start();
    // The target accepts only tokens the token server issued and still honours.
    target = await new TargetServer().start();
    target.reply('*', (call) =>
      call.headers.authorization === undefined || tokens.isValid(call.headers.authorization)
        ? { status: 200 }
        : { status: 401, body: `token refused: ${call.headers.authorization}` },
    );
  }

  afterEach(async () => {
    pipeline.close();
    await tokens.stop();
    await target.stop();
  });

  function oauth(overrides: Record<string, unknown> = {}) {
    return {
      origin: target.url,
      auth: {
        type: 'oauth2-client-credentials',
        tokenUrl: tokens.url,
        clientId: 'datasync',
        clientSecret: CLIENT_SECRET,
        scope: 'orders.write',
      },
      ...overrides,
    };
  }

  /** Ingests one message naming `crm` without an Authorization header and returns its record. */
  async function ingest(path = '/orders', streamKey = 'key1'): Promise<Source> {
    const { appended } = await populate(pipeline.populateDeps, {
      body: syncRequest(`${target.url}${path}`, { vaultSecretName: 'crm' }, streamKey),
    });
    const records = await pipeline.all('datasync');
    return records.find((record) => record.body.id === appended[0]?.id) as Source;
  }

  it('PUT stores a connection (201, then 200), GET answers it without secrets, DELETE removes it', async () => {
    await setUp();
    const put = await api.putConnection(
      request(oauth({ signing: { scheme: 'standard-webhooks', secret: SIGNING_SECRET } })),
      'crm',
    );
    const view = {
      name: 'crm',
      origin: target.url,
      auth: {
        type: 'oauth2-client-credentials',
        tokenUrl: tokens.url,
        clientId: 'datasync',
        scope: 'orders.write',
      },
      signing: { scheme: 'standard-webhooks' },
    };
    expect(put).toEqual({ status: 201, body: view });
    expect((await api.putConnection(request(oauth()), 'crm')).status).toBe(200);
    expect(await api.getConnection(request(), 'crm')).toEqual({
      status: 200,
      body: { ...view, signing: undefined },
    });
    expect(await api.deleteConnection(request(), 'crm')).toEqual({ status: 204, body: undefined });
    expect((await api.getConnection(request(), 'crm')).status).toBe(404);
    expect((await api.deleteConnection(request(), 'crm')).status).toBe(404);
    expect(await pipeline.secrets.get('crm')).toBeUndefined();
  });

  it('answers 400 naming every problem, and stores nothing', async () => {
    await setUp();
    const response = await api.putConnection(
      request({
        origin: 'https://api.example.com/orders',
        auth: { type: 'oauth2-client-credentials', tokenUrl: 'ftp://login.example.com/token', clientId: 'x' },
        signing: { scheme: 'standard-webhooks', secret: 'not-a-whsec' },
      }),
      'bad name',
    );
    expect(response).toMatchObject({ status: 400 });
    expect((response.body as { problems: string[] }).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: must be 1-127 characters/),
        expect.stringMatching(/^origin: must be scheme:\/\/host\[:port\]/),
        expect.stringMatching(/^auth\.tokenUrl: must be an absolute http\(s\) URL/),
        'auth.clientSecret: required',
        expect.stringMatching(/^signing\.secret: must be "whsec_"/),
      ]),
    );
    expect(await pipeline.secrets.get('bad name')).toBeUndefined();
  });

  it('refuses at PUT a token endpoint on a private address when private targets are not allowed', async () => {
    await setUp({ allowPrivate: false });
    const response = await api.putConnection(request(oauth({ origin: 'https://api.example.com' })), 'crm');
    expect(response.status).toBe(400);
    expect((response.body as { problems: string[] }).problems).toEqual([
      expect.stringMatching(/^auth\.tokenUrl: address 127\.0\.0\.1 is loopback/),
    ]);
  });

  it('does not call a token endpoint the address policy refuses at delivery: tokenUnavailable', async () => {
    await setUp({ allowPrivate: false });
    // Stored while the policy allowed it; the policy is checked again on every token call.
    await pipeline.secrets.put('crm', {
      value: `datasync-connection/1 ${JSON.stringify({ auth: oauth().auth })}`,
      origin: 'https://api.example.com',
    });
    const body = envelope('https://api.example.com/orders', {
      streamMessage: { ...envelope('https://api.example.com/orders').streamMessage, vaultSecretName: 'crm' },
    });
    const outcome = await dispatch(pipeline.consumerDeps, { stream: 'datasync', offset: 0n, body });
    expect(outcome).toMatchObject({ kind: 'routed', failure: { reason: 'tokenUnavailable' } });
    expect(outcome.kind === 'routed' && outcome.failure.detail).toMatch(/forbiddenTarget: .*127\.0\.0\.1/);
    expect(tokens.requests).toBe(0);
  });

  it('ingest accepts a connection name without Authorization, and refuses one that would replace it', async () => {
    await setUp();
    await api.putConnection(request(oauth()), 'crm');
    await expect(ingest()).resolves.toBeDefined();
    await expect(
      populate(pipeline.populateDeps, {
        body: syncRequest(`${target.url}/orders`, { vaultSecretName: 'crm' }),
        authorization: 'Bearer from-the-source',
      }),
    ).rejects.toMatchObject({
      problems: [
        'streamMessage.vaultSecretName: "crm" names a connection; send the message without an Authorization header',
      ],
    });
    await expect(
      populate(pipeline.populateDeps, {
        body: syncRequest('https://elsewhere.example/x', { vaultSecretName: 'crm' }),
      }),
    ).rejects.toMatchObject({
      problems: [
        `streamMessage.vaultSecretName: "crm" is bound to ${target.url}, not https://elsewhere.example`,
      ],
    });
  });

  it('shares one token fetch among many concurrent deliveries', async () => {
    await setUp();
    await api.putConnection(request(oauth()), 'crm');
    const sources: Source[] = [];
    for (let i = 0; i < 20; i += 1) sources.push(await ingest('/orders', `key-${i}`));
    const outcomes = await Promise.all(sources.map((source) => dispatch(pipeline.consumerDeps, source)));
    expect(outcomes.every((outcome) => outcome.kind === 'delivered')).toBe(true);
    expect(tokens.requests).toBe(1);
    expect(tokens.received[0]?.body).toBe('grant_type=client_credentials&scope=orders.write');
    expect(tokens.received[0]?.authorization).toMatch(/^Basic /);
    expect(new Set(target.calls.map((call) => call.headers.authorization)).size).toBe(1);
  });

  it('replaces a token that expires during the run before the target sees it', async () => {
    await setUp({}, 1);
    await api.putConnection(request(oauth()), 'crm');
    expect(await dispatch(pipeline.consumerDeps, await ingest())).toMatchObject({ kind: 'delivered' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await dispatch(pipeline.consumerDeps, await ingest())).toMatchObject({ kind: 'delivered' });
    expect(tokens.requests).toBe(2);
    // No 401 in between: the new token was fetched before the call, not after a refusal.
    expect(target.calls).toHaveLength(2);
  });

  it('after a rotation, answers the 401 with one new token and delivers the message', async () => {
    await setUp();
    await api.putConnection(request(oauth()), 'crm');
    await dispatch(pipeline.consumerDeps, await ingest());
    tokens.rotate();
    expect(await dispatch(pipeline.consumerDeps, await ingest())).toMatchObject({ kind: 'delivered' });
    expect(tokens.requests).toBe(2);
    expect(target.calls.map((call) => tokens.isValid(call.headers.authorization))).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('refreshes only once: a target that keeps answering 401 fails the message with its 401', async () => {
    await setUp();
    target.reply('/locked', { status: 401, body: 'no' });
    await api.putConnection(request(oauth()), 'crm');
    const outcome = await dispatch(pipeline.consumerDeps, await ingest('/locked'));
    expect(outcome).toMatchObject({ kind: 'routed', failure: { reason: 'http', status: 401 } });
    expect(target.callsTo('/locked')).toHaveLength(2);
    expect(tokens.requests).toBe(2);
  });

  it('sends the client secret in the body when the server refuses HTTP Basic', async () => {
    await setUp({}, 60, true);
    await api.putConnection(request(oauth()), 'crm');
    expect(await dispatch(pipeline.consumerDeps, await ingest())).toMatchObject({ kind: 'delivered' });
    expect(tokens.received.map((received) => received.authorization?.split(' ')[0])).toEqual([
      'Basic',
      undefined,
    ]);
    expect(new URLSearchParams(tokens.received[1]?.body).get('client_secret')).toBe(CLIENT_SECRET);
  });

  it('a broken token endpoint fails the message as tokenUnavailable, routed by the mapping like any reason', async () => {
    await setUp();
    await api.putConnection(request(oauth()), 'crm');
    tokens.broken = true;
    const routing = pipeline.consumerDeps.routing.withOverrides([
      { responsecode: 'tokenUnavailable', stream: 'datasync-error-token' },
    ]);
    const outcome = await dispatch(pipeline.consumerDeps, await ingest(), { routing });
    expect(outcome).toMatchObject({
      kind: 'routed',
      stream: 'datasync-error-token',
      failure: { reason: 'tokenUnavailable', routedBy: 'tokenUnavailable' },
    });
    expect(outcome.kind === 'routed' && outcome.failure.detail).toMatch(
      /^token endpoint http:\/\/127\.0\.0\.1:\d+: answered 500/,
    );
    expect(target.calls).toHaveLength(0);
  });

  it('a header connection sends its header instead of an Authorization header', async () => {
    await setUp();
    await api.putConnection(
      request({ origin: target.url, auth: { type: 'header', name: 'X-Api-Key', value: API_KEY } }),
      'crm',
    );
    expect(await dispatch(pipeline.consumerDeps, await ingest())).toMatchObject({ kind: 'delivered' });
    expect(target.calls[0]?.headers['x-api-key']).toBe(API_KEY);
    expect(target.calls[0]?.headers.authorization).toBeUndefined();
    expect(tokens.requests).toBe(0);
  });

  it('signs each call per Standard Webhooks: the target verifies the signature with the secret', async () => {
    await setUp();
    const signing = { scheme: 'standard-webhooks', secret: SIGNING_SECRET };
    await api.putConnection(request(oauth({ signing })), 'crm');
    const source = await ingest();
    await dispatch(pipeline.consumerDeps, source);
    const [call] = target.calls;
    const id = call?.headers['webhook-id'] as string;
    const timestamp = call?.headers['webhook-timestamp'] as string;
    expect(id).toBe(source.body.id);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
    const key = Buffer.from(SIGNING_SECRET.split('_')[1] as string, 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${call?.body}`).digest('base64');
    expect(call?.headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('keeps every secret out of GET answers, logs, error records, message history and the archive', async () => {
    await setUp({ maxAttempts: 1 });
    const signing = { scheme: 'standard-webhooks', secret: SIGNING_SECRET };
    await api.putConnection(request(oauth({ signing })), 'crm');
    // The target echoes what it received, the token included.
    target.reply('/echo', (call) => ({ status: 500, body: JSON.stringify(call.headers) }));
    const source = await ingest('/echo');
    const outcome = await dispatch(pipeline.consumerDeps, source);
    expect(outcome).toMatchObject({ kind: 'routed', unrecoverable: true });
    const issued = target.calls[0]?.headers.authorization?.replace('Bearer ', '') as string;
    expect(issued).toMatch(/^tok-/);
    const seen = [
      text(await api.getConnection(request(), 'crm')),
      pipeline.log.text(),
      text(await pipeline.all('datasync')),
      text(await pipeline.all('datasync-error-unexpected')),
      text(await pipeline.states.history(source.body.id)),
      filesUnder(join(pipeline.dir, 'archive')),
    ].join('\n');
    expect(seen).toContain('[redacted]');
    for (const secret of [CLIENT_SECRET, SIGNING_SECRET, SIGNING_SECRET.slice(6), issued])
      expect(seen).not.toContain(secret);
  });

  it('the local server routes PUT, GET and DELETE /api/connections/{name}', async () => {
    await setUp();
    const server = new LocalServer(
      api,
      { maxBodyBytes: 64 * 1024, maxBufferedBytes: 1024 * 1024, allowedHosts: [] },
      pipeline.log,
    );
    const base = `http://127.0.0.1:${await server.listen(0)}/api/connections/crm`;
    try {
      const json = { 'content-type': 'application/json' };
      const put = await fetch(base, { method: 'PUT', headers: json, body: JSON.stringify(oauth()) });
      expect(put.status).toBe(201);
      const got = await fetch(base);
      expect(got.status).toBe(200);
      expect(await got.text()).not.toContain(CLIENT_SECRET);
      expect((await fetch(base, { method: 'POST', headers: json, body: '{}' })).status).toBe(405);
      const deleted = await fetch(base, { method: 'DELETE' });
      expect([deleted.status, await deleted.text()]).toEqual([204, '']);
      expect((await fetch(base)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
