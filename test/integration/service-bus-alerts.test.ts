import type { ServiceBusMessage } from '@azure/service-bus';
import { ServiceBusAlerts } from '../../shared/adapters/azure/service-bus-alerts';
import type { Alert } from '../../shared/pipeline/ports';
import { RecordingLogger } from '../helpers/recording-logger';

describe('ServiceBusAlerts', () => {
  const alert: Alert = {
    messageId: 'm-1',
    stream: 'datasync-error-unexpected',
    offset: '5',
    targetOrigin: 'https://t.example',
    attempt: 3,
    archivedAt: 'datasync-archive/datasync-error-unexpected/2026/01/01/5-m-1.json',
    failure: {
      reason: 'http',
      status: 409,
      routedBy: 'unexpectedError',
      at: '2026-01-01T00:00:00.000Z',
      from: { stream: 'datasync', offset: '1' },
    },
  };

  it('publishes one summary message per alert, without the record body', async () => {
    const sent: ServiceBusMessage[] = [];
    const log = new RecordingLogger();
    await new ServiceBusAlerts(
      { sendMessages: async (message) => void sent.push(message as ServiceBusMessage) },
      log,
    ).publish(alert);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      subject: 'unrecoverable',
      messageId: 'm-1-3',
      body: {
        messageId: 'm-1',
        stream: 'datasync-error-unexpected',
        status: 409,
        reason: 'http',
        attempt: 3,
      },
    });
    expect(log.events('alert.unrecoverable')).toHaveLength(1);
  });

  it('fails loudly when the topic cannot be written, so the source is not settled', async () => {
    const failing = new ServiceBusAlerts(
      { sendMessages: async () => Promise.reject(new Error('topic missing')) },
      new RecordingLogger(),
    );
    await expect(failing.publish(alert)).rejects.toThrow(/could not publish the alert: topic missing/);
  });
});
