import {
  HttpRequest,
  InvocationContext,
  type HttpHandler,
  type ServiceBusQueueHandler,
} from '@azure/functions';
import { gaugesFunction } from '../../functions/gauges-function';
import { httpFunctions } from '../../functions/http-functions';
import { readFunction } from '../../functions/read-function';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { embeddedRuntime } from '../helpers/embedded-runtime';
import { envelope, retryRequest, syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

const BACKOFF = { autoRetries: 0, baseDelayMs: 1000, maxDelayMs: 60_000 };

const AZURE_ENV = {
  ServiceBusConnection__fullyQualifiedNamespace: 'example.servicebus.windows.net',
  DATASYNC_KEYVAULT_URL: 'https://example-kv.vault.azure.net',
  DATASYNC_ARCHIVE_ACCOUNT_URL: 'https://example.blob.core.windows.net',
};

describe('function registrations (functions/index.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  async function register(env: Record<string, string>) {
    process.env = { ...saved, ...env };
    let http!: jest.SpyInstance;
    let queue!: jest.SpyInstance;
    let timer!: jest.SpyInstance;
    await jest.isolateModulesAsync(async () => {
      const isolated = await import('@azure/functions');
      http = jest.spyOn(isolated.app, 'http').mockImplementation(() => undefined);
      queue = jest.spyOn(isolated.app, 'serviceBusQueue').mockImplementation(() => undefined);
      timer = jest.spyOn(isolated.app, 'timer').mockImplementation(() => undefined);
      await import('../../functions/index');
    });
    return {
      http: Object.fromEntries(http.mock.calls.map(([name, options]) => [name, options])),
      queue: Object.fromEntries(queue.mock.calls.map(([name, options]) => [name, options])),
      timer: Object.fromEntries(timer.mock.calls.map(([name, options]) => [name, options])),
    };
  }

  it('registers sync, retry and status as HTTP functions behind function keys', async () => {
    const { http } = await register(AZURE_ENV);
    expect(http.sync).toMatchObject({ methods: ['POST'], route: 'stream/sync', authLevel: 'function' });
    expect(http.retry).toMatchObject({ methods: ['POST'], route: 'stream/retry', authLevel: 'function' });
    expect(http.status).toMatchObject({ methods: ['GET'], route: 'stream/status', authLevel: 'function' });
    expect(http.message).toMatchObject({ methods: ['GET'], route: 'messages/{id}', authLevel: 'function' });
    expect(http.keys).toMatchObject({ methods: ['GET'], route: 'keys', authLevel: 'function' });
    expect(http.releaseKey).toMatchObject({
      methods: ['POST'],
      route: 'keys/release',
      authLevel: 'function',
    });
    expect(http.skipKey).toMatchObject({ methods: ['POST'], route: 'keys/skip', authLevel: 'function' });
  });

  it('registers the anonymous echo target only when DATASYNC_ECHO_ENABLED=true, answering a message its status once', async () => {
    expect((await register(AZURE_ENV)).http.echo).toBeUndefined();
    const { http } = await register({ ...AZURE_ENV, DATASYNC_ECHO_ENABLED: 'true' });
    expect(http.echo).toMatchObject({ route: 'echo', authLevel: 'anonymous' });
    const handler = http.echo?.handler as HttpHandler;
    const call = () =>
      handler(
        new HttpRequest({
          method: 'POST',
          url: 'https://app/api/echo?status=404',
          headers: { 'idempotency-key': 'm-1' },
        }),
        new InvocationContext(),
      );
    expect(await call()).toMatchObject({ status: 404 });
    expect(await call()).toMatchObject({ status: 200 });
  });

  it('registers read as a Service Bus trigger on the main queue, with sessions when ordering is on', async () => {
    expect((await register(AZURE_ENV)).queue.read).toMatchObject({
      connection: 'ServiceBusConnection',
      queueName: 'datasync',
      isSessionsEnabled: true,
      cardinality: 'one',
    });
    const unordered = await register({
      ...AZURE_ENV,
      DATASYNC_ORDERING: 'false',
      DATASYNC_MAIN_STREAM: 'orders',
    });
    expect(unordered.queue.read).toMatchObject({
      queueName: 'orders',
      isSessionsEnabled: false,
    });
  });

  it('registers gauges as a timer every minute, the signal of the open-failures and held-keys alerts', async () => {
    expect((await register(AZURE_ENV)).timer.gauges).toMatchObject({ schedule: '0 * * * * *' });
  });

  it('fails at load, naming the setting, when an Azure setting is missing', async () => {
    await expect(
      register({ ServiceBusConnection__fullyQualifiedNamespace: 'x.servicebus.windows.net' }),
    ).rejects.toThrow(/DATASYNC_ARCHIVE_ACCOUNT_URL is required in Azure mode/);
  });
});

describe('function handlers', () => {
  let pipeline: EmbeddedPipeline;
  let target: TargetServer;
  let logs: string[];
  let context: InvocationContext;

  beforeEach(async () => {
    pipeline = new EmbeddedPipeline();
    target = await new TargetServer().start();
    logs = [];
    context = new InvocationContext({
      invocationId: 'inv-1',
      functionName: 'test',
      logHandler: (level, ...args) => logs.push(`${level} ${args.join(' ')}`),
      triggerMetadata: { sequenceNumber: 42 },
    });
  });
  afterEach(async () => {
    pipeline.close();
    await target.stop();
  });

  const http = () => httpFunctions(() => embeddedRuntime(pipeline));

  it('gauges logs the status.gauges line the open-failure and held-key alerts query', async () => {
    await pipeline.seedFailures('datasync-error-503', [envelope(`${target.url}/a`)]);
    await pipeline.stream.append('datasync', [envelope(`${target.url}/b`)]);
    await (
      gaugesFunction(() => embeddedRuntime(pipeline)).handler as (
        t: unknown,
        c: InvocationContext,
      ) => Promise<void>
    )({}, context);
    const line = logs.find((entry) => entry.includes('"status.gauges"')) ?? '';
    expect(JSON.parse(line.slice(line.indexOf('{')))).toMatchObject({ event: 'status.gauges', backlog: 1 });
  });
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    new HttpRequest({
      method: 'POST',
      url,
      body: { string: JSON.stringify(body) },
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('sync answers 202 and logs a structured line without the credential', async () => {
    const handler = http().sync.handler as HttpHandler;
    const response = await handler(
      post('https://app/api/stream/sync', syncRequest(`${target.url}/orders`), {
        authorization: 'Bearer fn-secret',
      }),
      context,
    );
    expect(response).toMatchObject({
      status: 202,
      jsonBody: { messages: [{ stream: 'datasync', offset: 0 }] },
    });
    expect(logs.some((line) => line.includes('"event":"sync.accepted"'))).toBe(true);
    expect(logs.join('\n')).not.toContain('fn-secret');
  });

  it('sync answers 400 with the problems for a bad request', async () => {
    const handler = http().sync.handler as HttpHandler;
    const response = await handler(post('https://app/api/stream/sync', [{ streamMessage: {} }]), context);
    expect(response).toMatchObject({
      status: 400,
      jsonBody: { problems: expect.arrayContaining(['[0].streamMessage.targetRestApi: required']) },
    });
  });

  it('retry answers the four fields and skippedMessages', async () => {
    await pipeline.seedFailures('datasync-error-503', [envelope(`${target.url}/a`)]);
    const handler = http().retry.handler as HttpHandler;
    const response = await handler(
      post('https://app/api/stream/retry', retryRequest('datasync-error-503')),
      context,
    );
    expect(response).toEqual({
      status: 200,
      jsonBody: {
        lastReadOffset: 0,
        processedmessages: 1,
        failedMessages: 0,
        skippedMessages: 0,
        endOfStream: true,
      },
    });
  });

  it('status answers what the runtime reports', async () => {
    await pipeline.stream.append('datasync', [envelope(`${target.url}/a`)]);
    const handler = http().status.handler as HttpHandler;
    const response = await handler(
      new HttpRequest({ method: 'GET', url: 'https://app/api/stream/status' }),
      context,
    );
    expect(response).toEqual({ status: 200, jsonBody: await pipeline.status() });
    expect(response).toMatchObject({ jsonBody: { consumer: { backlog: 1 } } });
  });

  it('read delivers the message and records where it came from on failure', async () => {
    target.reply('/missing', { status: 404 });
    const handler = readFunction(() => embeddedRuntime(pipeline), {
      queueName: 'datasync',
      ordering: true,
      backoff: BACKOFF,
    }).handler as ServiceBusQueueHandler;
    await handler(envelope(`${target.url}/ok`), context);
    await handler(envelope(`${target.url}/missing`), context);
    expect(target.calls.map((call) => call.path)).toEqual(['/ok', '/missing']);
    const [record] = await pipeline.all('datasync-error-404');
    expect(record?.body.failure?.from).toEqual({ stream: 'datasync', offset: '42' });
    expect(logs.some((line) => line.includes('"event":"sync.failed"'))).toBe(true);
  });

  it('read throws when not even a parked outcome can be recorded, so the host abandons the message', async () => {
    target.reply('/missing', { status: 404 });
    const handler = readFunction(() => embeddedRuntime(pipeline), {
      queueName: 'datasync',
      ordering: true,
      backoff: BACKOFF,
    }).handler as ServiceBusQueueHandler;
    pipeline.db.close();
    await expect(handler(envelope(`${target.url}/missing`), context)).rejects.toThrow(
      /could not be recorded/,
    );
  });
});
