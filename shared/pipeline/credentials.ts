import {
  decodeConnection,
  HEADER,
  isStoredConnection,
  type Connection,
  type Signing,
} from '../contract/connection';
import type { Envelope } from '../contract/envelope';
import { CredentialError, isTargetError, TargetError } from './errors';
import type { OAuthTokens } from './oauth-tokens';
import type { StoredSecret, Target, TargetRequest, TargetResponse } from './ports';
import { redact } from './redact';
import { buildTargetRequest } from './target-request';
import { signatureHeaders } from './webhook-signature';

/** The secret a message names, as read from the secret store (already checked against its origin). */
export interface NamedSecret {
  name: string;
  secret: StoredSecret;
}

/**
 * Sends a message with what its stored secret gives: a plain credential becomes the Authorization
 * header (as stored at ingest); a connection adds its header, or an OAuth2 token (refreshed once
 * when the target answers 401), and Standard Webhooks signature headers when it signs. What comes
 * back (the response excerpt, an error's message) has every secret and token redacted. Throws
 * `TargetError` (no answer) or `CredentialError` (no token).
 */
export class Credentials {
  /** The last decoded connection per name: decoding (JSON and schema) stays off the per-message path. */
  private readonly decoded = new Map<string, { value: string; connection: Connection | undefined }>();

  constructor(
    private readonly tokens: OAuthTokens,
    private readonly now: () => number = Date.now,
  ) {}

  async send(target: Target, envelope: Envelope, named: NamedSecret | undefined): Promise<TargetResponse> {
    const request = buildTargetRequest(envelope);
    if (!named) return target.call(request);
    const value = named.secret.value;
    if (!isStoredConnection(value)) {
      request.headers['authorization'] = value;
      return redacted(target, request, [value]);
    }
    const connection = this.connection(named);
    const secrets = secretsOf(connection);
    const { auth, signing } = connection;
    if (auth.type === HEADER) {
      request.headers[auth.name.toLowerCase()] = auth.value;
      return redacted(target, this.signed(request, envelope.id, signing), secrets);
    }
    const withToken = (token: string) => {
      request.headers['authorization'] = `Bearer ${token}`;
      return this.signed(request, envelope.id, signing);
    };
    const token = await this.tokens.token(named.name, auth, value);
    const response = await redacted(target, withToken(token.value), [...secrets, token.value]);
    if (response.status !== 401) return response;
    const renewed = await this.tokens.token(named.name, auth, value, token.value);
    return redacted(target, withToken(renewed.value), [...secrets, token.value, renewed.value]);
  }

  private connection(named: NamedSecret): Connection {
    const { name, secret } = named;
    let entry = this.decoded.get(name);
    if (entry?.value !== secret.value) {
      entry = { value: secret.value, connection: decodeConnection(secret.value, secret.origin) };
      this.decoded.set(name, entry);
    }
    if (!entry.connection)
      throw new CredentialError(
        'missingSecret',
        `connection "${name}" is stored in a form that cannot be read`,
      );
    return entry.connection;
  }

  private signed(request: TargetRequest, id: string, signing: Signing | undefined): TargetRequest {
    if (signing)
      Object.assign(request.headers, signatureHeaders(signing, id, request.body ?? '', this.now()));
    return request;
  }
}

function secretsOf(connection: Connection): string[] {
  const { auth, signing } = connection;
  return [auth.type === HEADER ? auth.value : auth.clientSecret, ...(signing ? [signing.secret] : [])];
}

async function redacted(target: Target, request: TargetRequest, secrets: string[]): Promise<TargetResponse> {
  try {
    const response = await target.call(request);
    return { ...response, bodyExcerpt: redact(response.bodyExcerpt, secrets) };
  } catch (error) {
    if (!isTargetError(error)) throw error;
    throw new TargetError(error.reason, redact(error.message, secrets));
  }
}
