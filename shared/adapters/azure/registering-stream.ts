import type { Envelope } from '../../contract/envelope';
import type { Offset } from '../../contract/offset';
import { PartialAppendError } from '../../pipeline/errors';
import type { Appended, StreamRecord, StreamStore } from '../../pipeline/ports';
import type { TableMessageStates } from './table-message-states';

/**
 * The main queue with its messages registered (`accepted`) in the state store before they are sent,
 * so the trigger and `GET /api/messages/{id}` always find them. Service Bus and Table Storage share
 * no transaction: when the send fails the registrations of the messages not sent are removed again
 * (best effort).
 */
export class RegisteringStream implements StreamStore {
  constructor(
    private readonly stream: StreamStore,
    private readonly states: Pick<TableMessageStates, 'register' | 'unregister'>,
    private readonly mainStream: string,
  ) {}

  async append(stream: string, messages: Envelope[]): Promise<Appended[]> {
    if (stream !== this.mainStream) return this.stream.append(stream, messages);
    await this.states.register(messages);
    try {
      return await this.stream.append(stream, messages);
    } catch (error) {
      const sent = new Set(error instanceof PartialAppendError ? error.accepted.map((item) => item.id) : []);
      await this.states.unregister(messages.map((message) => message.id).filter((id) => !sent.has(id)));
      throw error;
    }
  }

  readAfter(stream: string, after: Offset, max: number): Promise<StreamRecord[]> {
    return this.stream.readAfter(stream, after, max);
  }

  exists(stream: string): Promise<boolean> {
    return this.stream.exists(stream);
  }
}
