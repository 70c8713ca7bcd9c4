import { HttpApi, type ApiRequest } from '../../shared/api/http-api';
import { dispatch } from '../../shared/pipeline/dispatch';
import type { StreamRecord } from '../../shared/pipeline/ports';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { envelope, retryRequest, syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

function request(body: unknown, headers: Record<string, string> = {}): ApiRequest {
  const all: Record<string, string> = { 'content-type': 'application/json', ...headers };
  return {
    header: (name) => all[name.toLowerCase()],
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

describe('HttpApi', () => {
  let pipeline: EmbeddedPipeline;
  let api: HttpApi;

  const build = (apiKey?: string) => pipeline.api({ apiKey });
  /** A fresh pipeline whose API accepts bodies up to `bytes`. */
  const withBodyLimit = (bytes: number) => {
    pipeline.close();
    pipeline = new EmbeddedPipeline({ env: { DATASYNC_MAX_BODY_BYTES: String(bytes) } });
    return pipeline.api();
  };

  beforeEach(() => {
    pipeline = new EmbeddedPipeline({ env: { DATASYNC_MAX_BODY_BYTES: '1024' } });
    api = build();
  });
  afterEach(() => pipeline.close());

  it('answers 202 with stream, id and offset per message', async () => {
    const response = await api.sync(
      request([syncRequest('https://t.example/a')], { authorization: 'Bearer t' }),
    );
    expect(response).toEqual({
      status: 202,
      body: { messages: [{ stream: 'datasync', id: expect.any(String), offset: 0 }] },
    });
  });

  it('answers 400 for malformed JSON or 100 000 levels of nesting, 415 for another content type, 413 over the body limit', async () => {
    expect(await api.sync(request('{"streamKey":'))).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^body is not valid JSON/) },
    });
    expect(
      (await api.sync(request('a=b', { 'content-type': 'application/x-www-form-urlencoded' }))).status,
    ).toBe(415);
    expect((await api.sync(request({ pad: 'x'.repeat(2000) }))).status).toBe(413);
    expect(await pipeline.stream.exists('datasync')).toBe(false);
    const big = withBodyLimit(1024 * 1024);
    expect((await big.sync(request('['.repeat(100_000)))).status).toBe(400);
  });

  it('answers 400 with problems for a bad request and 404 for an unknown stream to retry', async () => {
    expect(await api.sync(request({ streamMessage: {} }))).toEqual({
      status: 400,
      body: {
        error: 'invalid request',
        problems: [
          'streamMessage.targetRestApi: required',
          'streamMessage.targetRestApiOperation: must be one of POST, PUT, PATCH, DELETE',
        ],
      },
    });
    expect(await api.retry(request(retryRequest('datasync-error-404')))).toEqual({
      status: 404,
      body: { error: 'no stream named "datasync-error-404"' },
    });
  });

  it('answers the four replay fields and skippedMessages, offsets as numbers', async () => {
    const target = await new TargetServer().start();
    try {
      await pipeline.seedFailures('datasync-error-503', [
        envelope(`${target.url}/a`),
        envelope(`${target.url}/b`),
      ]);
      const response = await api.retry(
        request(retryRequest('datasync-error-503', { noOfMessagesToProcess: 1 })),
      );
      expect(response).toEqual({
        status: 200,
        body: {
          lastReadOffset: 0,
          processedmessages: 1,
          failedMessages: 0,
          skippedMessages: 0,
          endOfStream: false,
        },
      });
    } finally {
      await target.stop();
    }
  });

  it('answers 503 with the summary so far when a replayed outcome cannot be recorded, the target called once and the unsaved position logged', async () => {
    const target = await new TargetServer().start();
    try {
      await pipeline.seedFailures('datasync-error-503', [envelope(`${target.url}/a`)]);
      pipeline.db.pragma('query_only = ON');
      const response = await api.retry(request(retryRequest('datasync-error-503')));
      expect(response).toEqual({
        status: 503,
        body: {
          error: expect.stringMatching(
            /^storage refused access .*, replay stopped: an outcome could not be made durable/,
          ),
          code: 'denied',
          lastReadOffset: -1,
          processedmessages: 0,
          failedMessages: 0,
          skippedMessages: 0,
          endOfStream: false,
        },
      });
      expect(target.calls).toHaveLength(1);
      expect(pipeline.log.lines).toContainEqual(
        expect.objectContaining({
          event: 'replay.position_not_saved',
          fields: { stream: 'datasync-error-503', error: expect.stringMatching(/readonly/) },
        }),
      );
    } finally {
      pipeline.db.pragma('query_only = OFF');
      await target.stop();
    }
  });

  it('replays through the API without automatic retries even when the consumer has them', async () => {
    pipeline.close();
    pipeline = new EmbeddedPipeline({ autoRetries: 2 });
    const target = await new TargetServer().start();
    try {
      target.reply('*', { status: 503 });
      const [seeded] = await pipeline.seedFailures('datasync-error-503', [envelope(`${target.url}/a`)]);
      const response = await pipeline.api().retry(request(retryRequest('datasync-error-503')));
      expect(response).toMatchObject({ status: 200, body: { processedmessages: 0, failedMessages: 1 } });
      expect(target.calls).toHaveLength(1);
      const history = await pipeline.states.history(seeded!.body.id);
      expect(history).toMatchObject({ state: 'failed' });
      expect(history).not.toHaveProperty('retryAt');
    } finally {
      await target.stop();
    }
  });

  it('refuses the alerts stream as a replay source', async () => {
    const response = await api.retry(request(retryRequest('datasync-alerts')));
    expect(response.status).toBe(400);
  });

  it('answers 503 with Retry-After (code unavailable) and enqueues nothing when the stream cannot be written', async () => {
    pipeline.db.close();
    const response = await api.sync(
      request(syncRequest('https://t.example/a', { vaultSecretName: undefined })),
    );
    expect(response).toEqual({
      status: 503,
      headers: { 'retry-after': '5' },
      body: {
        error: expect.stringMatching(/^storage unavailable, nothing was accepted/),
        code: 'unavailable',
      },
    });
  });

  it('requires the API key on every endpoint when one is configured', async () => {
    const guarded = build('k3y');
    expect((await guarded.sync(request([]))).status).toBe(401);
    expect((await guarded.retry(request(retryRequest('x')))).status).toBe(401);
    expect((await guarded.status(request(''))).status).toBe(401);
    expect((await guarded.sync(request([], { 'x-functions-key': 'k3y' }))).status).toBe(202);
    expect((await guarded.status(request('', { 'x-functions-key': 'k3y' }))).status).toBe(200);
  });

  it('answers 415 for a POST without Content-Type or with a type a browser can send cross-site', async () => {
    const body = Buffer.from('[]');
    for (const type of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
    ]) {
      const response = await api.sync({
        header: (name) => (name === 'content-type' ? type : undefined),
        body,
      });
      expect(response).toMatchObject({
        status: 415,
        body: { error: expect.stringMatching(/^Content-Type must be application\/json/) },
      });
    }
  });

  it('answers 400 naming the limit for 1 000 levels of nesting, and 400 for bytes that are not UTF-8', async () => {
    expect(await api.sync(request('['.repeat(1000)))).toEqual({
      status: 400,
      body: { error: 'body nests deeper than 128 levels of arrays and objects' },
    });
    const invalid = Buffer.concat([
      Buffer.from('{"streamKey":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    expect(await api.sync({ header: () => 'application/json', body: invalid })).toEqual({
      status: 400,
      body: { error: 'body is not valid UTF-8' },
    });
    expect(await pipeline.stream.exists('datasync')).toBe(false);
  });

  it('delivers the payload with every number exactly as the source sent it', async () => {
    const target = await new TargetServer().start();
    try {
      const payload = '{"id":12345678901234567890,"huge":1e400,"price":10.50,"n":7}';
      const text = `{"streamMessage":{"targetRestApi":"${target.url}/n","targetRestApiOperation":"POST","targetRestApiPayload":${payload}}}`;
      expect((await api.sync(request(text))).status).toBe(202);
      const [record] = await pipeline.all('datasync');
      await dispatch(pipeline.consumerDeps, record as StreamRecord);
      expect(target.calls[0]?.body).toBe(payload);
    } finally {
      await target.stop();
    }
  });

  it('measures the message limit on the stored form, so what is stored never passes it', async () => {
    const big = withBodyLimit(4 * 1024 * 1024);
    const numbers = Array.from({ length: 45_000 }, () => '1e20').join(',');
    const text = `{"streamMessage":{"targetRestApi":"https://t.example/a","targetRestApiOperation":"POST","targetRestApiPayload":[${numbers}]}}`;
    expect((await big.sync(request(text))).status).toBe(202);
    const row = pipeline.db
      .prepare("SELECT body FROM messages WHERE stream = 'datasync'")
      .pluck()
      .get() as string;
    expect(Buffer.byteLength(row)).toBeLessThanOrEqual(256 * 1024);
  });
});
