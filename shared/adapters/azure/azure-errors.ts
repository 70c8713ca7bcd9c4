import { isRestError } from '@azure/core-rest-pipeline';
import { AuthenticationError, CredentialUnavailableError } from '@azure/identity';
import { isServiceBusError, type ServiceBusError } from '@azure/service-bus';
import { messageOf, StorageError, type StorageErrorCode } from '../../pipeline/errors';

/** The service's HTTP status on a failed REST call (Tables, Blobs, Key Vault); undefined for anything else. */
export function restStatus(error: unknown): number | undefined {
  return isRestError(error) ? error.statusCode : undefined;
}

/** The service's error code on a failed REST call (e.g. `BlobAlreadyExists`). */
export function restCode(error: unknown): string | undefined {
  return isRestError(error) ? error.code : undefined;
}

export function isServiceBusCode(error: unknown, code: ServiceBusError['code']): boolean {
  return isServiceBusError(error) && error.code === code;
}

/** The one translation of Azure SDK errors (REST and Service Bus) into the pipeline's storage codes. */
export function azureStorageError(doing: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(codeOf(error), `could not ${doing}: ${messageOf(error)}`, { cause: error });
}

function codeOf(error: unknown): StorageErrorCode {
  // No credential in this environment, or Entra ID refused it: the app's identity is not set up.
  if (error instanceof CredentialUnavailableError) return 'denied';
  if (error instanceof AuthenticationError) return error.statusCode >= 500 ? 'unavailable' : 'denied';
  if (isServiceBusError(error)) return SERVICE_BUS_CODES[error.code] ?? 'unavailable';
  const status = restStatus(error);
  if (status === 429 || status === 503) return 'throttled';
  if (status === 401 || status === 403) return 'denied';
  if (status === 404) return 'missing';
  if (status === 413) return 'tooLarge';
  return 'unavailable';
}

const SERVICE_BUS_CODES: Partial<Record<ServiceBusError['code'], StorageErrorCode>> = {
  ServiceBusy: 'throttled',
  QuotaExceeded: 'full',
  MessageSizeExceeded: 'tooLarge',
  MessagingEntityNotFound: 'missing',
  MessagingEntityDisabled: 'missing',
  UnauthorizedAccess: 'denied',
};
