import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { BlobArchive } from '../shared/adapters/azure/blob-archive';
import { KeyVaultSecretStore } from '../shared/adapters/azure/key-vault-secret-store';
import { ServiceBusAlerts } from '../shared/adapters/azure/service-bus-alerts';
import { ServiceBusStatus } from '../shared/adapters/azure/service-bus-status';
import { ServiceBusStream } from '../shared/adapters/azure/service-bus-stream';
import { HttpTarget } from '../shared/adapters/http/http-target';
import { HttpApi } from '../shared/api/http-api';
import type { AzureConfig, Config } from '../shared/config/config';
import { BulkheadTarget } from '../shared/pipeline/bulkhead';
import type { DispatchDeps } from '../shared/pipeline/dispatch';
import { ErrorRouting } from '../shared/pipeline/error-routing';
import type { Logger } from '../shared/pipeline/ports';
import { CachedSecretStore } from '../shared/pipeline/secret-cache';
import { TargetPolicy } from '../shared/pipeline/target-policy';
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
  const policy = new TargetPolicy(config.targets);
  const httpTarget = new HttpTarget({
    timeoutMs: config.dispatch.timeoutMs,
    policy,
    maxSocketsPerHost: config.dispatch.perHostConcurrency,
  });
  const target = new BulkheadTarget(
    httpTarget,
    config.dispatch.concurrency,
    config.dispatch.perHostConcurrency,
  );
  const routing = new ErrorRouting(config.errorMapping);
  const status = new ServiceBusStatus(serviceBus, STATUS_COUNT_CAP);

  const dispatch = (log: Logger): DispatchDeps => ({
    stream,
    secrets,
    archive,
    alerts: new ServiceBusAlerts(alertSender, log),
    target,
    routing,
    retry: config.retry,
    maxAttempts: config.dispatch.maxAttempts,
    log,
  });

  return {
    mainStream: config.mainStream,
    dispatch,
    close: async () => {
      await stream.close();
      await alertSender.close();
      await serviceBus.close();
      httpTarget.close();
    },
    api: (log) =>
      new HttpApi({
        populate: {
          stream,
          secrets,
          mainStream: config.mainStream,
          limits: config.limits,
          targetPolicy: policy,
          log,
        },
        dispatch: dispatch(log),
        status: async () => ({
          queues: await status.depths([config.mainStream, ...routing.streams()], sessionQueues),
          countCap: STATUS_COUNT_CAP,
        }),
        maxBodyBytes: config.limits.maxBodyBytes,
        apiKey: config.apiKey,
        log,
      }),
  };
}
