import { ServicebusNamespace } from '@cdktf/provider-azurerm/lib/servicebus-namespace';
import { ServicebusQueue } from '@cdktf/provider-azurerm/lib/servicebus-queue';
import { ServicebusSubscription } from '@cdktf/provider-azurerm/lib/servicebus-subscription';
import { ServicebusTopic } from '@cdktf/provider-azurerm/lib/servicebus-topic';
import { Construct } from 'constructs';
import type { DatasyncInputs } from '../inputs';
import type { Names } from '../naming';

export interface MessagingProps {
  inputs: DatasyncInputs;
  names: Names;
  resourceGroupName: string;
}

/**
 * Service Bus: the main queue (sessions when ordering is on, duplicate detection on message id,
 * dead-lettering after the max delivery count), one queue per error stream (TTL = retention, then
 * the records simply expire: an error queue is a stream's retained history, only peeked, and what was
 * handled lives in the state store, so expiry is not a failure and must not fill a dead-letter queue
 * or fire the dead-letter alert; no duplicate detection, because a replay re-routes the same message
 * id into the same queue), and the alert topic. SAS is off: identities only.
 */
export class Messaging extends Construct {
  readonly namespace: ServicebusNamespace;
  readonly mainQueue: ServicebusQueue;
  readonly errorQueues: ServicebusQueue[];
  readonly alertTopic: ServicebusTopic;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const { inputs, names } = props;
    const retention = `P${inputs.retentionDays}D`;
    this.namespace = new ServicebusNamespace(this, 'namespace', {
      name: names.serviceBusNamespace,
      location: inputs.location,
      resourceGroupName: props.resourceGroupName,
      sku: inputs.serviceBusSku,
      ...(inputs.serviceBusSku === 'Premium' ? { capacity: 1, premiumMessagingPartitions: 1 } : {}),
      localAuthEnabled: false,
      minimumTlsVersion: '1.2',
    });
    this.mainQueue = new ServicebusQueue(this, 'main-queue', {
      name: inputs.app.mainStream,
      namespaceId: this.namespace.id,
      maxDeliveryCount: inputs.maxDeliveryCount,
      lockDuration: 'PT2M',
      requiresSession: inputs.app.azure.ordering,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: 'PT10M',
      defaultMessageTtl: retention,
      deadLetteringOnMessageExpiration: true,
    });
    this.errorQueues = inputs.errorStreams.map(
      (stream) =>
        new ServicebusQueue(this, `error-queue-${stream.name}`, {
          name: stream.name,
          namespaceId: this.namespace.id,
          defaultMessageTtl: retention,
          deadLetteringOnMessageExpiration: false,
          maxDeliveryCount: inputs.maxDeliveryCount,
        }),
    );
    this.alertTopic = new ServicebusTopic(this, 'alert-topic', {
      name: names.alertTopic,
      namespaceId: this.namespace.id,
      defaultMessageTtl: 'P14D',
    });
    new ServicebusSubscription(this, 'alert-subscription', {
      name: names.alertSubscription,
      topicId: this.alertTopic.id,
      maxDeliveryCount: 10,
      defaultMessageTtl: 'P14D',
      deadLetteringOnMessageExpiration: true,
    });
  }
}
