import type { TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';

type HttpClient = NonNullable<SecretClientOptions['httpClient']>;
type PipelineRequest = Parameters<HttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;
type HttpHeaders = PipelineResponse['headers'];

function headers(values: Record<string, string>): HttpHeaders {
  const map = new Map(Object.entries(values).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    get: (name) => map.get(name.toLowerCase()),
    has: (name) => map.has(name.toLowerCase()),
    set: (name, value) => void map.set(name.toLowerCase(), String(value)),
    delete: (name) => void map.delete(name.toLowerCase()),
    toJSON: () => Object.fromEntries(map),
    [Symbol.iterator]: () => map.entries(),
  };
}

/** A credential that hands out a fixed token (the transport below never checks it). */
export const fakeCredential: TokenCredential = {
  getToken: async () => ({ token: 'token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/**
 * Key Vault's HTTP side, one level below the real `SecretClient`: the bearer challenge (401 with
 * `WWW-Authenticate` to a request without a token), `429` with `Retry-After: 0` for the next
 * `throttleNext` authenticated requests, then secrets from a map. Counts authenticated requests.
 */
export class FakeKeyVaultTransport implements HttpClient {
  readonly secrets = new Map<string, string>();
  throttleNext = 0;
  authenticatedRequests = 0;

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const respond = (status: number, body: unknown, extra: Record<string, string> = {}) => ({
      request,
      status,
      headers: headers({ 'content-type': 'application/json', ...extra }),
      bodyAsText: JSON.stringify(body),
    });
    if (!request.headers.get('authorization')) {
      return respond(
        401,
        { error: { code: 'Unauthorized' } },
        {
          'www-authenticate':
            'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"',
        },
      );
    }
    this.authenticatedRequests += 1;
    if (this.throttleNext > 0) {
      this.throttleNext -= 1;
      return respond(
        429,
        { error: { code: 'Throttled', message: 'Too many requests' } },
        { 'retry-after': '0' },
      );
    }
    const name = /\/secrets\/([^/?]+)/.exec(request.url)?.[1] ?? '';
    const value = this.secrets.get(name);
    if (value === undefined) return respond(404, { error: { code: 'SecretNotFound', message: name } });
    return respond(200, {
      value,
      id: `${new URL(request.url).origin}/secrets/${name}/v1`,
      attributes: { enabled: true },
      tags: { 'datasync-origin': 'https://a.example' },
    });
  }
}
