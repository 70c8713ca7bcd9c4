import type { StatusReport } from '../../shared/api/status-report';

/** The `status.gauges` log line's fields, as the local host logs them, from one status report. */
export function toGauges(status: StatusReport): Record<string, number | null> {
  return {
    backlog: status.consumer.backlog,
    inFlight: status.consumer.inFlight,
    scheduledRetries: status.consumer.scheduledRetries,
    openFailures: status.streams.reduce((sum, stream) => sum + (stream.openFailures ?? 0), 0),
    heldKeys: status.heldKeys.keys,
    heldMessages: status.heldKeys.messages,
  };
}
