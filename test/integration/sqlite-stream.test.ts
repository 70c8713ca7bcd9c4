import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteMessageStates } from '../../shared/adapters/local/sqlite-message-states';
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

  it('registers each message appended to the main stream as accepted, in the same transaction', async () => {
    const db = openDatabase(':memory:');
    const states = new SqliteMessageStates(db, 'datasync');
    const main = new SqliteStream(db, states.registerAppended);
    const [appended] = await main.append('datasync', [envelope('https://t/1', { streamKey: 'k' })]);
    await main.append('datasync-error-503', [envelope('https://t/2')]);
    expect(await states.history(appended?.id as string)).toMatchObject({
      state: 'accepted',
      streamKey: 'k',
      location: { stream: 'datasync', offset: 0n },
    });
    expect(db.prepare('SELECT COUNT(*) FROM message_state').pluck().get()).toBe(1);
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
