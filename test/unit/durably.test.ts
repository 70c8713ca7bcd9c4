import { durably } from '../../shared/pipeline/durably';
import { RecordingLogger } from '../helpers/recording-logger';

describe('durably', () => {
  let log: RecordingLogger;
  let writes: number[];
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    log = new RecordingLogger();
    writes = [];
  });
  afterEach(() => jest.useRealTimers());

  /** A write that fails `failures` times, then succeeds; it records when it ran. */
  const failing = (failures: number) => async () => {
    writes.push(Date.now());
    if (writes.length <= failures) throw new Error(`disk busy ${writes.length}`);
  };

  const run = async (policy: { firstDelayMs: number; boundMs: number }, write: () => Promise<void>) => {
    const done = durably(policy, log, 'm-1', write);
    await jest.runAllTimersAsync();
    return done;
  };

  it('writes again, waiting twice as long each time, until the write succeeds', async () => {
    await expect(run({ firstDelayMs: 100, boundMs: 10_000 }, failing(3))).resolves.toBe(true);
    expect(writes).toEqual([0, 100, 300, 700]);
  });

  it('logs each failed write with the message id, the error and the next wait', async () => {
    await run({ firstDelayMs: 100, boundMs: 10_000 }, failing(2));
    expect(log.events('outcome.not_durable')).toEqual([
      {
        level: 'error',
        event: 'outcome.not_durable',
        fields: { id: 'm-1', error: 'Error: disk busy 1', retryInMs: 100 },
      },
      {
        level: 'error',
        event: 'outcome.not_durable',
        fields: { id: 'm-1', error: 'Error: disk busy 2', retryInMs: 200 },
      },
    ]);
  });

  it('gives up once the bound has passed, its last wait cut short to end at the bound', async () => {
    await expect(run({ firstDelayMs: 100, boundMs: 500 }, failing(Infinity))).resolves.toBe(false);
    expect(writes).toEqual([0, 100, 300, 500]);
    expect(log.events('outcome.not_durable').map((line) => line.fields.retryInMs)).toEqual([
      100,
      200,
      400,
      undefined,
    ]);
  });

  it('never waits more than 30 s between writes', async () => {
    await run({ firstDelayMs: 10_000, boundMs: 100_000 }, failing(Infinity));
    expect(writes).toEqual([0, 10_000, 30_000, 60_000, 90_000, 100_000]);
  });
});
