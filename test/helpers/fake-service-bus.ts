import type {
  PeekMessagesOptions,
  ServiceBusMessage,
  ServiceBusMessageBatch,
  ServiceBusReceivedMessage,
  ServiceBusReceiverOptions,
} from '@azure/service-bus';
import Long from 'long';
import type { ServiceBusClientLike } from '../../shared/adapters/azure/service-bus-stream';

interface StoredMessage {
  sequenceNumber: Long;
  message: ServiceBusMessage;
  state: 'active' | 'scheduled';
  enqueuedTimeUtc: Date;
}

interface FakeQueue {
  sessions: boolean;
  /** Message ids seen, when duplicate detection is on (the window is the whole test). */
  seenIds?: Set<string>;
  nextSequenceNumber: Long;
  messages: StoredMessage[];
  deadLetters: StoredMessage[];
}

function entityNotFound(name: string): Error {
  return Object.assign(new Error(`The messaging entity '${name}' could not be found.`), {
    name: 'ServiceBusError',
    code: 'MessagingEntityNotFound',
  });
}

class FakeBatch implements ServiceBusMessageBatch {
  readonly messages: ServiceBusMessage[] = [];
  sizeInBytes = 0;

  constructor(readonly maxSizeInBytes: number) {}

  get count(): number {
    return this.messages.length;
  }

  tryAddMessage(message: ServiceBusMessage): boolean {
    const size = Buffer.byteLength(JSON.stringify(message));
    if (this.sizeInBytes + size > this.maxSizeInBytes) return false;
    this.messages.push(message);
    this.sizeInBytes += size;
    return true;
  }
}

/**
 * A fake of exactly the Service Bus calls the adapters make, honouring the SDK's semantics: `Long`
 * sequence numbers (starting wherever the test says, e.g. above 2^53), batches that fill up, peeks
 * from a sequence number that may return fewer messages than asked, session queues that refuse
 * plain receivers and messages without a session id, missing entities.
 */
export class FakeServiceBus implements ServiceBusClientLike {
  readonly queues = new Map<string, FakeQueue>();
  readonly calls = { sendersCreated: 0, batchesSent: 0, peeks: 0, sendersClosed: 0, receiversClosed: 0 };
  /** What one peek returns at most (the service often returns fewer than asked). */
  peekLimit = 250;
  batchBytes = 256 * 1024;
  failNextSend: Error | undefined;

  createQueue(
    name: string,
    options: { sessions?: boolean; firstSequenceNumber?: Long; duplicateDetection?: boolean } = {},
  ): this {
    this.queues.set(name, {
      sessions: options.sessions ?? false,
      seenIds: options.duplicateDetection ? new Set() : undefined,
      nextSequenceNumber: options.firstSequenceNumber ?? Long.ONE,
      messages: [],
      deadLetters: [],
    });
    return this;
  }

  createSender(name: string) {
    this.calls.sendersCreated += 1;
    return {
      createMessageBatch: async () => new FakeBatch(this.batchBytes),
      sendMessages: async (
        batchOrMessage: ServiceBusMessageBatch | ServiceBusMessage | ServiceBusMessage[],
      ) => {
        const messages =
          batchOrMessage instanceof FakeBatch
            ? batchOrMessage.messages
            : Array.isArray(batchOrMessage)
              ? batchOrMessage
              : [batchOrMessage as ServiceBusMessage];
        this.enqueue(name, messages, 'active');
        this.calls.batchesSent += 1;
      },
      scheduleMessages: async (messages: ServiceBusMessage | ServiceBusMessage[], at: Date) =>
        this.enqueue(name, Array.isArray(messages) ? messages : [messages], 'scheduled', at),
      close: async () => {
        this.calls.sendersClosed += 1;
      },
    };
  }

  /** What the service does when a scheduled message's time comes. */
  activateScheduled(now = new Date()): void {
    for (const queue of this.queues.values()) {
      for (const stored of queue.messages) {
        if (stored.state === 'scheduled' && stored.enqueuedTimeUtc <= now) stored.state = 'active';
      }
    }
  }

  private enqueue(
    name: string,
    messages: ServiceBusMessage[],
    state: StoredMessage['state'],
    at = new Date(),
  ): Long[] {
    const queue = this.queues.get(name);
    if (!queue) throw entityNotFound(name);
    if (this.failNextSend) {
      const error = this.failNextSend;
      this.failNextSend = undefined;
      throw error;
    }
    if (queue.sessions && messages.some((message) => !message.sessionId)) {
      throw new Error('The SessionId was not set on a message, and it cannot be sent to the entity.');
    }
    // Duplicate detection: the service accepts the send and silently drops a repeated message id.
    const fresh = messages.filter((message) => {
      const id = String(message.messageId);
      if (!queue.seenIds) return true;
      if (queue.seenIds.has(id)) return false;
      queue.seenIds.add(id);
      return true;
    });
    return fresh.map((message) => {
      const sequenceNumber = queue.nextSequenceNumber;
      queue.messages.push({
        sequenceNumber,
        message: JSON.parse(JSON.stringify(message)) as ServiceBusMessage,
        state,
        enqueuedTimeUtc: at,
      });
      queue.nextSequenceNumber = queue.nextSequenceNumber.add(1);
      return sequenceNumber;
    });
  }

  createReceiver(name: string, options: ServiceBusReceiverOptions = {}) {
    return {
      peekMessages: async (
        max: number,
        peek: PeekMessagesOptions = {},
      ): Promise<ServiceBusReceivedMessage[]> => {
        this.calls.peeks += 1;
        const queue = this.queues.get(name);
        if (!queue) throw entityNotFound(name);
        const deadLetter = options.subQueueType === 'deadLetter';
        if (queue.sessions && !deadLetter) {
          throw new Error(
            'It is not possible for an entity that requires sessions to create a non-sessionful message receiver.',
          );
        }
        const from = peek.fromSequenceNumber ?? Long.ZERO;
        const source = deadLetter ? queue.deadLetters : queue.messages;
        return source
          .filter((stored) => stored.sequenceNumber.greaterThanOrEqual(from))
          .slice(0, Math.min(max, this.peekLimit))
          .map((stored) => ({
            ...stored.message,
            sequenceNumber: stored.sequenceNumber,
            state: stored.state,
            enqueuedTimeUtc: stored.enqueuedTimeUtc,
          })) as unknown as ServiceBusReceivedMessage[];
      },
      close: async () => {
        this.calls.receiversClosed += 1;
      },
    };
  }
}
