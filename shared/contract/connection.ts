import { z } from 'zod';
import { SECRET_NAME } from './sync-request';

/** How a target is authenticated: an OAuth2 client-credentials grant, or a fixed header (API keys). */
export const OAUTH2 = 'oauth2-client-credentials';
export const HEADER = 'header';
export const STANDARD_WEBHOOKS = 'standard-webhooks';

/** Headers a connection may not set: the transport's own and those the product sets per message. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'idempotency-key',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

/** The Standard Webhooks spec: a secret is `whsec_` + base64 of 24 to 64 random bytes. */
const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

function secretBytes(secret: string): number {
  return Buffer.from(secret.slice('whsec_'.length), 'base64').length;
}

/** scheme://host[:port] and nothing else (no path, query, fragment or user). */
function isOrigin(value: string): boolean {
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(value)) return false;
  try {
    return new URL(value).hostname !== '';
  } catch {
    return false;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
    );
  } catch {
    return false;
  }
}

const text = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !/[\r\n\0]/.test(value), { message: 'must not contain CR, LF or NUL' });

const oauth2Schema = z.strictObject({
  type: z.literal(OAUTH2),
  tokenUrl: z.string().refine(isHttpUrl, { message: 'must be an absolute http(s) URL without user info' }),
  clientId: text(1024),
  clientSecret: text(4096),
  scope: text(1024).optional(),
});

const headerSchema = z.strictObject({
  type: z.literal(HEADER),
  name: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'must be a valid HTTP header name')
    .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), {
      message: `must not be one of ${[...RESERVED_HEADERS].join(', ')}`,
    }),
  value: text(8192),
});

const signingSchema = z.strictObject({
  scheme: z.literal(STANDARD_WEBHOOKS),
  secret: z
    .string()
    .regex(WHSEC, 'must be "whsec_" followed by base64')
    .refine((secret) => secretBytes(secret) >= 24 && secretBytes(secret) <= 64, {
      message: 'must encode 24 to 64 bytes (Standard Webhooks)',
    }),
});

const authSchema = z.discriminatedUnion('type', [oauth2Schema, headerSchema], {
  message: `type must be "${OAUTH2}" or "${HEADER}"`,
});

export const connectionSchema = z.strictObject({
  origin: z
    .string()
    .refine(isOrigin, { message: 'must be scheme://host[:port] with no path, e.g. https://api.example.com' })
    .transform((origin) => new URL(origin).origin),
  auth: authSchema,
  signing: signingSchema.optional(),
});

export const connectionNameSchema = z
  .string()
  .regex(SECRET_NAME, 'must be 1-127 characters of 0-9, A-Z, a-z and -');

export type Connection = z.infer<typeof connectionSchema>;
export type ConnectionAuth = Connection['auth'];
export type OAuth2Auth = z.infer<typeof oauth2Schema>;
export type Signing = z.infer<typeof signingSchema>;

/**
 * A connection is kept in the secret store as one secret: this prefix and the connection's JSON,
 * bound to its origin like any stored credential. No Authorization header can start with it (an
 * ingest carrying one is refused), so a stored value is a connection exactly when it starts so.
 */
export const STORED_CONNECTION_PREFIX = 'datasync-connection/1 ';

export function isStoredConnection(value: string): boolean {
  return value.startsWith(STORED_CONNECTION_PREFIX);
}

export function encodeConnection(connection: Connection): string {
  const { auth, signing } = connection;
  return STORED_CONNECTION_PREFIX + JSON.stringify({ auth, ...(signing ? { signing } : {}) });
}

/** The connection a stored value holds; undefined when the value is not one or cannot be read. */
export function decodeConnection(value: string, origin: string): Connection | undefined {
  if (!isStoredConnection(value)) return undefined;
  try {
    const stored = JSON.parse(value.slice(STORED_CONNECTION_PREFIX.length)) as object;
    const parsed = connectionSchema.safeParse({ ...stored, origin });
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** What `GET /api/connections/{name}` answers: everything but the secrets. */
export function publicConnection(name: string, connection: Connection) {
  const { auth, signing } = connection;
  return {
    name,
    origin: connection.origin,
    auth:
      auth.type === OAUTH2
        ? {
            type: auth.type,
            tokenUrl: auth.tokenUrl,
            clientId: auth.clientId,
            ...(auth.scope === undefined ? {} : { scope: auth.scope }),
          }
        : { type: auth.type, name: auth.name },
    ...(signing ? { signing: { scheme: signing.scheme } } : {}),
  };
}
