import Long from 'long';
import { ServiceBusError } from '@azure/service-bus';
import { RegisteringStream } from '../../shared/adapters/azure/registering-stream';
import { ServiceBusStream } from '../../shared/adapters/azure/service-bus-stream';
import type { Envelope } from '../../shared/contract/envelope';
import { PartialAppendError, ValidationError } from '../../shared/pipeline/errors';
import { FakeServiceBus } from '../helpers/fake-service-bus';
import { envelope } from '../helpers/fixtures';

describe('ServiceBusStream', () => {
  it('keeps sequence numbers beyond 2^53 exact', async () => {
    const bus = new FakeServiceBus().createQueue('q', {
      firstSequenceNumber: Long.fromString('9007199254740993'),
    });
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 });
    await stream.append('q', [envelope('https://t/1'), envelope('https://t/2')]);
    const records = await stream.readAfter('q', 9007199254740993n, 10);
    expect(records.map((record) => record.offset)).toEqual([9007199254740994n]);
  });

  it('sends as few batches as fit and names the message id, streamKey session and attempt', async () => {
    const bus = new FakeServiceBus().createQueue('main', { sessions: true });
    bus.batchBytes = 1500;
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(['main']), unorderedSessions: 4 });
    const sent = Array.from({ length: 10 }, (_, i) =>
      envelope(`https://t/${i}`, { streamKey: i % 2 ? 'odd' : '' }),
    );
    const appended = await stream.append('main', sent);
    expect(appended.map((item) => item.id)).toEqual(sent.map((item) => item.id));
    const stored = bus.queues.get('main')!.messages.map((entry) => entry.message);
    expect(stored).toHaveLength(10);
    expect(bus.calls.batchesSent).toBeGreaterThan(1);
    expect(bus.calls.batchesSent).toBeLessThan(10);
    expect(stored[1]).toMatchObject({
      messageId: sent[1]!.id,
      sessionId: 'odd',
      applicationProperties: { attempt: 0 },
    });
    expect(stored[0]?.sessionId).toMatch(/^unordered-[0-3]$/);
    await stream.append('main', [envelope('https://t/again', { streamKey: 'k' })]);
    expect(bus.calls.sendersCreated).toBe(1);
    await stream.close();
    expect(bus.calls.sendersClosed).toBe(1);
  });

  it('puts keyless messages into a bounded set of shared sessions, one id always in the same one', async () => {
    const bus = new FakeServiceBus().createQueue('main', { sessions: true });
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(['main']), unorderedSessions: 4 });
    const keyless = Array.from({ length: 200 }, (_, i) => envelope(`https://t/${i}`, { streamKey: '' }));
    await stream.append('main', keyless);
    await stream.append('main', [keyless[7]!]);
    const sessions = bus.queues.get('main')!.messages.map((entry) => entry.message.sessionId);
    expect(new Set(sessions)).toEqual(new Set(['unordered-0', 'unordered-1', 'unordered-2', 'unordered-3']));
    expect(sessions[200]).toBe(sessions[7]);
  });

  it('pages through peeks that return fewer than asked and skips scheduled messages', async () => {
    const bus = new FakeServiceBus().createQueue('q');
    bus.peekLimit = 2;
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 });
    await stream.append(
      'q',
      Array.from({ length: 7 }, (_, i) => envelope(`https://t/${i}`)),
    );
    bus.queues.get('q')!.messages[1]!.state = 'scheduled';
    const records = await stream.readAfter('q', -1n, 5);
    expect(records.map((record) => record.offset)).toEqual([1n, 3n, 4n, 5n, 6n]);
    expect(bus.calls.peeks).toBeGreaterThanOrEqual(3);
  });

  it('schedules a retry as a Service Bus scheduled message, invisible to reads until it is due', async () => {
    const bus = new FakeServiceBus().createQueue('main', { sessions: true }).createQueue('copy');
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(['main']), unorderedSessions: 4 });
    const retry = envelope('https://t/1', { streamKey: 'k', autoRetries: 1 });
    await stream.schedule('main', retry, new Date(Date.now() + 60_000));
    const [stored] = bus.queues.get('main')!.messages;
    expect(stored).toMatchObject({
      state: 'scheduled',
      message: { messageId: `${retry.id}-retry-1`, sessionId: 'k' },
    });
    await stream.schedule('copy', retry, new Date(Date.now() - 1));
    expect(await stream.readAfter('copy', -1n, 10)).toEqual([]);
    bus.activateScheduled();
    expect((await stream.readAfter('copy', -1n, 10)).map((record) => record.body)).toEqual([retry]);
  });

  it('gives a scheduled retry its own message id, so duplicate detection on the main queue keeps it', async () => {
    const bus = new FakeServiceBus().createQueue('main', { duplicateDetection: true });
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 });
    const original = envelope('https://t/1');
    await stream.append('main', [original]);
    await stream.append('main', [original]);
    await stream.schedule('main', { ...original, attempt: 1, autoRetries: 1 }, new Date(Date.now() - 1));
    bus.activateScheduled();
    const records = await stream.readAfter('main', -1n, 10);
    expect(records.map((record) => record.body.autoRetries ?? 0)).toEqual([0, 1]);
  });

  function failingSecondSend(bus: FakeServiceBus): void {
    const sender = bus.createSender('q');
    const original = sender.sendMessages;
    let sends = 0;
    bus.createSender = () => ({
      ...sender,
      sendMessages: async (batch: Parameters<typeof original>[0]) => {
        sends += 1;
        if (sends === 2) throw new ServiceBusError('busy', 'ServiceBusy');
        return original(batch);
      },
    });
  }

  it('lists the messages already sent when a later batch fails, and only those are on the queue', async () => {
    const bus = new FakeServiceBus().createQueue('q');
    bus.batchBytes = 600;
    failingSecondSend(bus);
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 });
    const messages = Array.from({ length: 6 }, (_, i) => envelope(`https://t/${i}`));
    const error = await stream.append('q', messages).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialAppendError);
    const { accepted, total, code } = error as PartialAppendError;
    const onQueue = bus.queues.get('q')!.messages.map((entry) => entry.message.messageId);
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(6);
    expect(accepted.map((item) => item.id)).toEqual(onQueue);
    expect(accepted.map((item) => item.id)).toEqual(messages.slice(0, accepted.length).map((m) => m.id));
    expect([total, code]).toEqual([6, 'throttled']);
  });

  it('unregisters only the messages that were not sent, so those sent keep their state', async () => {
    const bus = new FakeServiceBus().createQueue('q');
    bus.batchBytes = 600;
    failingSecondSend(bus);
    const registered = new Set<string>();
    const states = {
      register: async (messages: Envelope[]) => messages.forEach((message) => registered.add(message.id)),
      unregister: async (ids: string[]) => ids.forEach((id) => registered.delete(id)),
    };
    const stream = new RegisteringStream(
      new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 }),
      states,
      'q',
    );
    const error = await stream
      .append(
        'q',
        Array.from({ length: 6 }, (_, i) => envelope(`https://t/${i}`)),
      )
      .catch((e: unknown) => e);
    const onQueue = bus.queues.get('q')!.messages.map((entry) => entry.message.messageId);
    expect((error as PartialAppendError).accepted).toHaveLength(onQueue.length);
    expect([...registered]).toEqual(onQueue);
  });

  it('refuses to read the session-enabled main queue from an offset, as a bad request', async () => {
    const bus = new FakeServiceBus().createQueue('main', { sessions: true });
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(['main']), unorderedSessions: 4 });
    await expect(stream.exists('main')).rejects.toThrow(ValidationError);
    await expect(stream.readAfter('main', -1n, 5)).rejects.toThrow(/session-enabled main queue/);
  });

  it('cuts the excerpt and detail of an error record too large for its queue, keeping the payload whole', async () => {
    const bus = new FakeServiceBus().createQueue('errors');
    bus.batchBytes = 8 * 1024;
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 });
    const payload = { text: 'p'.repeat(5000) };
    const record = envelope('https://t/x', {
      streamMessage: {
        targetRestApi: 'https://t/x',
        targetRestApiOperation: 'PUT',
        targetRestApiPayload: payload,
      },
      failure: {
        reason: 'http',
        status: 500,
        responseExcerpt: 'e'.repeat(512),
        detail: 'd'.repeat(6000),
        routedBy: '5xx',
        at: new Date().toISOString(),
        from: { stream: 'datasync', offset: '1' },
      },
    });
    const small = envelope('https://t/y');
    await stream.append('errors', [small, record]);

    const [first, second] = await stream.readAfter('errors', -1n, 10);
    expect(first?.body).toEqual(small);
    expect(second?.body.streamMessage).toEqual(record.streamMessage);
    expect(second?.body.failure).toMatchObject({ reason: 'http', status: 500, routedBy: '5xx' });
    expect(second?.body.failure?.detail).toMatch(/^d{256} \[truncated: the error record was too large/);
    expect(second?.body.failure?.responseExcerpt).toMatch(/^e{256} \[truncated/);
  });

  it('refuses a message whose payload alone is too large for the queue as tooLarge, naming it', async () => {
    const bus = new FakeServiceBus().createQueue('errors');
    bus.batchBytes = 4 * 1024;
    const stream = new ServiceBusStream(bus, { sessionQueues: new Set(), unorderedSessions: 4 });
    const record = envelope('https://t/x', {
      streamMessage: {
        targetRestApi: 'https://t/x',
        targetRestApiOperation: 'PUT',
        targetRestApiPayload: 'p'.repeat(5000),
      },
      failure: {
        reason: 'http',
        status: 500,
        routedBy: '5xx',
        at: new Date().toISOString(),
        from: { stream: 'datasync', offset: '1' },
      },
    });
    await expect(stream.append('errors', [record])).rejects.toMatchObject({
      code: 'tooLarge',
      message: expect.stringMatching(
        new RegExp(`message ${record.id} is larger than a Service Bus message may be`),
      ),
    });
    expect(bus.queues.get('errors')?.messages).toEqual([]);
  });
});
