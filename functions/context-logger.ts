import type { InvocationContext } from '@azure/functions';
import type { Logger } from '../shared/pipeline/ports';

/**
 * Logs through the invocation context as one JSON object per line, so Application Insights
 * queries can `parse_json(message)` and count events. Fields never carry secrets or payloads.
 */
export function contextLogger(context: InvocationContext): Logger {
  const line = (event: string, fields: Record<string, unknown> = {}) =>
    JSON.stringify({ event, invocationId: context.invocationId, ...fields });
  return {
    info: (event, fields) => context.info(line(event, fields)),
    warn: (event, fields) => context.warn(line(event, fields)),
    error: (event, fields) => context.error(line(event, fields)),
  };
}
