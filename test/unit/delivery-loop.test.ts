import { DeliveryLoop, type DeliveryLoopOptions } from '../../shared/pipeline/delivery-loop';
import { OutcomeNotDurableError } from '../../shared/pipeline/errors';
import type { StreamRecord } from '../../shared/pipeline/ports';
import { FakeDeliveryQueue } from '../helpers/fake-delivery-queue';
import { envelope } from '../helpers/fixtures';
import { RecordingLogger } from '../helpers/recording-logger';

/** Lets every promise the loop has in hand settle (fake timers leave setImmediate real). */
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** Moves the fake clock, firing the timers due on the way. */
const advance = async (ms: number) => {
  await jest.advanceTimersByTimeAsync(ms);
  await settle();
};

describe('the delivery loop', () => {
  let queue: FakeDeliveryQueue;
  let log: RecordingLogger;
  let loop: DeliveryLoop | undefined;
  /** Messages in hand, by id: `finish` records the outcome, `fail` rejects the handling. */
  let inHand: Map<string, { record: StreamRecord; finish: () => void; fail: (error: Error) => void }>;
  const handleByHand = (record: StreamRecord) =>
    new Promise<void>((resolve, reject) => {
      const id = record.body.id;
      inHand.set(id, {
        record,
        finish: () => (inHand.delete(id), queue.settle(id), resolve()),
        fail: (error) => (inHand.delete(id), reject(error)),
      });
    });
  const finishOne = async (origin: string) => {
    [...inHand.values()]
      .find((held) => held.record.body.streamMessage.targetRestApi.startsWith(origin))
      ?.finish();
    await settle();
  };

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    queue = new FakeDeliveryQueue();
    log = new RecordingLogger();
    inHand = new Map();
  });
  afterEach(async () => {
    await loop?.stop(0);
    loop = undefined;
    jest.useRealTimers();
  });

  /** The poll is a minute: whatever a test sees sooner came from a wake. */
  const start = (
    handle: (record: StreamRecord) => Promise<void>,
    options: Partial<Omit<DeliveryLoopOptions, 'gate'>> & { capacity?: number } = {},
  ) => {
    const { capacity = 8, ...rest } = options;
    loop = new DeliveryLoop(queue, handle, {
      concurrency: 100,
      gate: { capacity: () => capacity, started: () => undefined },
      pollMs: 60_000,
      retryDelayMs: 100,
      log,
      ...rest,
    });
    loop.start();
    return loop;
  };
  const messages = (origin: string, count: number) =>
    Array.from({ length: count }, () => envelope(`${origin}/m`));

  it('never has more messages in hand than its concurrency, over all origins', async () => {
    queue.add(...messages('https://a.example', 4), ...messages('https://b.example', 4));
    const running = start(handleByHand, { concurrency: 3 });
    await settle();
    expect(running.inFlight).toBe(3);
    await finishOne('https://a.example');
    expect(running.inFlight).toBe(3);
  });

  it('reads a busy origin again only once a quarter of its slots are free', async () => {
    queue.add(...messages('https://a.example', 20));
    const running = start(handleByHand, { capacity: 8 });
    await settle();
    const inFlight = [running.inFlight];
    await finishOne('https://a.example');
    inFlight.push(running.inFlight);
    await finishOne('https://a.example');
    inFlight.push(running.inFlight);
    expect(inFlight).toEqual([8, 7, 8]);
  });

  it('reads an idle origin even when fewer slots are free overall than a quarter of its capacity', async () => {
    queue.add(...messages('https://a.example', 2));
    const running = start(handleByHand, { concurrency: 1, capacity: 8 });
    await settle();
    expect(running.inFlight).toBe(1);
  });

  it('takes origins in turn, so one origin with a backlog does not always go first', async () => {
    queue.add(...messages('https://a.example', 3), ...messages('https://b.example', 3));
    const order: string[] = [];
    start(
      (record) => {
        order.push(new URL(record.body.streamMessage.targetRestApi).hostname);
        return handleByHand(record);
      },
      { concurrency: 1 },
    );
    await settle();
    for (let i = 0; i < 5; i += 1) await finishOne('https://');
    expect(order).toEqual(['a.example', 'b.example', 'a.example', 'b.example', 'a.example', 'b.example']);
  });

  it('does not miss a wake that comes while it reads, and takes the new message without waiting for a poll', async () => {
    const late = envelope('https://a.example/late');
    queue.onRead = () => {
      queue.onRead = undefined;
      queue.add(late);
      loop?.wake();
    };
    const running = start(handleByHand);
    await settle();
    expect([...inHand.keys()]).toEqual([late.id]);
    expect(running.inFlight).toBe(1);
  });

  it('logs a failed read and reads again at the next poll', async () => {
    queue.failReads = 1;
    queue.add(...messages('https://a.example', 1));
    const running = start(handleByHand);
    await settle();
    expect(log.events('consumer.read_failed').map((line) => line.fields)).toEqual([
      { error: 'Error: database is locked' },
    ]);
    expect(running.inFlight).toBe(0);
    await advance(60_000);
    expect(running.inFlight).toBe(1);
  });

  it('tries a message whose handling failed again once its delay is over, doubling the delay each time', async () => {
    const [flaky] = messages('https://a.example', 1) as [ReturnType<typeof envelope>];
    queue.add(flaky);
    let calls = 0;
    start(async (record) => {
      calls += 1;
      if (calls <= 2) throw new Error('secret store unavailable');
      queue.settle(record.body.id);
    });
    await settle();
    const callsAt: number[] = [calls];
    await advance(99);
    callsAt.push(calls);
    await advance(1);
    callsAt.push(calls);
    await advance(199);
    callsAt.push(calls);
    await advance(1);
    callsAt.push(calls);
    expect(callsAt).toEqual([1, 1, 2, 2, 3]);
    expect(log.events('consumer.handle_failed').map((line) => line.fields)).toEqual([
      { id: flaky.id, error: 'Error: secret store unavailable', retryInMs: 100 },
      { id: flaky.id, error: 'Error: secret store unavailable', retryInMs: 200 },
    ]);
  });

  it('starts the retry delay afresh when a message fails again after a handling that succeeded', async () => {
    queue.add(...messages('https://a.example', 1));
    // Fails, then succeeds without settling (an automatic retry is scheduled), then fails again.
    const results = ['fail', 'succeed', 'fail', 'succeed'];
    let calls = 0;
    start(async (record) => {
      calls += 1;
      const result = results[calls - 1];
      if (result === 'fail') throw new Error('secret store unavailable');
      if (calls === results.length) queue.settle(record.body.id);
    });
    await settle();
    await advance(100);
    expect(calls).toBe(3);
    await advance(100);
    expect(calls).toBe(4);
  });

  it('logs a message whose outcome could not be recorded as not delivered again by this process', async () => {
    const [lost] = messages('https://a.example', 1) as [ReturnType<typeof envelope>];
    queue.add(lost);
    start(async (record) => {
      throw new OutcomeNotDurableError(record.body.id);
    });
    await settle();
    expect(log.events('consumer.outcome_lost').map((line) => line.fields)).toEqual([
      {
        id: lost.id,
        error: expect.stringContaining('OutcomeNotDurableError'),
        message: expect.stringMatching(/^not delivered again by this process; after a restart it is/),
      },
    ]);
  });

  it('on stop, reports what is in flight every second and gives up at the grace deadline', async () => {
    queue.add(...messages('https://a.example', 1));
    const running = start(handleByHand);
    await settle();
    const progress: number[] = [];
    let left: number | undefined;
    void running.stop(2500, (inFlight) => progress.push(inFlight)).then((count) => (left = count));
    await settle();
    await advance(2499);
    expect({ progress, left }).toEqual({ progress: [1, 1, 1], left: undefined });
    await advance(1);
    expect({ progress, left }).toEqual({ progress: [1, 1, 1], left: 1 });
    loop = undefined;
  });
});
