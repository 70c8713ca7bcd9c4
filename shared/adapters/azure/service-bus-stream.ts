import { azureStorageError, isServiceBusCode } from './azure-errors';
import type {
  ServiceBusMessage,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusReceiverOptions,
  ServiceBusSender,
} from '@azure/service-bus';
import Long from 'long';
import type { Envelope } from '../../contract/envelope';
import { decodeEnvelope, encodeEnvelope } from '../../contract/envelope-codec';
import type { Offset } from '../../contract/offset';
import {
  PartialAppendError,
  StorageError,
  StreamNotFoundError,
  ValidationError,
} from '../../pipeline/errors';
import type { Appended, StreamRecord, StreamStore } from '../../pipeline/ports';
import { fitErrorRecord } from './error-record-fit';
import { sessionIdFor } from './session-id';

type Sender = Pick<ServiceBusSender, 'createMessageBatch' | 'sendMessages' | 'scheduleMessages' | 'close'>;

/** The part of `ServiceBusClient` this adapter uses (and the test fake implements). */
export interface ServiceBusClientLike {
  createSender(queueOrTopicName: string): Sender;
  createReceiver(
    queueName: string,
    options?: ServiceBusReceiverOptions,
  ): Pick<ServiceBusReceiver, 'peekMessages' | 'close'>;
}

export interface ServiceBusStreamOptions {
  /** Queues with sessions (ordering on): every message needs a session id. */
  sessionQueues: ReadonlySet<string>;
  /** Shared sessions for messages without a `streamKey` (see `sessionIdFor`). */
  unorderedSessions: number;
}

/** Service Bus peeks at most this many per call (and often fewer); pages are asked for this size. */
export const PEEK_PAGE = 250;

/**
 * Streams as Service Bus queues. The sequence number is the offset (a 64-bit `Long`, kept exact as
 * bigint); a replay peeks from a sequence number, so error queues are read without being consumed
 * and keep their messages for their TTL.
 */
export class ServiceBusStream implements StreamStore {
  private readonly senders = new Map<string, Sender>();

  constructor(
    private readonly client: ServiceBusClientLike,
    private readonly options: ServiceBusStreamOptions,
  ) {}

  /**
   * Sends in as few batches as fit. Service Bus has no transaction across batches here: when a later
   * batch fails, earlier ones are already enqueued, and the error (a PartialAppendError) lists them.
   */
  async append(stream: string, messages: Envelope[]): Promise<Appended[]> {
    if (messages.length === 0) return [];
    const sender = this.sender(stream);
    let sent = 0;
    try {
      let batch = await sender.createMessageBatch();
      for (const envelope of messages) {
        const message = this.toMessage(stream, envelope);
        if (batch.tryAddMessage(message)) continue;
        if (batch.count > 0) {
          await sender.sendMessages(batch);
          sent += batch.count;
          batch = await sender.createMessageBatch();
        }
        const empty = batch;
        const fitting = fitErrorRecord(envelope, (candidate) =>
          empty.tryAddMessage(this.toMessage(stream, candidate)),
        );
        if (!fitting) {
          throw new StorageError(
            'tooLarge',
            `message ${envelope.id} is larger than a Service Bus message may be`,
          );
        }
      }
      await sender.sendMessages(batch);
    } catch (error) {
      const failure = azureStorageError(`send to queue "${stream}"`, error);
      if (sent === 0) throw failure;
      throw new PartialAppendError(appendedTo(stream, messages.slice(0, sent)), messages.length, failure);
    }
    return appendedTo(stream, messages);
  }

  /**
   * A Service Bus scheduled message: durable now, active in the queue at `at` (now or earlier: at
   * once). Its message id names the retry (or re-send), or the main queue's duplicate detection would
   * drop it as the message it repeats; sending the same id twice enqueues it once.
   */
  async schedule(
    stream: string,
    message: Envelope,
    at: Date,
    options: { messageId?: string; properties?: Record<string, number> } = {},
  ): Promise<void> {
    const sender = this.sender(stream);
    try {
      const base = this.toMessage(stream, message);
      const scheduled = {
        ...base,
        messageId: options.messageId ?? `${message.id}-retry-${message.autoRetries ?? 0}`,
        applicationProperties: { ...base.applicationProperties, ...options.properties },
      };
      await sender.scheduleMessages(scheduled, at);
    } catch (error) {
      throw azureStorageError(`schedule a retry on queue "${stream}"`, error);
    }
  }

  /** Pages through peeks until `max` active messages are found or a peek comes back empty. */
  async readAfter(stream: string, after: Offset, max: number): Promise<StreamRecord[]> {
    if (this.options.sessionQueues.has(stream)) {
      throw new ValidationError([
        `streamOCIDToRetry: "${stream}" is the session-enabled main queue; it cannot be read from an offset (replay an error queue)`,
      ]);
    }
    const receiver = this.client.createReceiver(stream, { receiveMode: 'peekLock' });
    const records: StreamRecord[] = [];
    try {
      const pageSize = () => Math.min(PEEK_PAGE, max - records.length);
      for await (const page of peekPages(receiver, after + 1n, pageSize)) {
        for (const message of page) {
          if (message.state === 'active') records.push(toRecord(stream, message));
        }
        if (records.length >= max) break;
      }
    } catch (error) {
      throw translateReadError(stream, error);
    } finally {
      await receiver.close();
    }
    return records.slice(0, max);
  }

  async exists(stream: string): Promise<boolean> {
    try {
      await this.readAfter(stream, -1n, 1);
      return true;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return false;
      throw error;
    }
  }

  /** Closes the cached senders (worker shutdown). */
  async close(): Promise<void> {
    const senders = [...this.senders.values()];
    this.senders.clear();
    await Promise.all(senders.map((sender) => sender.close()));
  }

  /** One sender per queue, kept open: opening an AMQP link per call would cost more than the send. */
  private sender(queue: string): Sender {
    let sender = this.senders.get(queue);
    if (!sender) {
      sender = this.client.createSender(queue);
      this.senders.set(queue, sender);
    }
    return sender;
  }

  private toMessage(stream: string, envelope: Envelope): ServiceBusMessage {
    const message: ServiceBusMessage = {
      // As text, so numbers keep every digit (the SDK would encode an object with JSON.stringify).
      body: encodeEnvelope(envelope),
      contentType: 'application/json',
      messageId: envelope.id,
      applicationProperties: {
        attempt: envelope.attempt,
        ...(envelope.failure
          ? {
              originStream: envelope.failure.from.stream,
              originOffset: envelope.failure.from.offset,
              routedBy: envelope.failure.routedBy,
            }
          : {}),
      },
    };
    if (this.options.sessionQueues.has(stream)) {
      message.sessionId = sessionIdFor(envelope, this.options.unorderedSessions);
    }
    return message;
  }
}

/**
 * Peeks page after page from a sequence number until a page comes back empty. The service returns
 * at most about 250 per peek and often fewer than asked, so a short page is not the end.
 */
export async function* peekPages(
  receiver: Pick<ServiceBusReceiver, 'peekMessages'>,
  from: Offset,
  pageSize: () => number,
): AsyncGenerator<ServiceBusReceivedMessage[]> {
  let next = from;
  for (;;) {
    const page = await receiver.peekMessages(pageSize(), {
      fromSequenceNumber: Long.fromString(next.toString()),
    });
    const last = page[page.length - 1];
    if (!last) return;
    next = sequenceNumberOf(last) + 1n;
    yield page;
  }
}

function sequenceNumberOf(message: ServiceBusReceivedMessage): Offset {
  return BigInt((message.sequenceNumber as Long).toString());
}

function toRecord(stream: string, message: ServiceBusReceivedMessage): StreamRecord {
  return {
    stream,
    offset: sequenceNumberOf(message),
    body: typeof message.body === 'string' ? decodeEnvelope(message.body) : (message.body as Envelope),
    enqueuedAt: message.enqueuedTimeUtc ?? new Date(0),
  };
}

function translateReadError(stream: string, error: unknown): Error {
  if (isServiceBusCode(error, 'MessagingEntityNotFound')) return new StreamNotFoundError(stream);
  return azureStorageError(`peek queue "${stream}"`, error);
}

function appendedTo(stream: string, messages: Envelope[]): Appended[] {
  return messages.map((envelope) => ({ stream, id: envelope.id }));
}
