import { TableClient } from '@azure/data-tables';
import {
  HttpRequest,
  InvocationContext,
  type HttpHandler,
  type HttpResponseInit,
  type ServiceBusQueueHandler,
  type Timer,
  type TimerHandler,
} from '@azure/functions';
import type { ServiceBusMessage } from '@azure/service-bus';
import { azureRuntime } from '../../functions/azure-runtime';
import { gaugesFunction } from '../../functions/gauges-function';
import { httpFunctions } from '../../functions/http-functions';
import { BACKOFFS_PROPERTY, MAX_BACKOFFS, readFunction } from '../../functions/read-function';
import type { Runtime } from '../../functions/runtime';
import { loadConfig } from '../../shared/config/config';
import type { Envelope } from '../../shared/contract/envelope';
import type { StoredSecret } from '../../shared/pipeline/ports';
import { Azurite } from '../helpers/azurite';
import { FakeServiceBus } from '../helpers/fake-service-bus';
import { retryRequest, syncRequest } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

const azurite = new Azurite('table');
beforeAll(() => azurite.start(), 30_000);
afterAll(() => azurite.stop());

const AZURE_ENV = {
  ServiceBusConnection__fullyQualifiedNamespace: 'example.servicebus.windows.net',
  DATASYNC_KEYVAULT_URL: 'https://example-kv.vault.azure.net',
  DATASYNC_ARCHIVE_ACCOUNT_URL: 'https://example.blob.core.windows.net',
  DATASYNC_ALLOW_PRIVATE_TARGETS: 'true',
  DATASYNC_AUTO_RETRIES: '0',
  DATASYNC_SECRET_CACHE_TTL_MS: '0',
};

/** A secret store whose reads can be made to fail like an unreachable Key Vault. */
class FlakySecrets {
  readonly stored = new Map<string, StoredSecret>();
  failing = false;
  async get(name: string) {
    if (this.failing) throw new Error('getaddrinfo ENOTFOUND example-kv.vault.azure.net');
    return this.stored.get(name);
  }
  async put(name: string, secret: StoredSecret) {
    this.stored.set(name, secret);
  }
  async delete(name: string) {
    return this.stored.delete(name);
  }
}

let tables = 0;

describe('Azure functions on Service Bus (fake) and Table Storage (Azurite)', () => {
  let bus: FakeServiceBus;
  let secrets: FlakySecrets;
  let table: TableClient;
  let target: TargetServer;
  let runtime: Runtime;
  let logs: string[];

  async function start(env: Record<string, string> = {}) {
    const config = loadConfig({ ...AZURE_ENV, ...env }, 'azure');
    runtime = azureRuntime(config, {
      serviceBus: Object.assign(bus, { close: async () => undefined }),
      table,
      secrets,
      archive: { put: async () => 'archive/blob.json' },
    });
  }

  beforeEach(async () => {
    bus = new FakeServiceBus()
      .createQueue('datasync', { sessions: true, duplicateDetection: true })
      .createQueue('datasync-error-404')
      .createQueue('datasync-error-503')
      .createQueue('datasync-error-unexpected')
      .createQueue('datasync-alerts');
    secrets = new FlakySecrets();
    tables += 1;
    table = TableClient.fromConnectionString(azurite.connectionString, `fn${process.pid}x${tables}`, {
      allowInsecureConnection: true,
    });
    await table.createTable();
    target = await new TargetServer().start();
    logs = [];
    await start();
  });
  afterEach(async () => {
    await runtime.close();
    await target.stop();
    await table.deleteTable();
  });

  const context = (metadata: Record<string, unknown> = {}) =>
    new InvocationContext({
      invocationId: 'inv-1',
      functionName: 'test',
      logHandler: (level, ...args) => logs.push(`${level} ${args.join(' ')}`),
      triggerMetadata: metadata,
    });
  const http = () => httpFunctions(() => runtime);
  const read = () =>
    readFunction(() => runtime, {
      queueName: 'datasync',
      ordering: true,
      backoff: { autoRetries: 0, baseDelayMs: 1000, maxDelayMs: 60_000 },
    }).handler as ServiceBusQueueHandler;

  async function call(name: keyof ReturnType<typeof http>, method: string, path: string, body?: unknown) {
    const handler = http()[name].handler as HttpHandler;
    const request = new HttpRequest({
      method,
      url: `https://app/api/${path}`,
      ...(body === undefined ? {} : { body: { string: JSON.stringify(body) } }),
      headers: { 'content-type': 'application/json' },
      ...(name === 'message' ? { params: { id: path.split('/').pop() as string } } : {}),
    });
    return (await handler(request, context())) as HttpResponseInit & { jsonBody: Record<string, unknown> };
  }

  async function sync(path: string, streamKey: string): Promise<string> {
    const request = syncRequest(`${target.url}${path}`, { vaultSecretName: undefined }, streamKey);
    const response = await call('sync', 'POST', 'stream/sync', request);
    expect(response.status).toBe(202);
    return (response.jsonBody.messages as Array<{ id: string }>)[0]?.id as string;
  }

  /** What the Functions host does: hands each active main-queue message to the trigger, then completes it. */
  async function runTrigger(options: { dueBy?: Date } = {}): Promise<void> {
    const queue = bus.queues.get('datasync')!;
    for (;;) {
      bus.activateScheduled(options.dueBy);
      const next = queue.messages.find((stored) => stored.state === 'active');
      if (!next) return;
      await read()(
        next.message.body,
        context({
          sequenceNumber: next.sequenceNumber.toNumber(),
          applicationProperties: next.message.applicationProperties,
        }),
      );
      queue.messages.splice(queue.messages.indexOf(next), 1);
    }
  }

  const scheduled = (): ServiceBusMessage[] =>
    bus.queues
      .get('datasync')!
      .messages.filter((stored) => stored.state === 'scheduled')
      .map((stored) => stored.message);

  it('delivers a message once: a redelivered copy of a delivered message is dropped', async () => {
    const id = await sync('/orders/1', 'k1');
    const [sent] = bus.queues.get('datasync')!.messages;
    await runTrigger();
    await read()(sent?.message.body as Envelope, context({ sequenceNumber: 1 }));

    expect(target.callsTo('/orders/1')).toHaveLength(1);
    expect(logs.some((line) => line.includes('"event":"sync.already_handled"'))).toBe(true);
    const history = await call('message', 'GET', `messages/${id}`);
    expect(history).toMatchObject({
      status: 200,
      jsonBody: { id, state: 'delivered', attempts: [{ attempt: 1, outcome: 'delivered', status: 200 }] },
    });
    expect((await call('message', 'GET', 'messages/unknown')).status).toBe(404);
  });

  it('keeps the order of a key across an automatic retry: the later message waits for the retried head', async () => {
    await runtime.close();
    await start({ DATASYNC_AUTO_RETRIES: '1' });
    let down = true;
    target.reply('*', () => ({ status: down ? 503 : 200 }));
    const head = await sync('/orders/put', 'order-1');
    await runTrigger();
    const [retry] = scheduled();
    expect(retry?.messageId).toBe(`${head}-retry-1`);
    const later = await sync('/orders/patch', 'order-1');
    await runTrigger();
    expect((await call('message', 'GET', `messages/${later}`)).jsonBody).toMatchObject({
      state: 'held',
      heldBehind: head,
    });

    down = false;
    await runTrigger({ dueBy: new Date(Date.now() + 3600_000) });
    await runTrigger();
    expect(target.calls.map((received) => received.path)).toEqual([
      '/orders/put',
      '/orders/put',
      '/orders/patch',
    ]);
    expect((await call('keys', 'GET', 'keys')).jsonBody).toEqual({ keys: [] });
  });

  it('holds a key behind a failed head; released, the held messages follow one by one in order', async () => {
    let down = true;
    target.reply('*', () => ({ status: down ? 503 : 200 }));
    const head = await sync('/orders/1', 'order-1');
    await runTrigger();
    const second = await sync('/orders/2', 'order-1');
    const third = await sync('/orders/3', 'order-1');
    const other = await sync('/other', 'order-2');
    down = false;
    await runTrigger();
    expect(target.calls.map((received) => received.path)).toEqual(['/orders/1', '/other']);
    expect((await call('keys', 'GET', 'keys')).jsonBody).toMatchObject({
      keys: [{ streamKey: 'order-1', head, headState: 'failed', held: 2 }],
    });
    const status = await call('status', 'GET', 'stream/status');
    expect(status.jsonBody).toMatchObject({
      heldKeys: { keys: 1, messages: 2 },
      consumer: { stream: 'datasync', backlog: null, scheduledRetries: 0 },
    });
    expect(bus.calls.peeks).toBe(0);

    expect(await call('releaseKey', 'POST', 'keys/release', { streamKey: 'order-1' })).toMatchObject({
      status: 200,
      jsonBody: { streamKey: 'order-1', released: 2 },
    });
    await runTrigger();
    expect(target.calls.map((received) => received.path)).toEqual([
      '/orders/1',
      '/other',
      '/orders/2',
      '/orders/3',
    ]);
    for (const id of [second, third, other]) {
      expect((await call('message', 'GET', `messages/${id}`)).jsonBody).toMatchObject({ state: 'delivered' });
    }
    expect((await call('releaseKey', 'POST', 'keys/release', { streamKey: 'order-1' })).status).toBe(404);
  });

  it('replays a failure routed without an offset, and a second replay skips it as handled', async () => {
    target.reply('/orders/1', { status: 503 });
    const id = await sync('/orders/1', '');
    await runTrigger();
    const status = await call('status', 'GET', 'stream/status');
    expect(status.jsonBody.streams).toContainEqual({
      stream: 'datasync-error-503',
      errorStream: true,
      unrecoverable: false,
      openFailures: 1,
    });
    expect(status.jsonBody.recentFailures).toMatchObject([{ id, stream: 'datasync-error-503', status: 503 }]);

    target.reply('/orders/1', { status: 200 });
    const first = await call('retry', 'POST', 'stream/retry', retryRequest('datasync-error-503'));
    expect(first.jsonBody).toMatchObject({ processedmessages: 1, failedMessages: 0, skippedMessages: 0 });
    const again = await call('retry', 'POST', 'stream/retry', retryRequest('datasync-error-503'));
    expect(again.jsonBody).toMatchObject({ processedmessages: 0, failedMessages: 0, skippedMessages: 1 });
    expect(target.callsTo('/orders/1')).toHaveLength(2);
    const after = await call('status', 'GET', 'stream/status');
    expect(after.jsonBody.streams).toContainEqual(
      expect.objectContaining({ stream: 'datasync-error-503', openFailures: 0 }),
    );
  });

  it('logs status.gauges from the state store: the open failures and held keys the alerts watch', async () => {
    target.reply('/orders/1', { status: 503 });
    await sync('/orders/1', 'order-1');
    await runTrigger();
    await sync('/orders/2', 'order-1');
    await runTrigger();
    logs.length = 0;
    await (gaugesFunction(() => runtime).handler as TimerHandler)({} as Timer, context());
    const line = logs.find((entry) => entry.includes('"event":"status.gauges"')) ?? '';
    expect(JSON.parse(line.slice(line.indexOf('{')))).toMatchObject({
      event: 'status.gauges',
      openFailures: 1,
      heldKeys: 1,
      heldMessages: 1,
      backlog: null,
    });
  });

  it('answers 400 to a retry of the session-enabled main queue', async () => {
    const response = await call('retry', 'POST', 'stream/retry', retryRequest('datasync'));
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.jsonBody)).toMatch(/session-enabled main queue/);
  });

  it('backs off on an infrastructure fault: a delayed re-attempt is scheduled and the handler returns', async () => {
    await secrets.put('kv-1', { value: 'Bearer t', origin: target.url });
    const request = syncRequest(`${target.url}/orders/1`, { vaultSecretName: 'kv-1' }, 'order-1');
    const { jsonBody } = await call('sync', 'POST', 'stream/sync', request);
    const id = (jsonBody.messages as Array<{ id: string }>)[0]?.id as string;
    secrets.failing = true;
    await runTrigger();

    expect(target.calls).toEqual([]);
    const [backoff] = scheduled();
    expect(backoff).toMatchObject({
      messageId: `${id}-backoff-1`,
      applicationProperties: { [BACKOFFS_PROPERTY]: 1 },
    });
    expect(logs.some((line) => line.includes('"event":"sync.backoff"'))).toBe(true);
    const later = await sync('/orders/2', 'order-1');
    await runTrigger();
    expect((await call('message', 'GET', `messages/${later}`)).jsonBody).toMatchObject({ heldBehind: id });

    secrets.failing = false;
    await runTrigger({ dueBy: new Date(Date.now() + 3600_000) });
    await runTrigger();
    expect(target.calls.map((received) => received.path)).toEqual(['/orders/1', '/orders/2']);
  });

  it('throws when even the delayed re-attempt cannot be scheduled, or the re-attempts are used up', async () => {
    await secrets.put('kv-1', { value: 'Bearer t', origin: target.url });
    const request = syncRequest(`${target.url}/orders/1`, { vaultSecretName: 'kv-1' }, '');
    await call('sync', 'POST', 'stream/sync', request);
    const [sent] = bus.queues.get('datasync')!.messages;
    const body = sent?.message.body as Envelope;
    secrets.failing = true;

    bus.failNextSend = new Error('ServiceBusy');
    await expect(read()(body, context({ sequenceNumber: 1 }))).rejects.toThrow(/ENOTFOUND/);
    const exhausted = context({
      sequenceNumber: 1,
      applicationProperties: { [BACKOFFS_PROPERTY]: MAX_BACKOFFS },
    });
    await expect(read()(body, exhausted)).rejects.toThrow(/ENOTFOUND/);
    expect(scheduled()).toEqual([]);
  });
});
