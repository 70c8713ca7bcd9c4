import { HttpApi, type ApiRequest } from '../../shared/api/http-api';
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

  const build = (apiKey?: string) =>
    new HttpApi({
      populate: pipeline.populateDeps,
      dispatch: pipeline.dispatchDeps,
      connections: pipeline.connectionDeps,
      status: () => pipeline.status(),
      maxBodyBytes: 1024,
      apiKey,
      log: pipeline.log,
    });

  beforeEach(() => {
    pipeline = new EmbeddedPipeline();
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

  it('answers 400 for malformed JSON, 415 for another content type, 413 over the body limit', async () => {
    expect(await api.sync(request('{"streamKey":'))).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^body is not valid JSON/) },
    });
    expect(
      (await api.sync(request('a=b', { 'content-type': 'application/x-www-form-urlencoded' }))).status,
    ).toBe(415);
    expect((await api.sync(request({ pad: 'x'.repeat(2000) }))).status).toBe(413);
    expect(await pipeline.stream.exists('datasync')).toBe(false);
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

  it('refuses the alerts stream as a replay source', async () => {
    const response = await api.retry(request(retryRequest('datasync-alerts')));
    expect(response.status).toBe(400);
  });

  it('answers 503 and enqueues nothing when the stream cannot be written', async () => {
    pipeline.db.close();
    const response = await api.sync(
      request(syncRequest('https://t.example/a', { vaultSecretName: undefined })),
    );
    expect(response).toMatchObject({
      status: 503,
      body: { error: expect.stringMatching(/^storage unavailable, nothing was accepted/) },
    });
    pipeline.close = () => pipeline.target.close();
  });

  it('requires the API key on every endpoint when one is configured', async () => {
    const guarded = build('k3y');
    expect((await guarded.sync(request([]))).status).toBe(401);
    expect((await guarded.retry(request(retryRequest('x')))).status).toBe(401);
    expect((await guarded.status(request(''))).status).toBe(401);
    expect((await guarded.sync(request([], { 'x-functions-key': 'k3y' }))).status).toBe(202);
    expect((await guarded.status(request('', { 'x-functions-key': 'k3y' }))).status).toBe(200);
  });
});
