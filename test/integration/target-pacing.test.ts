import { keyless } from '../helpers/fixtures';
import { AppHarness, apiRequest, until } from '../helpers/app-harness';
import { TargetServer } from '../helpers/target-server';

describe('pacing and pausing targets on the embedded host', () => {
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

  const targetStatus = async () =>
    (await harness.app?.status())?.targets.find((t) => t.origin === target.url);

  it('holds a paused target’s messages across a restart and delivers them in order on resume', async () => {
    await harness.start();
    const paused = await harness.api.pauseTarget(apiRequest({ origin: target.url }), true);
    expect(paused).toEqual({ status: 200, body: { origin: target.url, paused: true } });
    const { ids } = await harness.sync(
      ['a', 'b', 'c'].map((step) => ({
        streamKey: 'order-1',
        streamMessage: { targetRestApi: `${target.url}/${step}`, targetRestApiOperation: 'POST' as const },
      })),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(target.calls).toHaveLength(0);
    await harness.stop();

    await harness.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(target.calls).toHaveLength(0);
    expect(await targetStatus()).toMatchObject({ state: 'paused', queued: 3, inFlight: 0 });

    expect((await harness.api.pauseTarget(apiRequest({ origin: target.url }), false)).status).toBe(200);
    await until(async () => (await harness.state(ids[2] as string)) === 'delivered');
    expect(target.calls.map((call) => call.path)).toEqual(['/a', '/b', '/c']);
    expect((await harness.api.pauseTarget(apiRequest({ origin: target.url }), false)).status).toBe(404);
  });

  it('refuses a pause for something that is not an origin', async () => {
    await harness.start();
    const answer = await harness.api.pauseTarget(apiRequest({ origin: `${target.url}/orders` }), true);
    expect(answer.status).toBe(400);
  });

  it('holds the whole origin back for its Retry-After, not only the throttled message', async () => {
    let throttledAt = 0;
    const arrivals: number[] = [];
    target.reply('*', () => {
      arrivals.push(Date.now());
      if (throttledAt === 0) {
        throttledAt = Date.now();
        return { status: 429, headers: { 'retry-after': '1' } };
      }
      return { status: 200, delayMs: 20 };
    });
    await harness.start({ DATASYNC_RETRY_BASE_MS: '50' });
    await harness.sync(Array.from({ length: 30 }, () => keyless(`${target.url}/x`)));
    await until(() => arrivals.length === 31, 15_000, 'every message and the retry delivered');
    // The calls already in flight when the 429 came back (at most the initial limit of 8) may land
    // before the second is over; nothing started after it may.
    const early = arrivals.filter((at) => at > throttledAt && at < throttledAt + 995);
    expect(early.length).toBeLessThanOrEqual(7);
    expect(arrivals.length).toBe(31);
  });

  it('opens the breaker of a failing target, probes it, and closes once it answers again', async () => {
    let down = true;
    target.reply('*', () => ({ status: down ? 503 : 200 }));
    await harness.start({
      DATASYNC_AUTO_RETRIES: '0',
      DATASYNC_BREAKER_THRESHOLD: '3',
      DATASYNC_BREAKER_OPEN_MS: '1500',
    });
    const { ids } = await harness.sync(Array.from({ length: 20 }, () => keyless(`${target.url}/x`)));
    await until(async () => (await targetStatus())?.state === 'open', 10_000, 'the breaker open');
    await until(async () => (await targetStatus())?.inFlight === 0, 10_000, 'the calls in flight answered');
    const callsWhileDown = target.calls.length;
    // The first 8 (the start limit), plus at most a few started as slots freed before the third
    // failure in a row opened the breaker; the other messages of the 20 were never sent.
    expect(callsWhileDown).toBeLessThanOrEqual(8 + 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(target.calls.length).toBe(callsWhileDown);

    down = false;
    await until(async () => (await targetStatus())?.queued === 0, 10_000, 'the backlog delivered');
    await until(async () => (await targetStatus())?.inFlight === 0, 10_000, 'the last outcomes recorded');
    const states = await Promise.all(ids.map((id) => harness.state(id)));
    expect(states.filter((state) => state === 'delivered')).toHaveLength(20 - callsWhileDown);
    expect(states.filter((state) => state === 'failed')).toHaveLength(callsWhileDown);
  });

  it('lets a fast, healthy target have more calls in flight than it started with', async () => {
    target.reply('*', { status: 200, delayMs: 5 });
    await harness.start();
    await harness.sync(Array.from({ length: 400 }, () => keyless(`${target.url}/x`)));
    await until(() => target.calls.length === 400, 20_000, 'all delivered');
    expect((await targetStatus())?.limit).toBeGreaterThan(8);
  });
});
