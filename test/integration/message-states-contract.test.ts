import type { Envelope } from '../../shared/contract/envelope';
import type { AttemptRecord } from '../../shared/pipeline/message-states';
import { Azurite } from '../helpers/azurite';
import { envelope } from '../helpers/fixtures';
import { sqliteSubject, tableSubject, type StatesSubject } from '../helpers/message-states-subjects';

const azurite = new Azurite('table');
beforeAll(() => azurite.start(), 30_000);
afterAll(() => azurite.stop());

const ERRORS = 'datasync-error-503';
const at = (second: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, second)).toISOString();

function keyed(streamKey: string, count: number): Envelope[] {
  return Array.from({ length: count }, () => envelope('https://api.example.com/orders', { streamKey }));
}

function failed(
  message: Envelope,
  attempt: number,
  offset: bigint,
  holdKey = true,
  stream = ERRORS,
): AttemptRecord {
  return {
    id: message.id,
    streamKey: message.streamKey,
    attempt: { attempt, at: at(attempt), outcome: 'failed', status: 503, reason: 'http', stream, offset },
    next: { state: 'failed', location: { stream, offset } },
    holdKey,
  };
}

function delivered(message: Envelope, attempt: number): AttemptRecord {
  return {
    id: message.id,
    streamKey: message.streamKey,
    attempt: { attempt, at: at(attempt), outcome: 'delivered', status: 200, durationMs: 12 },
    next: { state: 'delivered' },
    holdKey: false,
  };
}

const adapters: Array<[string, () => Promise<StatesSubject>]> = [
  ['SqliteMessageStates', async () => sqliteSubject()],
  ['TableMessageStates (Azurite)', () => tableSubject(azurite.connectionString)],
];

describe.each(adapters)('MessageStates contract: %s', (_name, create) => {
  let subject: StatesSubject;
  beforeEach(async () => {
    subject = await create();
  });
  afterEach(() => subject.close());

  describe('record and history', () => {
    it('answers nothing for an unknown message', async () => {
      expect(await subject.states.history('no-such-id')).toBeUndefined();
    });

    it('starts a message accepted on the main stream with its target and operation', async () => {
      const [message] = keyed('k', 1) as [Envelope];
      await subject.accept([message]);
      expect(await subject.states.history(message.id)).toMatchObject({
        id: message.id,
        streamKey: 'k',
        state: 'accepted',
        target: 'https://api.example.com',
        operation: 'POST',
        location: { stream: 'datasync' },
        attempts: [],
      });
    });

    it('records each attempt in order: a scheduled retry, then the delivery', async () => {
      const [message] = keyed('', 1) as [Envelope];
      await subject.accept([message]);
      const retryAt = new Date(Date.now() + 60_000);
      const excerpt = 'x'.repeat(512);
      await subject.states.record({
        id: message.id,
        streamKey: '',
        attempt: {
          attempt: 1,
          at: at(1),
          outcome: 'retryScheduled',
          status: 503,
          reason: 'http',
          responseExcerpt: excerpt,
        },
        next: { state: 'retryScheduled', retryAt, envelope: { ...message, attempt: 1, autoRetries: 1 } },
        holdKey: false,
      });
      expect(await subject.states.history(message.id)).toMatchObject({
        state: 'retryScheduled',
        retryAt: retryAt.toISOString(),
      });

      await subject.states.record(delivered(message, 2));
      const history = await subject.states.history(message.id);
      expect(history?.state).toBe('delivered');
      expect(history?.retryAt).toBeUndefined();
      expect(history?.attempts).toEqual([
        {
          attempt: 1,
          at: at(1),
          outcome: 'retryScheduled',
          status: 503,
          reason: 'http',
          responseExcerpt: excerpt,
        },
        { attempt: 2, at: at(2), outcome: 'delivered', status: 200, durationMs: 12 },
      ]);
    });

    it('records a failure with where its record is, to the exact 64-bit offset', async () => {
      const [message] = keyed('', 1) as [Envelope];
      await subject.accept([message]);
      const offset = 2n ** 60n + 3n;
      await subject.states.record({
        ...failed(message, 1, offset, false),
        attempt: { ...failed(message, 1, offset).attempt, detail: 'connect ECONNREFUSED 10.0.0.4:443' },
      });
      expect(await subject.states.history(message.id)).toMatchObject({
        state: 'failed',
        location: { stream: ERRORS, offset },
        attempts: [
          {
            attempt: 1,
            outcome: 'failed',
            stream: ERRORS,
            offset,
            detail: 'connect ECONNREFUSED 10.0.0.4:443',
          },
        ],
      });
    });
  });

  describe('holds per key', () => {
    let head: Envelope;
    let later: Envelope[];
    beforeEach(async () => {
      const messages = keyed('order-1', 3);
      [head, ...later] = messages as [Envelope, ...Envelope[]];
      await subject.accept(messages);
      await subject.states.record(failed(head, 1, 1n));
      for (const message of later) await subject.reachConsumer(message);
    });

    it('holds the later messages of a key behind its failed head; other keys are not held', async () => {
      expect(await subject.states.holdOf('order-1')).toBe(head.id);
      expect(await subject.states.holdOf('order-2')).toBeUndefined();
      expect(await subject.states.history(later[0]?.id as string)).toMatchObject({
        state: 'held',
        heldBehind: head.id,
      });
      const [held, ...others] = await subject.states.heldKeys(10);
      expect(others).toEqual([]);
      expect(held).toMatchObject({ streamKey: 'order-1', head: head.id, headState: 'failed', held: 2 });
      expect(held?.since).toBeInstanceOf(Date);
    });

    it('keeps the key held when the head fails again', async () => {
      await subject.states.record(failed(head, 2, 5n));
      expect(await subject.states.holdOf('order-1')).toBe(head.id);
    });

    it('ends the hold when the head is delivered', async () => {
      await subject.states.record(delivered(head, 2));
      expect(await subject.states.holdOf('order-1')).toBeUndefined();
      expect(await subject.states.heldKeys(10)).toEqual([]);
      expect((await subject.states.history(later[0]?.id as string))?.state).toBe('accepted');
    });

    it('releases a key: the held messages go on and the released head never holds it again', async () => {
      expect(await subject.states.release('order-1')).toBe(2);
      expect(await subject.states.holdOf('order-1')).toBeUndefined();
      expect((await subject.states.history(later[0]?.id as string))?.state).toBe('accepted');
      await subject.states.record(failed(head, 2, 6n));
      expect(await subject.states.holdOf('order-1')).toBeUndefined();
      expect(await subject.states.release('order-1')).toBeUndefined();
    });

    it('skips the head of a key: it is marked skipped and the rest go on', async () => {
      expect(await subject.states.skip('order-1')).toBe(head.id);
      expect((await subject.states.history(head.id))?.state).toBe('skipped');
      expect(await subject.states.holdOf('order-1')).toBeUndefined();
      expect(await subject.states.skip('order-1')).toBeUndefined();
    });
  });

  describe('replayable', () => {
    it('offers only records that are their message’s current location, unless handled ones are included', async () => {
      const [open, superseded, done, owned] = keyed('', 4) as [Envelope, Envelope, Envelope, Envelope];
      await subject.accept([open, superseded, done, owned]);
      await subject.states.record(failed(open, 1, 1n, false));
      await subject.states.record(failed(superseded, 1, 2n, false));
      await subject.states.record(failed(superseded, 2, 5n, false));
      await subject.states.record(failed(done, 1, 3n, false));
      await subject.states.record(delivered(done, 2));
      const records = [
        { offset: 1n, body: open },
        { offset: 2n, body: superseded },
        { offset: 3n, body: done },
        { offset: 4n, body: owned },
      ];
      expect(await subject.states.replayable(ERRORS, records, false)).toEqual(new Set([open.id]));
      expect(await subject.states.replayable(ERRORS, [{ offset: 5n, body: superseded }], false)).toEqual(
        new Set([superseded.id]),
      );
      expect(await subject.states.replayable('datasync-error-404', records, false)).toEqual(new Set());
      expect(await subject.states.replayable(ERRORS, records, true)).toEqual(
        new Set([open.id, superseded.id, done.id]),
      );
    });
  });

  describe('replay passes', () => {
    it('remembers where a stream’s replay is, exactly, and forgets it', async () => {
      expect(await subject.states.replayPass(ERRORS)).toBeUndefined();
      const pass = {
        position: 2n ** 60n + 1n,
        startedAt: new Date(Date.UTC(2026, 0, 2)),
        end: 2n ** 60n + 9n,
        ended: false,
      };
      await subject.states.saveReplayPass(ERRORS, pass);
      expect(await subject.states.replayPass(ERRORS)).toEqual(pass);
      await subject.states.saveReplayPass(ERRORS, { ...pass, end: undefined, ended: true });
      expect(await subject.states.replayPass(ERRORS)).toEqual({
        position: pass.position,
        startedAt: pass.startedAt,
        ended: true,
      });
      await subject.states.saveReplayPass(ERRORS, undefined);
      expect(await subject.states.replayPass(ERRORS)).toBeUndefined();
    });
  });

  describe('ingest keys', () => {
    it('remembers the first answer to an Idempotency-Key, even for a full batch', async () => {
      expect(await subject.states.findIngest('key/with#odd?chars')).toBeUndefined();
      const appended = Array.from({ length: 500 }, (_, index) => ({
        stream: 'datasync',
        id: `5b0c7e1a-0000-5000-a000-${String(index).padStart(12, '0')}`,
        offset: 2n ** 60n + BigInt(index),
      }));
      await subject.states.rememberIngest('key/with#odd?chars', { fingerprint: 'f1', appended });
      await subject.states.rememberIngest('key/with#odd?chars', { fingerprint: 'f2', appended: [] });
      expect(await subject.states.findIngest('key/with#odd?chars')).toEqual({ fingerprint: 'f1', appended });
      expect(await subject.states.findIngest('another')).toBeUndefined();
    });
  });
});
