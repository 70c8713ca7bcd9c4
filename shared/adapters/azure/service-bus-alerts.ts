import { azureStorageError } from './azure-errors';
import type { ServiceBusSender } from '@azure/service-bus';
import { alertSummary } from '../../pipeline/alert-summary';
import type { Alert, Alerts, Logger } from '../../pipeline/ports';

/** One message per unrecoverable failure on the `datasync-alerts` topic, summary fields only. */
export class ServiceBusAlerts implements Alerts {
  constructor(
    private readonly sender: Pick<ServiceBusSender, 'sendMessages'>,
    private readonly log: Logger,
  ) {}

  async publish(alert: Alert): Promise<void> {
    const summary = alertSummary(alert);
    this.log.warn('alert.unrecoverable', summary);
    try {
      await this.sender.sendMessages({
        body: summary,
        contentType: 'application/json',
        subject: 'unrecoverable',
        messageId: `${alert.messageId}-${alert.attempt}`,
        applicationProperties: { stream: alert.stream, reason: alert.failure.reason },
      });
    } catch (error) {
      throw azureStorageError(`publish the alert`, error);
    }
  }
}
