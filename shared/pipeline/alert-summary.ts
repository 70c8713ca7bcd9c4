import type { Alert } from './ports';

/**
 * What an alert says, the same for every channel (log line, topic message): summary fields only,
 * never the payload. The Application Insights workbook queries these names.
 */
export function alertSummary(alert: Alert) {
  return {
    messageId: alert.messageId,
    stream: alert.stream,
    offset: alert.offset,
    targetOrigin: alert.targetOrigin,
    reason: alert.failure.reason,
    status: alert.failure.status,
    routedBy: alert.failure.routedBy,
    attempt: alert.attempt,
    at: alert.failure.at,
    archivedAt: alert.archivedAt,
  };
}
