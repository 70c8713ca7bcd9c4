import type { InvocationContext, ServiceBusQueueFunctionOptions } from '@azure/functions';
import type { Envelope } from '../shared/contract/envelope';
import { decodeEnvelope } from '../shared/contract/envelope-codec';
import { parseOffset } from '../shared/contract/offset';
import type { Logger } from '../shared/pipeline/ports';
import type { RetryPolicy } from '../shared/pipeline/retry-policy';
import { retryDelayMs } from '../shared/pipeline/retry-policy';
import { contextLogger } from './context-logger';
import type { Runtime } from './runtime';

/** The app setting prefix of the Service Bus connection (identity-based: `<prefix>__fullyQualifiedNamespace`). */
export const SERVICE_BUS_CONNECTION = 'ServiceBusConnection';

/** Application property counting the delayed re-attempts a message has had for infrastructure faults. */
export const BACKOFFS_PROPERTY = 'infraBackoffs';

/**
 * Delayed re-attempts for infrastructure faults before the handler throws, so the host abandons the
 * message and Service Bus dead-letters it after the queue's max delivery count (the dead-letter alert).
 */
export const MAX_BACKOFFS = 10;

export interface ReadFunctionOptions {
  queueName: string;
  ordering: boolean;
  /** Delays between the re-attempts after infrastructure faults (the automatic-retry policy). */
  backoff: RetryPolicy;
}

/**
 * Service Bus trigger on the main queue: one message per invocation. A copy already handled
 * (redelivery after a crash, a stale retry) is dropped; a message whose key waits for another one is
 * queued behind it; otherwise it is delivered, retried later, or routed to its error queue. An
 * infrastructure fault (state store, Key Vault, Service Bus) does not throw: the message is
 * scheduled again after a backoff and the handler returns, so the target is not called again at
 * once; only when that fails too does it throw and the host abandon the message.
 */
export function readFunction(
  runtime: () => Runtime,
  options: ReadFunctionOptions,
): ServiceBusQueueFunctionOptions {
  return {
    connection: SERVICE_BUS_CONNECTION,
    queueName: options.queueName,
    isSessionsEnabled: options.ordering,
    cardinality: 'one',
    autoCompleteMessages: true,
    handler: async (message: unknown, context: InvocationContext) => {
      const current = runtime();
      const log = contextLogger(context);
      const body = typeof message === 'string' ? decodeEnvelope(message) : (message as Envelope);
      // The host hands the 64-bit sequence number over as a JS number; beyond 2^53 it is recorded as -1.
      const offset = parseOffset(context.triggerMetadata?.sequenceNumber) ?? -1n;
      try {
        const admission = await current.admit(body);
        if (admission === 'handled') return log.info('sync.already_handled', { id: body.id });
        if (admission === 'heldBack')
          return log.info('sync.held', { id: body.id, streamKey: body.streamKey });
        await current.deliver({ stream: current.mainStream, offset, body }, log);
      } catch (error) {
        await backOff(current, log, body, backoffsOf(context), error, options.backoff);
      }
    },
  };
}

async function backOff(
  runtime: Runtime,
  log: Logger,
  body: Envelope,
  previous: number,
  error: unknown,
  policy: RetryPolicy,
): Promise<void> {
  const backoffs = previous + 1;
  if (backoffs > MAX_BACKOFFS) {
    log.error('sync.backoff_exhausted', { id: body.id, backoffs: previous, error: String(error) });
    throw error;
  }
  const at = new Date(Date.now() + retryDelayMs(policy, backoffs));
  try {
    await runtime.backOff(body, at, backoffs);
  } catch (scheduling) {
    log.error('sync.backoff_failed', { id: body.id, error: String(error), scheduling: String(scheduling) });
    throw error;
  }
  log.warn('sync.backoff', { id: body.id, backoffs, at: at.toISOString(), error: String(error) });
}

function backoffsOf(context: InvocationContext): number {
  const properties = context.triggerMetadata?.applicationProperties as Record<string, unknown> | undefined;
  const value = Number(properties?.[BACKOFFS_PROPERTY] ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}
