import { alertSummary } from '../../pipeline/alert-summary';
import { ALERT_STREAM } from '../../pipeline/error-routing';
import type { HeldKey } from '../../pipeline/message-states';
import type { Alert, Alerts, Logger } from '../../pipeline/ports';
import type { SqliteStream } from './sqlite-stream';

/** Local alerts: a warning log line and an entry on the `datasync-alerts` stream. */
export class LocalAlerts implements Alerts {
  constructor(
    private readonly stream: SqliteStream,
    private readonly log: Logger,
  ) {}

  async publish(alert: Alert): Promise<void> {
    this.log.warn('alert.unrecoverable', alertSummary(alert));
    await this.stream.appendJson(ALERT_STREAM, [{ id: alert.messageId, body: alert }]);
  }

  /** A key has waited behind a failed message longer than DATASYNC_HELD_ALERT_MINUTES. */
  async publishHeldKey(held: HeldKey): Promise<void> {
    const alert = { kind: 'heldKey', ...held, since: held.since.toISOString() };
    this.log.warn('alert.held_key', alert);
    await this.stream.appendJson(ALERT_STREAM, [{ id: held.head, body: alert }]);
  }
}
