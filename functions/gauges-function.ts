import type { InvocationContext, TimerFunctionOptions } from '@azure/functions';
import { contextLogger } from './context-logger';
import { gaugeLogFields } from '../shared/api/status-report';
import type { Host } from '../shared/assembly/host';

/** At second 0 of every minute (NCRONTAB with seconds). */
export const GAUGES_SCHEDULE = '0 * * * * *';

/**
 * Logs `status.gauges` {openFailures, heldKeys, heldMessages, backlog...} every minute from the state
 * store, as the local host does: the open-failures and held-keys alerts query this line. A failure is
 * logged and the next minute tries again (no retry policy: a late gauge is worth nothing).
 */
export function gaugesFunction(host: () => Host): TimerFunctionOptions {
  return {
    schedule: GAUGES_SCHEDULE,
    runOnStartup: false,
    handler: async (_timer: unknown, context: InvocationContext) => {
      const log = contextLogger(context);
      try {
        log.info('status.gauges', gaugeLogFields(await host().status()));
      } catch (error) {
        log.error('status.gauges_failed', { error: String(error) });
      }
    },
  };
}
