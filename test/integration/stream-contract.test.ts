import Long from 'long';
import { ServiceBusStream } from '../../shared/adapters/azure/service-bus-stream';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import type { StreamStore } from '../../shared/pipeline/ports';
import { FakeServiceBus } from '../helpers/fake-service-bus';
import { envelope } from '../helpers/fixtures';

interface Backend {
  name: string;
  /** A store with streams `a` and `b` ready to be written. */
  make(): StreamStore;
}

const backends: Backend[] = [
  { name: 'embedded SQLite stream', make: () => new SqliteStream(openDatabase(':memory:')) },
  {
    name: 'Service Bus stream (fake SDK, sequence numbers above 2^53, 3 per peek)',
    make: () => {
      const bus = new FakeServiceBus()
        .createQueue('a', { firstSequenceNumber: Long.fromString('9007199254740993') })
        .createQueue('b');
      bus.peekLimit = 3;
      return new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 });
    },
  },
];

describe.each(backends)('stream contract: $name', ({ make }) => {
  let stream: StreamStore;
  beforeEach(() => (stream = make()));

  it('reads back what was appended, in order, with increasing exact offsets', async () => {
    const sent = Array.from({ length: 10 }, (_, i) => envelope(`https://t/${i}`, { streamKey: `k${i % 2}` }));
    await stream.append('a', sent.slice(0, 4));
    await stream.append('a', sent.slice(4));
    const read = await stream.readAfter('a', -1n, 100);
    expect(read.map((record) => record.body)).toEqual(sent);
    for (let i = 1; i < read.length; i += 1) expect(read[i]!.offset).toBeGreaterThan(read[i - 1]!.offset);
  });

  it('reads after an offset, at most the number asked, and nothing after the last', async () => {
    await stream.append(
      'a',
      Array.from({ length: 8 }, (_, i) => envelope(`https://t/${i}`)),
    );
    const all = await stream.readAfter('a', -1n, 100);
    const third = all[2]!.offset;
    const next = await stream.readAfter('a', third, 4);
    expect(next.map((record) => record.body)).toEqual(all.slice(3, 7).map((record) => record.body));
    expect(await stream.readAfter('a', all[7]!.offset, 10)).toEqual([]);
  });

  it('keeps streams apart', async () => {
    await stream.append('a', [envelope('https://t/a')]);
    await stream.append('b', [envelope('https://t/b')]);
    const [onlyB] = await stream.readAfter('b', -1n, 10);
    expect(onlyB?.body.streamMessage.targetRestApi).toBe('https://t/b');
  });

  it('says whether a stream exists', async () => {
    await stream.append('a', [envelope('https://t/a')]);
    expect(await stream.exists('a')).toBe(true);
    expect(await stream.exists('never-made')).toBe(false);
  });

  it('does not consume what it reads (a replayed stream keeps its messages)', async () => {
    await stream.append('a', [envelope('https://t/a'), envelope('https://t/b')]);
    await stream.readAfter('a', -1n, 10);
    expect(await stream.readAfter('a', -1n, 10)).toHaveLength(2);
  });
});
