import { ALERT_STREAM } from '../../pipeline/error-routing';
import type { Alert, Alerts, Logger } from '../../pipeline/ports';
import type { SqliteStream } from './sqlite-stream';

/** Local alerts: a warning log line and an entry on the `datasync-alerts` stream. */
export class LocalAlerts implements Alerts {
  constructor(
    private readonly stream: SqliteStream,
    private readonly log: Logger,
  ) {}

  async publish(alert: Alert): Promise<void> {
    this.log.warn('alert.unrecoverable', {
      id: alert.messageId,
      stream: alert.stream,
      offset: alert.offset,
      target: alert.targetOrigin,
      reason: alert.failure.reason,
      status: alert.failure.status,
      attempt: alert.attempt,
      archivedAt: alert.archivedAt,
    });
    await this.stream.appendJson(ALERT_STREAM, [{ id: alert.messageId, body: alert }]);
  }
}
