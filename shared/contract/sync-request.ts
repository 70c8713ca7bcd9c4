import { z } from 'zod';

export const OPERATIONS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Key Vault secret names: 1-127 characters of 0-9, a-z, A-Z and '-'. */
export const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;

/** Headers the product sets itself or that would smuggle a credential past the secret store. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
]);

/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * RFC 9110 field value without obs-text: visible ASCII, space and tab. Non-ASCII is refused because
 * node:http would refuse it when sending (or send Latin-1 bytes the caller did not mean).
 */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

export interface SyncLimits {
  maxHeaders: number;
  maxHeaderBytes: number;
  /** 127 less the prefix the secret store adds. */
  maxSecretName: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = { maxHeaders: 50, maxHeaderBytes: 8192, maxSecretName: 127 };

function httpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export function streamMessageSchema(limits: SyncLimits) {
  const header = z
    .strictObject({
      key: z
        .string()
        .regex(HEADER_NAME, 'must be a valid HTTP header name (an RFC 9110 token)')
        .refine((key) => !RESERVED_HEADERS.has(key.toLowerCase()), {
          message:
            'this header may not be set here; a credential for the target goes in the Authorization header of the sync request and is kept in the secret store',
        }),
      value: z.string().max(limits.maxHeaderBytes, `must be at most ${limits.maxHeaderBytes} characters`),
    })
    .superRefine((header, context) => {
      if (HEADER_VALUE.test(header.value)) return;
      context.addIssue({
        code: 'custom',
        path: ['value'],
        message: `header "${header.key}" must be printable ASCII: no CR, LF, NUL or other control characters, and no non-ASCII characters (percent-encode them, e.g. RFC 8187)`,
      });
    });
  return z.strictObject({
    vaultSecretName: z
      .string()
      .regex(SECRET_NAME, 'must be 1-127 characters of 0-9, A-Z, a-z and -')
      .max(limits.maxSecretName, `must be at most ${limits.maxSecretName} characters`)
      .optional(),
    targetRestApi: z.string().refine(httpUrl, { message: 'must be an absolute http(s) URL' }),
    targetRestApiOperation: z.enum(OPERATIONS, { message: `must be one of ${OPERATIONS.join(', ')}` }),
    targetRestApiPayload: z.unknown().optional(),
    targetRestApiHeaders: z
      .array(header)
      .max(limits.maxHeaders, `must have at most ${limits.maxHeaders} headers`)
      .optional(),
  });
}

function buildSyncRequestSchema(limits: SyncLimits) {
  return z.strictObject({
    streamKey: z.string().max(128, 'must be at most 128 characters').optional(),
    streamMessage: streamMessageSchema(limits),
  });
}

const schemas = new Map<string, ReturnType<typeof buildSyncRequestSchema>>();

/** The schema for these limits, built once (building one costs more than validating a request). */
export function syncRequestSchema(limits: SyncLimits) {
  const key = `${limits.maxHeaders}/${limits.maxHeaderBytes}/${limits.maxSecretName}`;
  let schema = schemas.get(key);
  if (!schema) {
    schema = buildSyncRequestSchema(limits);
    schemas.set(key, schema);
  }
  return schema;
}

export type StreamMessage = z.infer<ReturnType<typeof streamMessageSchema>>;
export type SyncRequest = z.infer<ReturnType<typeof syncRequestSchema>>;

/** The origin (scheme, host, port) a stored credential is bound to. */
export function originOf(url: string): string {
  return new URL(url).origin;
}
