import {
  connectionSchema,
  decodeConnection,
  encodeConnection,
  publicConnection,
  STORED_CONNECTION_PREFIX,
  type Connection,
} from '../../shared/contract/connection';
import { describeIssues } from '../../shared/contract/problems';

const ORIGIN = 'https://api.example';
const HEADER_AUTH = { type: 'header', name: 'X-Api-Key', value: 'key-123' };
const OAUTH = {
  type: 'oauth2-client-credentials',
  tokenUrl: 'https://login.example/token',
  clientId: 'app',
  clientSecret: 'secret',
};
const whsec = (bytes: number) => `whsec_${Buffer.alloc(bytes, 1).toString('base64')}`;

function problems(body: Record<string, unknown>): string[] {
  const parsed = connectionSchema.safeParse({ origin: ORIGIN, auth: HEADER_AUTH, ...body });
  return parsed.success ? [] : describeIssues(parsed.error.issues);
}

describe('the connection contract', () => {
  it('accepts an origin with a port and writes it as URL.origin does', () => {
    const parsed = connectionSchema.parse({ origin: 'HTTPS://API.example:8443', auth: HEADER_AUTH });
    expect(parsed.origin).toBe('https://api.example:8443');
  });

  it.each([
    'https://api.example/v1',
    'https://user@api.example',
    'xhttps://api.example',
    'https://[zz]',
    'api.example',
  ])('refuses the origin "%s"', (origin) => {
    expect(problems({ origin })).toEqual([
      'origin: must be scheme://host[:port] with no path, e.g. https://api.example.com',
    ]);
  });

  it.each([
    'https://user:pw@login.example/token',
    'https://user@login.example/token',
    'ftp://login.example/token',
    'token',
  ])('refuses the token URL "%s"', (tokenUrl) => {
    expect(problems({ auth: { ...OAUTH, tokenUrl } })).toEqual([
      'auth.tokenUrl: must be an absolute http(s) URL without user info',
    ]);
  });

  it.each([
    'Host',
    'content-length',
    'transfer-encoding',
    'connection',
    'Idempotency-Key',
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
  ])('refuses to set the %s header', (name) => {
    expect(problems({ auth: { ...HEADER_AUTH, name } })).toEqual([
      'auth.name: must not be one of host, content-length, transfer-encoding, connection, idempotency-key, webhook-id, webhook-timestamp, webhook-signature',
    ]);
  });

  it('names what is wrong with a header or a client credential', () => {
    expect(problems({ auth: { ...HEADER_AUTH, name: 'x api' } })).toEqual([
      'auth.name: must be a valid HTTP header name',
    ]);
    expect(problems({ auth: { ...HEADER_AUTH, value: 'a\r\nb' } })).toEqual([
      'auth.value: must not contain CR, LF or NUL',
    ]);
    expect(problems({ auth: { ...HEADER_AUTH, value: '' } })).toEqual(['auth.value: must not be empty']);
    expect(problems({ auth: { ...OAUTH, clientId: 'c'.repeat(1025) } })).toEqual([
      'auth.clientId: must be at most 1024 characters',
    ]);
    expect(problems({ auth: { type: 'basic' } })).toEqual([
      'auth.type: type must be "oauth2-client-credentials" or "header"',
    ]);
  });

  it('takes a Standard Webhooks secret of 24 to 64 bytes only', () => {
    const signing = (secret: string) => ({ signing: { scheme: 'standard-webhooks', secret } });
    expect(problems(signing(whsec(24)))).toEqual([]);
    expect(problems(signing(whsec(64)))).toEqual([]);
    const size = 'signing.secret: must encode 24 to 64 bytes (Standard Webhooks)';
    expect(problems(signing(whsec(23)))).toEqual([size]);
    expect(problems(signing(whsec(65)))).toEqual([size]);
    const form = 'signing.secret: must be "whsec_" followed by base64';
    expect(problems(signing(`x${whsec(32)}`))).toEqual([form]);
    expect(problems(signing(`${whsec(32)}!`))).toEqual([form]);
  });

  it('decodes what it encoded, bound to the origin it is read with, and nothing else', () => {
    const connection = connectionSchema.parse({ origin: ORIGIN, auth: OAUTH }) as Connection;
    const stored = encodeConnection(connection);
    expect(stored.startsWith(STORED_CONNECTION_PREFIX)).toBe(true);
    expect(stored).not.toContain(ORIGIN);
    expect(decodeConnection(stored, 'https://other.example')).toEqual({
      ...connection,
      origin: 'https://other.example',
    });

    const samePayloadWithoutPrefix =
      'x'.repeat(STORED_CONNECTION_PREFIX.length) + stored.slice(STORED_CONNECTION_PREFIX.length);
    expect(decodeConnection(samePayloadWithoutPrefix, ORIGIN)).toBeUndefined();
    expect(decodeConnection(`${STORED_CONNECTION_PREFIX}{"auth":{}}`, ORIGIN)).toBeUndefined();
  });

  it('shows a connection without its secrets', () => {
    const oauth = connectionSchema.parse({ origin: ORIGIN, auth: { ...OAUTH, scope: 'orders' } });
    expect(publicConnection('crm', oauth)).toEqual({
      name: 'crm',
      origin: ORIGIN,
      auth: { type: OAUTH.type, tokenUrl: OAUTH.tokenUrl, clientId: 'app', scope: 'orders' },
    });
    const signed = connectionSchema.parse({
      origin: ORIGIN,
      auth: HEADER_AUTH,
      signing: { scheme: 'standard-webhooks', secret: whsec(32) },
    });
    expect(publicConnection('hook', signed)).toEqual({
      name: 'hook',
      origin: ORIGIN,
      auth: { type: 'header', name: 'X-Api-Key' },
      signing: { scheme: 'standard-webhooks' },
    });
    const withoutScope = connectionSchema.parse({ origin: ORIGIN, auth: OAUTH });
    expect(publicConnection('crm', withoutScope).auth).not.toHaveProperty('scope');
  });
});
