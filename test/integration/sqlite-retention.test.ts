import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { SqliteMessageStates } from '../../shared/adapters/local/sqlite-message-states';
import { SqliteRetention } from '../../shared/adapters/local/sqlite-retention';
import { SqliteStream } from '../../shared/adapters/local/sqlite-stream';
import type { AttemptRecord } from '../../shared/pipeline/message-states';
import { envelope } from '../helpers/fixtures';

describe('retention of the embedded database', () => {
  it('drops old records and finished states, but never a record a message still needs', async () => {
    const db = openDatabase(':memory:');
    const states = new SqliteMessageStates(db, 'datasync');
    const stream = new SqliteStream(db, states.registerAppended);
    const [done, waiting, failed] = await stream.append('datasync', [
      envelope('https://t/done'),
      envelope('https://t/waiting'),
      envelope('https://t/failed'),
    ]);
    const [errorRecord] = await stream.append('datasync-error-503', [envelope('https://t/failed')]);
    const attempt = (id: string, next: AttemptRecord['next']): AttemptRecord => ({
      id,
      streamKey: '',
      attempt: {
        attempt: 1,
        at: new Date().toISOString(),
        outcome: next.state === 'delivered' ? 'delivered' : 'failed',
      },
      next,
      holdKey: false,
    });
    await states.record(attempt(done?.id as string, { state: 'delivered' }));
    await states.record(
      attempt(failed?.id as string, {
        state: 'failed',
        location: { stream: 'datasync-error-503', offset: errorRecord?.offset },
      }),
    );
    await states.rememberIngest('key-1', { fingerprint: 'f', appended: [] });

    const expired = new SqliteRetention(db).expire(-1000, -1000);

    expect(expired).toEqual({ records: 2, states: 1 });
    const main = await stream.readAfter('datasync', -1n, 10);
    expect(main.map((record) => record.body.id)).toEqual([waiting?.id]);
    expect(await stream.readAfter('datasync-error-503', -1n, 10)).toHaveLength(1);
    expect(await states.history(done?.id as string)).toBeUndefined();
    expect(await states.history(failed?.id as string)).toMatchObject({ state: 'failed' });
    expect(await states.findIngest('key-1')).toBeUndefined();
  });
});
