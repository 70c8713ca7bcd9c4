import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServerOptions {
  clientId: string;
  clientSecret: string;
  /** `expires_in` of the tokens it issues, in seconds. */
  expiresInS: number;
  /** Refuse HTTP Basic with 401 invalid_client: the client secret must come in the body. */
  bodyOnly?: boolean;
}

/**
 * A real OAuth2 client-credentials token server on 127.0.0.1, port 0: checks the client (HTTP Basic,
 * or the form body), issues random tokens that expire after `expiresInS`, counts token requests,
 * and can rotate (every token issued so far becomes invalid) or break (answers 500).
 * `isValid` is what a target asks about a bearer token.
 */
export class TokenServer {
  url = '';
  /** Token requests received, refused ones included. */
  requests = 0;
  /** Bodies and Authorization headers of the token requests. */
  readonly received: Array<{ authorization?: string; body: string }> = [];
  broken = false;
  private readonly valid = new Map<string, number>();
  private counter = 0;
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  constructor(private readonly options: TokenServerOptions) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/oauth/token`;
    return this;
  }

  /** Every token issued so far stops working (the target answers 401 to it). */
  rotate(): void {
    this.valid.clear();
  }

  isValid(authorization: string | undefined): boolean {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    const expiresAt = token === undefined ? undefined : this.valid.get(token);
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.requests += 1;
      this.received.push({ authorization: req.headers.authorization, body });
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (this.broken) return answer(500, { error: 'server_error', error_description: 'token service down' });
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials')
        return answer(400, { error: 'unsupported_grant_type' });
      if (!this.clientAccepted(req.headers.authorization, form))
        return answer(401, { error: 'invalid_client' });
      this.counter += 1;
      const token = `tok-${this.counter}-${Math.random().toString(36).slice(2)}`;
      this.valid.set(token, Date.now() + this.options.expiresInS * 1000);
      answer(200, { access_token: token, token_type: 'Bearer', expires_in: this.options.expiresInS });
    });
  }

  private clientAccepted(authorization: string | undefined, form: URLSearchParams): boolean {
    const { clientId, clientSecret } = this.options;
    if (authorization?.startsWith('Basic ')) {
      if (this.options.bodyOnly) return false;
      const [id, secret] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
      return decodeURIComponent(id ?? '') === clientId && decodeURIComponent(secret ?? '') === clientSecret;
    }
    return form.get('client_id') === clientId && form.get('client_secret') === clientSecret;
  }
}
