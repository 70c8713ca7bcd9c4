import type Database from 'better-sqlite3';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteDeliveryQueue } from '../../shared/adapters/local/sqlite-delivery-queue';
import { SqliteMessageStates } from '../../shared/adapters/local/sqlite-message-states';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import { DeliveryLoop } from '../../shared/pipeline/delivery-loop';
import { OutcomeNotDurableError } from '../../shared/pipeline/errors';
import type { StreamRecord } from '../../shared/pipeline/ports';
import { until } from '../helpers/app-harness';
import { envelope } from '../helpers/fixtures';
import { RecordingLogger } from '../helpers/recording-logger';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the delivery loop on the SQLite queue', () => {
  let db: Database.Database;
  let states: SqliteMessageStates;
  let stream: SqliteStream;
  let queue: SqliteDeliveryQueue;
  let loop: DeliveryLoop | undefined;
  const options = {
    concurrency: 8,
    gate: { capacity: () => 2, started: () => undefined },
    pollMs: 20,
    retryDelayMs: 20,
    log: new RecordingLogger(),
  };

  beforeEach(() => {
    db = openDatabase(':memory:');
    states = new SqliteMessageStates(db, 'datasync');
    stream = new SqliteStream(db, states.registerAppended);
    queue = new SqliteDeliveryQueue(db, 'datasync');
  });
  afterEach(async () => {
    await loop?.stop(0);
    db.close();
  });

  const delivered = (record: StreamRecord) =>
    states.record({
      id: record.body.id,
      streamKey: record.body.streamKey,
      attempt: { attempt: 1, at: new Date().toISOString(), outcome: 'delivered', status: 200 },
      next: { state: 'delivered' },
      holdKey: false,
    });
  const start = (handle: (record: StreamRecord) => Promise<void>) => {
    loop = new DeliveryLoop(queue, handle, options);
    loop.start();
    return loop;
  };

  it('delivers in order per key, even across target origins, and other keys meanwhile', async () => {
    await stream.append('datasync', [
      envelope('https://a.example/k1-first', { streamKey: 'k1' }),
      envelope('https://b.example/k2', { streamKey: 'k2' }),
      envelope('https://b.example/k1-second', { streamKey: 'k1' }),
    ]);
    const handled: string[] = [];
    start(async (record) => {
      if (record.body.streamMessage.targetRestApi.endsWith('k1-first')) await tick(80);
      handled.push(new URL(record.body.streamMessage.targetRestApi).pathname);
      await delivered(record);
    });
    await until(() => handled.length === 3);
    expect(handled).toEqual(['/k2', '/k1-first', '/k1-second']);
  });

  it('never has more messages of one origin in hand than its gate allows, so another origin still flows', async () => {
    await stream.append(
      'datasync',
      Array.from({ length: 20 }, () => envelope('https://hanging.example/x')),
    );
    await stream.append('datasync', [envelope('https://healthy.example/y')]);
    const inHand = new Set<string>();
    const healthy: string[] = [];
    start(async (record) => {
      if (record.body.streamMessage.targetRestApi.startsWith('https://healthy')) {
        healthy.push(record.body.id);
        return delivered(record);
      }
      inHand.add(record.body.id);
      await new Promise(() => undefined);
    });
    await until(() => healthy.length === 1);
    await tick(60);
    expect(inHand.size).toBe(2);
  });

  it('tries a message again later when its handling failed before the target was called', async () => {
    await stream.append('datasync', [
      envelope('https://t.example/flaky'),
      envelope('https://t.example/fine'),
    ]);
    let failuresLeft = 2;
    const handled: string[] = [];
    start(async (record) => {
      const path = new URL(record.body.streamMessage.targetRestApi).pathname;
      if (path === '/flaky' && failuresLeft-- > 0) throw new Error('secret store unavailable');
      handled.push(path);
      await delivered(record);
    });
    await until(() => handled.length === 2);
    expect(handled).toEqual(['/fine', '/flaky']);
  });

  it('does not hand a message over again in this process when its outcome could not be recorded', async () => {
    await stream.append('datasync', [envelope('https://t.example/lost')]);
    let calls = 0;
    start(async (record) => {
      calls += 1;
      throw new OutcomeNotDurableError(record.body.id);
    });
    await until(() => calls === 1);
    await tick(150);
    expect(calls).toBe(1);
  });

  it('starts nothing new once stopped, waits for the messages in hand, and reports what was cut off', async () => {
    await stream.append(
      'datasync',
      Array.from({ length: 6 }, (_, index) => envelope(`https://o${index % 3}.example/m`)),
    );
    const started: string[] = [];
    let finish: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const running = start(async (record) => {
      started.push(record.body.id);
      await gate;
      await delivered(record);
    });
    await until(() => started.length === 6);
    const stopping = running.stop(5000);
    finish();
    expect(await stopping).toBe(0);
    expect(started).toHaveLength(6);

    await stream.append('datasync', [envelope('https://late.example/m')]);
    running.wake();
    await tick(60);
    expect(started).toHaveLength(6);

    const hanging = start(() => new Promise<void>(() => undefined));
    await until(() => hanging.inFlight === 1);
    expect(await hanging.stop(30)).toBe(1);
    loop = undefined;
  });
});
