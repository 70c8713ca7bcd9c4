import type { OAuth2Auth } from '../contract/connection';
import { CredentialError, isTargetError } from './errors';
import type { Target, TargetResponse } from './ports';
import { redact } from './redact';

export interface AccessToken {
  value: string;
  /** When to fetch a new one (ms since epoch); undefined: the server gave no `expires_in`, keep it until a 401. */
  refreshAt?: number;
}

/** Token answers are read whole (Entra ID tokens alone pass 2 KB); larger ones are not token answers. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** A token is replaced this long before it expires (a tenth of its life for short-lived ones). */
const MAX_REFRESH_MARGIN_MS = 60_000;
const DETAIL_CHARS = 300;

interface Entry {
  /** The stored connection the token was fetched for: a changed connection (new secret, new URL) starts over. */
  fingerprint: string;
  token?: AccessToken;
  pending?: Promise<AccessToken>;
  /** The server refused HTTP Basic: the client secret goes in the form body. */
  secretInBody: boolean;
}

/**
 * OAuth2 client-credentials tokens, one per connection, shared by every delivery: cached until
 * shortly before `expires_in`, fetched once however many deliveries ask at the same time, through
 * the same `Target` (address policy, SSRF guard, deadline) as the deliveries themselves. The client
 * authenticates with HTTP Basic (RFC 6749 §2.3.1); a server that refuses it (401, or 400
 * `invalid_client`) is asked again with the secret in the body, and that is remembered.
 */
export class OAuthTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly target: Target,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A token for connection `name`. `refused` is a token the target answered 401 to: a different
   * cached one (another delivery already refreshed) is returned, else a new one is fetched.
   */
  async token(name: string, auth: OAuth2Auth, fingerprint: string, refused?: string): Promise<AccessToken> {
    let entry = this.entries.get(name);
    if (!entry || entry.fingerprint !== fingerprint) {
      entry = { fingerprint, secretInBody: false };
      this.entries.set(name, entry);
    }
    const cached = entry.token;
    if (
      cached &&
      cached.value !== refused &&
      (cached.refreshAt === undefined || cached.refreshAt > this.now())
    )
      return cached;
    const current = entry;
    current.pending ??= this.fetch(auth, current)
      .then((token) => (current.token = token))
      .finally(() => (current.pending = undefined));
    return current.pending;
  }

  private async fetch(auth: OAuth2Auth, entry: Entry): Promise<AccessToken> {
    if (!entry.secretInBody) {
      const response = await this.post(auth, false);
      if (!refusesBasic(response)) return this.parse(auth, response);
      entry.secretInBody = true;
    }
    return this.parse(auth, await this.post(auth, true));
  }

  private async post(auth: OAuth2Auth, secretInBody: boolean): Promise<TargetResponse> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope !== undefined) form.set('scope', auth.scope);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (secretInBody) {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    } else {
      headers['authorization'] = basic(auth);
    }
    try {
      return await this.target.call({
        method: 'POST',
        url: auth.tokenUrl,
        headers,
        body: form.toString(),
        maxResponseBytes: MAX_TOKEN_RESPONSE_BYTES,
      });
    } catch (error) {
      if (!isTargetError(error)) throw error;
      throw unavailable(auth, `${error.reason}: ${error.message}`);
    }
  }

  private parse(auth: OAuth2Auth, response: TargetResponse): AccessToken {
    if (response.status < 200 || response.status >= 300) {
      throw unavailable(auth, `answered ${response.status}: ${response.bodyExcerpt.slice(0, DETAIL_CHARS)}`);
    }
    let body: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(response.bodyExcerpt) as typeof body;
    } catch {
      throw unavailable(auth, `answered ${response.status} with a body that is not JSON`);
    }
    const value = body.access_token;
    if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value))
      throw unavailable(auth, 'answered without a usable access_token');
    const type = body.token_type === undefined ? 'bearer' : String(body.token_type);
    if (type.toLowerCase() !== 'bearer')
      throw unavailable(auth, `answered token_type "${type}"; only Bearer tokens are supported`);
    const seconds = Number(body.expires_in);
    if (body.expires_in === undefined || !Number.isFinite(seconds) || seconds <= 0) return { value };
    const lifeMs = seconds * 1000;
    return { value, refreshAt: this.now() + lifeMs - Math.min(MAX_REFRESH_MARGIN_MS, lifeMs / 10) };
  }
}

function formEncoded(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function basic(auth: OAuth2Auth): string {
  const pair = `${formEncoded(auth.clientId)}:${formEncoded(auth.clientSecret)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

function refusesBasic(response: TargetResponse): boolean {
  if (response.status === 401) return true;
  if (response.status !== 400) return false;
  try {
    return (JSON.parse(response.bodyExcerpt) as { error?: unknown }).error === 'invalid_client';
  } catch {
    return false;
  }
}

/** The endpoint's answer, with the client secret removed in every form it was sent in. */
function unavailable(auth: OAuth2Auth, detail: string): CredentialError {
  const secrets = [auth.clientSecret, formEncoded(auth.clientSecret), basic(auth)];
  return new CredentialError(
    'tokenUnavailable',
    redact(`token endpoint ${new URL(auth.tokenUrl).origin}: ${detail}`, secrets),
  );
}
