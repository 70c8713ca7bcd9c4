import { HttpApi, type ApiRequest } from '../../shared/api/http-api';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { retryRequest, syncRequest } from '../helpers/fixtures';

function request(body: unknown, authorization?: string): ApiRequest {
  const headers: Record<string, string | undefined> = { 'content-type': 'application/json', authorization };
  return { header: (name) => headers[name.toLowerCase()], body: Buffer.from(JSON.stringify(body)) };
}

describe('ingest when the data directory cannot be written', () => {
  let pipeline: EmbeddedPipeline;
  let api: HttpApi;

  beforeEach(async () => {
    pipeline = new EmbeddedPipeline();
    api = pipeline.api();
    // One accepted message, so "nothing half-written" is measured against existing data.
    expect((await api.sync(request(syncRequest('https://t.example/a'), 'Bearer before'))).status).toBe(202);
  });
  afterEach(() => pipeline.close());

  async function assertNothingNewWritten() {
    pipeline.db.pragma('query_only = OFF');
    expect(await pipeline.all('datasync')).toHaveLength(1);
    await expect(pipeline.secrets.get('789')).resolves.toMatchObject({ value: 'Bearer before' });
  }

  it('answers 503 "refused access" (code denied, no Retry-After) when the database is read-only', async () => {
    pipeline.db.pragma('query_only = ON');
    const response = await api.sync(
      request([syncRequest('https://t.example/b'), syncRequest('https://t.example/c')], 'Bearer after'),
    );
    expect(response).toEqual({
      status: 503,
      body: {
        error: expect.stringMatching(/^storage refused access .*, nothing was accepted: .*readonly/),
        code: 'denied',
      },
    });
    await assertNothingNewWritten();
  });

  it('answers 507 (code full) naming the cause when the disk is full, with no partial batch', async () => {
    const pages = pipeline.db.pragma('page_count', { simple: true }) as number;
    pipeline.db.pragma(`max_page_count = ${pages + 1}`);
    const big = Array.from({ length: 50 }, (_, i) =>
      syncRequest('https://t.example/b', {
        vaultSecretName: undefined,
        targetRestApiPayload: { i, pad: 'x'.repeat(4000) },
      }),
    );
    const response = await api.sync(request(big));
    expect(response).toEqual({
      status: 507,
      body: { error: expect.stringMatching(/^storage is full, .*database or disk is full/), code: 'full' },
    });
    await assertNothingNewWritten();
  });
});

describe('API reads when the database cannot be read', () => {
  let pipeline: EmbeddedPipeline;
  let api: HttpApi;

  beforeEach(() => {
    pipeline = new EmbeddedPipeline();
    api = pipeline.api();
  });
  afterEach(() => pipeline.close());

  const get = (): ApiRequest => ({ header: () => undefined, body: Buffer.alloc(0) });

  it.each([
    ['the message history', 'message_state', () => api.message(get(), 'some-id')],
    ['a replay', 'streams', () => api.retry(request(retryRequest('datasync-error-503')))],
    ['the held keys', 'key_holds', () => api.keys(get())],
    [
      'an Idempotency-Key',
      'ingest_keys',
      () =>
        api.sync({
          ...request(syncRequest('https://t.example/a', { vaultSecretName: undefined })),
          header: (name) => ({ 'content-type': 'application/json', 'idempotency-key': 'k1' })[name],
        }),
    ],
  ])('answers 503 with a storage code, not 500, when reading %s fails', async (_what, table, call) => {
    pipeline.db.exec(`ALTER TABLE ${table} RENAME TO ${table}_gone`);
    const response = await call();
    expect(response).toMatchObject({ status: 503, body: { code: 'unavailable' } });
    expect((response.body as { error: string }).error).toMatch(/^storage unavailable.*no such table/);
  });
});
