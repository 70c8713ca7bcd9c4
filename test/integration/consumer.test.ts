import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import { StreamConsumer } from '../../shared/pipeline/consumer';
import type { StreamRecord } from '../../shared/pipeline/ports';
import { envelope } from '../helpers/fixtures';
import { RecordingLogger } from '../helpers/recording-logger';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await tick(10);
  }
}

describe('StreamConsumer', () => {
  let stream: SqliteStream;
  const options = {
    stream: 'datasync',
    consumer: 'dispatch',
    window: 100,
    pollMs: 20,
    retryDelayMs: 10,
    log: new RecordingLogger(),
  };

  beforeEach(() => (stream = new SqliteStream(openDatabase(':memory:'))));

  it('delivers in order per key and commits once everything before is handled', async () => {
    await stream.append('datasync', [
      envelope('https://t/k1-a', { streamKey: 'k1' }),
      envelope('https://t/k2-a', { streamKey: 'k2' }),
      envelope('https://t/k1-b', { streamKey: 'k1' }),
    ]);
    const handled: string[] = [];
    const consumer = new StreamConsumer(
      stream,
      async (record) => {
        if (record.body.streamMessage.targetRestApi.endsWith('k1-a')) await tick(50);
        handled.push(record.body.streamMessage.targetRestApi.slice(10));
      },
      options,
    );
    await consumer.start();
    await until(() => handled.length === 3);
    await consumer.stop(1000);
    expect(handled).toEqual(['k2-a', 'k1-a', 'k1-b']);
    expect(await stream.committedOffset('dispatch', 'datasync')).toBe(2n);
  });

  it('starts after the committed cursor, so a restart does not deliver twice', async () => {
    await stream.append('datasync', [envelope('https://t/1'), envelope('https://t/2')]);
    await stream.commit('dispatch', 'datasync', 0n);
    const handled: bigint[] = [];
    const consumer = new StreamConsumer(stream, async (record) => void handled.push(record.offset), options);
    await consumer.start();
    await until(() => handled.length === 1);
    await consumer.stop(1000);
    expect(handled).toEqual([1n]);
  });

  it('retries a record whose outcome could not be made durable and does not commit past it meanwhile', async () => {
    await stream.append('datasync', [envelope('https://t/flaky'), envelope('https://t/fine')]);
    let failuresLeft = 3;
    const handled: string[] = [];
    const consumer = new StreamConsumer(
      stream,
      async (record: StreamRecord) => {
        const path = record.body.streamMessage.targetRestApi;
        if (path.endsWith('flaky') && failuresLeft-- > 0) throw new Error('disk full');
        handled.push(path);
      },
      options,
    );
    await consumer.start();
    await until(() => handled.includes('https://t/fine'));
    expect(await stream.committedOffset('dispatch', 'datasync')).toBe(-1n);
    await until(() => handled.length === 2);
    await until(async () => (await stream.committedOffset('dispatch', 'datasync')) === 1n);
    await consumer.stop(1000);
    expect(handled).toEqual(['https://t/fine', 'https://t/flaky']);
  });

  it('leaves unfinished work uncommitted when stopped, for the next start', async () => {
    await stream.append('datasync', [envelope('https://t/hangs')]);
    const consumer = new StreamConsumer(stream, () => new Promise<void>(() => undefined), options);
    await consumer.start();
    await until(() => consumer.pending === 1);
    await consumer.stop(20);
    expect(await stream.committedOffset('dispatch', 'datasync')).toBe(-1n);
  });
});
