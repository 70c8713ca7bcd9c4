import type { Envelope } from '../../shared/contract/envelope';
import type { StreamMessage, SyncRequest } from '../../shared/contract/sync-request';

/** The reference pattern's sync payload, pointed at `target`. */
export function syncRequest(
  target: string,
  overrides: Partial<StreamMessage> = {},
  streamKey = 'key1',
): SyncRequest {
  return {
    streamKey,
    streamMessage: {
      vaultSecretName: '789',
      targetRestApi: target,
      targetRestApiOperation: 'POST',
      targetRestApiPayload: { orderid: '18jan', PO: '18jan' },
      targetRestApiHeaders: [{ key: 'Content-Type', value: 'application/json' }],
      ...overrides,
    },
  };
}

let counter = 0;

export function envelope(target: string, overrides: Partial<Envelope> = {}): Envelope {
  counter += 1;
  return {
    id: `msg-${counter}`,
    streamKey: '',
    attempt: 0,
    streamMessage: {
      targetRestApi: target,
      targetRestApiOperation: 'POST',
      targetRestApiPayload: { n: counter },
    },
    ...overrides,
  };
}

/** The reference pattern's retry payload with this product's default error streams. */
export function retryRequest(stream: string, overrides: Record<string, unknown> = {}) {
  return {
    streamOCIDToRetry: stream,
    noOfMessagesToProcess: 5,
    readAfterOffset: -1,
    readPartition: '0',
    errormapping: [
      { responsecode: '404', stream: 'datasync-error-404' },
      { responsecode: '503', stream: 'datasync-error-503' },
      { responsecode: 'unexpectedError', stream: 'datasync-error-unexpected' },
    ],
    ...overrides,
  };
}

/** A sync request without a key (unordered) and without a credential. */
export const keyless = (url: string) => ({
  streamKey: '',
  streamMessage: { targetRestApi: url, targetRestApiOperation: 'POST' as const, targetRestApiPayload: {} },
});
