import type { InvocationContext, TimerFunctionOptions } from '@azure/functions';
import { contextLogger } from './context-logger';
import type { Runtime } from './runtime';

/**
 * Every 5 minutes, the `status.gauges` log line the open-failure and held-key alerts query (the
 * local host writes the same line every minute). Read from the state store's counts.
 */
export function gaugesFunction(runtime: () => Runtime): TimerFunctionOptions {
  return {
    schedule: '0 */5 * * * *',
    handler: async (_timer: unknown, context: InvocationContext) => {
      const log = contextLogger(context);
      const status = await runtime().status();
      log.info('status.gauges', {
        backlog: status.consumer.backlog,
        inFlight: status.consumer.inFlight,
        scheduledRetries: status.consumer.scheduledRetries,
        openFailures: status.streams.reduce((sum, stream) => sum + (stream.openFailures ?? 0), 0),
        heldKeys: status.heldKeys.keys,
        heldMessages: status.heldKeys.messages,
      });
    },
  };
}
