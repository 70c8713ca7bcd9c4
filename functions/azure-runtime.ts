import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { BlobArchive } from '../shared/adapters/azure/blob-archive';
import { createSecretClient, KeyVaultSecretStore } from '../shared/adapters/azure/key-vault-secret-store';
import { RegisteringStream } from '../shared/adapters/azure/registering-stream';
import { ServiceBusAlerts } from '../shared/adapters/azure/service-bus-alerts';
import { ServiceBusStream, type ServiceBusClientLike } from '../shared/adapters/azure/service-bus-stream';
import { stateStatus } from '../shared/adapters/azure/state-status';
import { TableMessageStates } from '../shared/adapters/azure/table-message-states';
import { PipelineAssembly, type Backends } from '../shared/assembly/pipeline-assembly';
import type { AzureConfig } from '../shared/config/config';
import type { Archive, Logger, SecretStore } from '../shared/pipeline/ports';
import { CachedSecretStore } from '../shared/pipeline/secret-cache';
import { BACKOFFS_PROPERTY } from './read-function';
import type { Runtime } from './runtime';

/** The Azure clients the runtime runs on; tests pass fakes (Service Bus) and Azurite (tables). */
export interface AzureClients {
  serviceBus: ServiceBusClientLike & { close(): Promise<void> };
  table: TableClient;
  secrets: SecretStore;
  archive: Archive;
}

/**
 * The pipeline on Azure services: Service Bus queues, message states in Table Storage, Key Vault
 * behind a cache, Blob Storage archive, the alert topic; managed identity (DefaultAzureCredential)
 * unless connection strings are given.
 */
export function createAzureRuntime(
  config: AzureConfig,
  credential: TokenCredential = new DefaultAzureCredential(),
): Runtime {
  return azureRuntime(config, azureClients(config, credential));
}

function azureClients(config: AzureConfig, credential: TokenCredential): AzureClients {
  const azure = config.azure;
  const blobs = azure.archive.accountUrl
    ? new BlobServiceClient(azure.archive.accountUrl, credential)
    : BlobServiceClient.fromConnectionString(azure.archive.connectionString as string);
  return {
    serviceBus: azure.serviceBus.fullyQualifiedNamespace
      ? new ServiceBusClient(azure.serviceBus.fullyQualifiedNamespace, credential)
      : new ServiceBusClient(azure.serviceBus.connectionString as string),
    table: azure.stateTable.url
      ? new TableClient(azure.stateTable.url, azure.stateTable.name, credential)
      : TableClient.fromConnectionString(azure.stateTable.connectionString as string, azure.stateTable.name),
    secrets: new KeyVaultSecretStore(createSecretClient(azure.keyVaultUrl, credential), {
      prefix: azure.secretPrefix,
    }),
    archive: new BlobArchive(blobs.getContainerClient(azure.archive.container)),
  };
}

export function azureRuntime(config: AzureConfig, clients: AzureClients): Runtime {
  const azure = config.azure;
  const sessionQueues = new Set(azure.ordering ? [config.mainStream] : []);
  const serviceBus = new ServiceBusStream(clients.serviceBus, {
    sessionQueues,
    unorderedSessions: azure.unorderedSessions,
  });
  const states = new TableMessageStates(clients.table, {
    mainStream: config.mainStream,
    idempotencyWindowMs: config.idempotencyWindowMs,
    schedule: (stream, envelope, at, messageId) => serviceBus.schedule(stream, envelope, at, { messageId }),
  });
  const stream = new RegisteringStream(serviceBus, states, config.mainStream);
  const secrets = new CachedSecretStore(clients.secrets, config.secretCacheTtlMs);
  const alertSender = clients.serviceBus.createSender(azure.alertTopic);
  const assembly = new PipelineAssembly(config);
  const backends = (log: Logger): Backends => ({
    stream,
    states,
    secrets,
    archive: clients.archive,
    alerts: new ServiceBusAlerts(alertSender, log),
  });

  const status = () =>
    stateStatus(states, assembly.routing, assembly.inFlight, config.mainStream, secrets.backendCalls);

  return {
    mainStream: config.mainStream,
    status,
    deliver: (source, log) => assembly.deliver(backends(log), source, log),
    api: (log) => assembly.api(backends(log), status, log),
    admit: (envelope) => states.admit(envelope),
    backOff: async (envelope, at, backoffs) => {
      if (config.dispatch.onFailure === 'hold' && envelope.streamKey !== '') {
        // Best effort: when the state store is what failed, the next message of the key fails to be admitted too.
        await states.holds.hold(envelope.streamKey, envelope.id).catch(() => undefined);
      }
      await serviceBus.schedule(config.mainStream, envelope, at, {
        messageId: `${envelope.id}-backoff-${backoffs}`,
        properties: { [BACKOFFS_PROPERTY]: backoffs },
      });
    },
    close: async () => {
      await serviceBus.close();
      await alertSender.close();
      await clients.serviceBus.close();
      assembly.close();
    },
  };
}
