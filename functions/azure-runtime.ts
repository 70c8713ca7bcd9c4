import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { BlobArchive } from '../shared/adapters/azure/blob-archive';
import { KeyVaultSecretStore } from '../shared/adapters/azure/key-vault-secret-store';
import { ServiceBusAlerts } from '../shared/adapters/azure/service-bus-alerts';
import { ServiceBusStatus } from '../shared/adapters/azure/service-bus-status';
import { ServiceBusStream } from '../shared/adapters/azure/service-bus-stream';
import { PipelineAssembly, type Backends } from '../shared/assembly/pipeline-assembly';
import type { AzureConfig, Config } from '../shared/config/config';
import type { Logger } from '../shared/pipeline/ports';
import { CachedSecretStore } from '../shared/pipeline/secret-cache';
import type { Runtime } from './runtime';

const STATUS_COUNT_CAP = 5000;

/**
 * The pipeline on Azure services: Service Bus queues, Key Vault behind a cache, Blob Storage archive,
 * the alert topic; managed identity (DefaultAzureCredential) unless a connection string is given.
 */
export function createAzureRuntime(
  config: Config,
  credential: TokenCredential = new DefaultAzureCredential(),
): Runtime {
  const azure = config.azure as AzureConfig;
  const serviceBus = azure.serviceBus.fullyQualifiedNamespace
    ? new ServiceBusClient(azure.serviceBus.fullyQualifiedNamespace, credential)
    : new ServiceBusClient(azure.serviceBus.connectionString as string);
  const sessionQueues = new Set(azure.ordering ? [config.mainStream] : []);
  const stream = new ServiceBusStream(serviceBus, { sessionQueues });
  const secrets = new CachedSecretStore(
    new KeyVaultSecretStore(new SecretClient(azure.keyVaultUrl, credential), { prefix: azure.secretPrefix }),
    config.secretCacheTtlMs,
  );
  const blobs = azure.archive.accountUrl
    ? new BlobServiceClient(azure.archive.accountUrl, credential)
    : BlobServiceClient.fromConnectionString(azure.archive.connectionString as string);
  const archive = new BlobArchive(blobs.getContainerClient(azure.archive.container));
  const alertSender = serviceBus.createSender(azure.alertTopic);
  const assembly = new PipelineAssembly(config);
  const status = new ServiceBusStatus(serviceBus, STATUS_COUNT_CAP);
  const backends = (log: Logger): Backends => ({
    stream,
    secrets,
    archive,
    alerts: new ServiceBusAlerts(alertSender, log),
  });

  return {
    mainStream: config.mainStream,
    dispatch: (log) => assembly.dispatchDeps(backends(log), log),
    api: (log) =>
      assembly.api(
        backends(log),
        async () => ({
          queues: await status.depths([config.mainStream, ...assembly.routing.streams()], sessionQueues),
          countCap: STATUS_COUNT_CAP,
        }),
        log,
      ),
    close: async () => {
      await stream.close();
      await alertSender.close();
      await serviceBus.close();
      assembly.close();
    },
  };
}
