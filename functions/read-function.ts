import type { InvocationContext, ServiceBusQueueFunctionOptions } from '@azure/functions';
import type { Envelope } from '../shared/contract/envelope';
import { decodeEnvelope } from '../shared/contract/envelope-codec';
import { parseOffset } from '../shared/contract/offset';
import { dispatch } from '../shared/pipeline/dispatch';
import { contextLogger } from './context-logger';
import type { Runtime } from './runtime';

/** The app setting prefix of the Service Bus connection (identity-based: `<prefix>__fullyQualifiedNamespace`). */
export const SERVICE_BUS_CONNECTION = 'ServiceBusConnection';

/**
 * Service Bus trigger on the main queue: one message per invocation, delivered to its target or
 * routed to its error queue. Throwing (outcome not durable) makes the host abandon the message, so
 * Service Bus redelivers it; after the queue's max delivery count it is dead-lettered, which the
 * dead-letter metric alert reports.
 */
export function readFunction(
  runtime: () => Runtime,
  options: { queueName: string; ordering: boolean },
): ServiceBusQueueFunctionOptions {
  return {
    connection: SERVICE_BUS_CONNECTION,
    queueName: options.queueName,
    isSessionsEnabled: options.ordering,
    cardinality: 'one',
    autoCompleteMessages: true,
    handler: async (message: unknown, context: InvocationContext) => {
      const current = runtime();
      const body = typeof message === 'string' ? decodeEnvelope(message) : (message as Envelope);
      // The host hands the 64-bit sequence number over as a JS number; beyond 2^53 it is recorded as -1.
      const offset = parseOffset(context.triggerMetadata?.sequenceNumber) ?? -1n;
      await dispatch(
        current.dispatch(contextLogger(context)),
        { stream: current.mainStream, offset, body },
        { autoRetry: true },
      );
    },
  };
}
