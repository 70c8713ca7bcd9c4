import { AppHarness, apiRequest, until } from '../helpers/app-harness';
import { retryRequest } from '../helpers/fixtures';
import { TargetServer, type ReceivedCall } from '../helpers/target-server';

const FAST_RETRIES = { DATASYNC_RETRY_BASE_MS: '50', DATASYNC_RETRY_MAX_DELAY_MS: '200' };
/** For tests about ordering and replays, not about protecting a failing target. */
const NO_BREAKER = { DATASYNC_BREAKER_THRESHOLD: '1000' };

function order(target: string, key: string, operation: 'PUT' | 'PATCH', payload: unknown) {
  return {
    streamKey: key,
    streamMessage: {
      targetRestApi: `${target}/orders/${key}`,
      targetRestApiOperation: operation,
      targetRestApiPayload: payload,
    },
  };
}

/** A stateful orders API: PUT replaces an order, PATCH merges into it (or creates it). */
function ordersApi(target: TargetServer, isDown: () => boolean) {
  const orders = new Map<string, Record<string, unknown>>();
  target.reply('*', (call: ReceivedCall) => {
    if (isDown()) return { status: 503 };
    const id = call.path.split('/').pop() as string;
    const body = JSON.parse(call.body) as Record<string, unknown>;
    orders.set(id, call.method === 'PUT' ? body : { ...orders.get(id), ...body });
    return { status: 200 };
  });
  return orders;
}

describe('the failure lifecycle on the embedded host', () => {
  let harness: AppHarness;
  let target: TargetServer;

  beforeEach(async () => {
    harness = new AppHarness();
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await harness.close();
    await target.stop();
  });

  it('keeps PUT before PATCH per key while the target is down and the PUTs wait for their retries', async () => {
    let downUntil = Date.now() + 60_000;
    const orders = ordersApi(target, () => Date.now() < downUntil);
    await harness.start({ ...FAST_RETRIES, DATASYNC_AUTO_RETRIES: '5', DATASYNC_BREAKER_OPEN_MS: '300' });
    const keys = Array.from({ length: 40 }, (_, index) => `order-${index}`);
    await harness.sync(
      keys.map((key) => order(target.url, key, 'PUT', { id: key, status: 'new', total: 10 })),
    );
    // Some PUTs have failed and wait for their retry (the rest wait for the target's breaker to close).
    await until(() => target.calls.length >= 5, 15_000, 'first attempts of the PUTs');
    await harness.sync(keys.map((key) => order(target.url, key, 'PATCH', { status: 'paid' })));
    downUntil = Date.now() + 300;

    await until(() => keys.every((key) => orders.get(key)?.status === 'paid'), 25_000, 'every order paid');
    for (const key of keys) expect(orders.get(key)).toEqual({ id: key, status: 'paid', total: 10 });
    const patchesBeforePut = keys.filter((key) => {
      const calls = target.calls.filter((call) => call.path === `/orders/${key}` && call.method !== 'GET');
      const firstPatch = calls.findIndex((call) => call.method === 'PATCH');
      const lastPut = calls.map((call) => call.method).lastIndexOf('PUT');
      return firstPatch < lastPut;
    });
    expect(patchesBeforePut).toEqual([]);
  });

  it('holds the later messages of a key while its head sits failed, and lets them go once a replay delivers it', async () => {
    let down = true;
    const orders = ordersApi(target, () => down);
    await harness.start({ ...NO_BREAKER, DATASYNC_AUTO_RETRIES: '0' });
    const [head] = (await harness.sync(order(target.url, 'k1', 'PUT', { status: 'new' }))).ids;
    await until(async () => (await harness.state(head as string)) === 'failed');
    const { ids: later } = await harness.sync([
      order(target.url, 'k1', 'PATCH', { status: 'paid' }),
      order(target.url, 'k1', 'PATCH', { note: 'gift' }),
      order(target.url, 'k2', 'PUT', { status: 'other key' }),
    ]);
    down = false;
    await until(() => orders.has('k2'), 10_000, 'the other key delivered');
    expect(await harness.state(later[0] as string)).toBe('held');
    expect((await harness.app?.states.history(later[1] as string))?.heldBehind).toBe(head);
    expect(orders.has('k1')).toBe(false);
    const status = await harness.app?.status();
    expect(status?.heldKeys).toMatchObject({ keys: 1, messages: 2 });

    const replay = await harness.retry(retryRequest('datasync-error-503'));
    expect(replay).toMatchObject({ processedmessages: 1, failedMessages: 0, endOfStream: true });
    await until(() => orders.get('k1')?.note === 'gift', 10_000, 'the held messages delivered');
    expect(orders.get('k1')).toEqual({ status: 'paid', note: 'gift' });
    expect((await harness.app?.status())?.heldKeys).toMatchObject({ keys: 0, messages: 0 });
  });

  it('lets the held messages go on when an operator releases the key, or skips its head', async () => {
    target.reply('/orders/a', { status: 503 });
    target.reply('/orders/b', { status: 503 });
    await harness.start({ ...NO_BREAKER, DATASYNC_AUTO_RETRIES: '0' });
    const [headA] = (await harness.sync(order(target.url, 'a', 'PUT', {}))).ids;
    const [headB] = (await harness.sync(order(target.url, 'b', 'PUT', {}))).ids;
    await until(async () => (await harness.state(headB as string)) === 'failed');
    await until(async () => (await harness.state(headA as string)) === 'failed');
    const { ids } = await harness.sync([
      order(target.url, 'a', 'PATCH', {}),
      order(target.url, 'b', 'PATCH', {}),
    ]);
    target.reply('/orders/a', { status: 200 });
    target.reply('/orders/b', { status: 200 });

    const released = await harness.api.release(apiRequest({ streamKey: 'a' }));
    expect(released).toEqual({ status: 200, body: { streamKey: 'a', released: 1 } });
    const skipped = await harness.api.skip(apiRequest({ streamKey: 'b' }));
    expect(skipped).toEqual({ status: 200, body: { streamKey: 'b', skipped: headB } });
    await until(async () => (await harness.state(ids[0] as string)) === 'delivered');
    await until(async () => (await harness.state(ids[1] as string)) === 'delivered');
    expect(await harness.state(headA as string)).toBe('failed');
    expect(await harness.state(headB as string)).toBe('skipped');
    expect((await harness.api.release(apiRequest({ streamKey: 'a' }))).status).toBe(404);
  });

  it('with DATASYNC_ON_FAILURE_ORDER=continue, later messages of a failed key are delivered', async () => {
    target.reply('/orders/a', (call) => ({ status: call.method === 'PUT' ? 503 : 200 }));
    await harness.start({ DATASYNC_AUTO_RETRIES: '0', DATASYNC_ON_FAILURE_ORDER: 'continue' });
    const [head] = (await harness.sync(order(target.url, 'a', 'PUT', {}))).ids;
    await until(async () => (await harness.state(head as string)) === 'failed');
    const [next] = (await harness.sync(order(target.url, 'a', 'PATCH', {}))).ids;
    await until(async () => (await harness.state(next as string)) === 'delivered');
  });

  describe('replays', () => {
    const failing = (count: number) =>
      Array.from({ length: count }, (_, index) => ({
        streamKey: '',
        streamMessage: {
          targetRestApi: `${target.url}/down/${index}`,
          targetRestApiOperation: 'POST' as const,
        },
      }));

    /** The README's loop: retry until endOfStream, from `-1`. */
    async function replayLoop(batch: number): Promise<number> {
      let readAfterOffset: number | string = -1;
      for (let calls = 1; ; calls++) {
        const answer = await harness.retry(
          retryRequest('datasync-error-503', { readAfterOffset, noOfMessagesToProcess: batch }),
        );
        readAfterOffset = answer.lastReadOffset;
        if (answer.endOfStream) return calls;
        if (calls > 100) throw new Error('the replay loop does not end');
      }
    }

    it('a pass calls each open failure once; five passes neither multiply records nor re-send delivered ones', async () => {
      target.reply('*', { status: 503 });
      await harness.start({ ...NO_BREAKER, DATASYNC_AUTO_RETRIES: '0', DATASYNC_MAX_ATTEMPTS: '100' });
      const { ids } = await harness.sync(failing(3));
      await until(
        async () => (await harness.app?.status())?.streams.some((s) => s.openFailures === 3) ?? false,
      );
      target.reply('*', (call) => ({ status: call.path === '/down/0' ? 200 : 503 }));

      for (let pass = 1; pass <= 5; pass++) {
        const before = target.calls.length;
        await replayLoop(2);
        const calls = target.calls
          .slice(before)
          .map((call) => call.path)
          .sort();
        expect(calls).toEqual(pass === 1 ? ['/down/0', '/down/1', '/down/2'] : ['/down/1', '/down/2']);
      }
      const records = await harness.app?.stream.readAfter('datasync-error-503', -1n, 1000);
      expect(records).toHaveLength(3 + 2 * 5);
      expect(await harness.state(ids[0] as string)).toBe('delivered');
      const stream = (await harness.app?.status())?.streams.find((s) => s.stream === 'datasync-error-503');
      expect(stream?.openFailures).toBe(2);
      const alertsOrArchives = harness.events('alert.unrecoverable');
      expect(alertsOrArchives).toHaveLength(0);
    });

    it('a batch smaller than the failures still ends the pass without replaying its own new failures', async () => {
      target.reply('*', { status: 503 });
      await harness.start({ ...NO_BREAKER, DATASYNC_AUTO_RETRIES: '0' });
      await harness.sync(failing(12));
      await until(
        async () => (await harness.app?.status())?.streams.some((s) => s.openFailures === 12) ?? false,
      );
      const before = target.calls.length;
      const calls = await replayLoop(5);
      expect(calls).toBe(3);
      expect(target.calls.length - before).toBe(12);
      expect(new Set(target.calls.slice(before).map((call) => call.path)).size).toBe(12);
    });

    it('continues from the remembered position when readAfterOffset is omitted, and reports skipped records', async () => {
      target.reply('*', { status: 503 });
      await harness.start({ ...NO_BREAKER, DATASYNC_AUTO_RETRIES: '0' });
      await harness.sync(failing(4));
      await until(
        async () => (await harness.app?.status())?.streams.some((s) => s.openFailures === 4) ?? false,
      );
      target.reply('*', { status: 200 });
      const first = await harness.retry(retryRequest('datasync-error-503', { noOfMessagesToProcess: 2 }));
      expect(first).toMatchObject({ lastReadOffset: 1, processedmessages: 2, endOfStream: false });
      const { readAfterOffset, ...rest } = retryRequest('datasync-error-503', {
        noOfMessagesToProcess: 10,
      });
      const second = await harness.retry(rest);
      expect(second).toMatchObject({
        lastReadOffset: 3,
        processedmessages: 2,
        skippedMessages: 0,
        endOfStream: true,
      });
      const again = await harness.retry(retryRequest('datasync-error-503', { noOfMessagesToProcess: 10 }));
      expect(again).toMatchObject({
        processedmessages: 0,
        failedMessages: 0,
        skippedMessages: 4,
        endOfStream: true,
      });
      const included = await harness.retry(
        retryRequest('datasync-error-503', { noOfMessagesToProcess: 10, includeHandled: true }),
      );
      expect(included).toMatchObject({ processedmessages: 4, skippedMessages: 0 });
    });

    it('a dry run counts what would be replayed and sends nothing', async () => {
      target.reply('*', { status: 503 });
      await harness.start({ ...NO_BREAKER, DATASYNC_AUTO_RETRIES: '0' });
      await harness.sync(failing(3));
      await until(
        async () => (await harness.app?.status())?.streams.some((s) => s.openFailures === 3) ?? false,
      );
      const before = target.calls.length;
      const dry = await harness.retry(
        retryRequest('datasync-error-503', { dryRun: true, noOfMessagesToProcess: 10 }),
      );
      expect(dry).toMatchObject({ replayableMessages: 3, processedmessages: 0, endOfStream: true });
      expect(target.calls.length).toBe(before);
    });
  });
});

describe('housekeeping on the embedded host', () => {
  let harness: AppHarness;
  let target: TargetServer;
  beforeEach(async () => {
    harness = new AppHarness();
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await harness.close();
    await target.stop();
  });

  it('alerts once about a key held longer than DATASYNC_HELD_ALERT_MINUTES', async () => {
    target.reply('*', { status: 503 });
    await harness.start({ DATASYNC_AUTO_RETRIES: '0', DATASYNC_HELD_ALERT_MINUTES: '0' });
    const [head] = (await harness.sync(order(target.url, 'k1', 'PUT', {}))).ids;
    await until(async () => (await harness.state(head as string)) === 'failed');
    await harness.sync(order(target.url, 'k1', 'PATCH', {}));
    await harness.app?.housekeeping();
    await harness.app?.housekeeping();
    expect(harness.events('alert.held_key')).toEqual([
      expect.objectContaining({ kind: 'heldKey', streamKey: 'k1', head, held: 1 }),
    ]);
    expect(harness.events('status.gauges').at(-1)).toMatchObject({
      heldKeys: 1,
      heldMessages: 1,
      openFailures: 1,
    });
  });

  it('logs a housekeeping failure and keeps the host running', async () => {
    const app = await harness.start();
    app.close();
    await expect(app.housekeeping()).resolves.toBeUndefined();
    expect(harness.events('housekeeping.failed')).toHaveLength(1);
    harness.app = undefined;
  });
});
