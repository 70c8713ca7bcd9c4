import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import { envelope } from '../helpers/fixtures';

describe('SqliteStream', () => {
  let stream: SqliteStream;
  beforeEach(() => (stream = new SqliteStream(openDatabase(':memory:'))));

  it('numbers offsets per stream from 0 and reads after an offset in order', async () => {
    const first = await stream.append('a', [envelope('https://t/1'), envelope('https://t/2')]);
    await stream.append('b', [envelope('https://t/3')]);
    const third = await stream.append('a', [envelope('https://t/4')]);
    expect(first.map((item) => item.offset)).toEqual([0n, 1n]);
    expect(third[0]?.offset).toBe(2n);
    const read = await stream.readAfter('a', 0n, 10);
    expect(read.map((record) => [record.offset, record.body.streamMessage.targetRestApi])).toEqual([
      [1n, 'https://t/2'],
      [2n, 'https://t/4'],
    ]);
    expect(await stream.readAfter('a', -1n, 1)).toHaveLength(1);
  });

  it('keeps a committed cursor per consumer', async () => {
    await stream.append('a', [envelope('https://t/1')]);
    expect(await stream.committedOffset('dispatch', 'a')).toBe(-1n);
    await stream.commit('dispatch', 'a', 0n);
    expect(await stream.committedOffset('dispatch', 'a')).toBe(0n);
    expect(await stream.committedOffset('other', 'a')).toBe(-1n);
  });

  it('expires old messages but never ones a consumer has not committed', async () => {
    await stream.append('a', [envelope('https://t/1'), envelope('https://t/2'), envelope('https://t/3')]);
    await stream.commit('dispatch', 'a', 0n);
    expect(stream.expire(-1000)).toBe(1);
    expect(stream.summaries()).toEqual([{ stream: 'a', firstOffset: 1n, lastOffset: 2n, retained: 2 }]);
    const next = await stream.append('a', [envelope('https://t/4')]);
    expect(next[0]?.offset).toBe(3n);
  });

  it('appends a batch all or nothing', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad = envelope('https://t/2', {
      streamMessage: {
        targetRestApi: 'https://t/2',
        targetRestApiOperation: 'POST',
        targetRestApiPayload: circular,
      },
    });
    await expect(stream.append('a', [envelope('https://t/1'), bad])).rejects.toThrow(/could not append/);
    expect(await stream.exists('a')).toBe(false);
  });
});
