import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { ApiRequest, ApiResponse, HttpApi } from '../api/http-api';
import type { Logger } from '../pipeline/ports';
import type { EchoTarget } from '../api/echo';
import type { Page, PageRoute } from './operator-routes';

type Route = (api: HttpApi, request: ApiRequest, param: string) => Promise<ApiResponse>;

/** The routes the Functions host serves, on the same `/api/...` paths. */
const ROUTES: Record<string, Record<string, Route>> = {
  '/api/stream/sync': { POST: (api, request) => api.sync(request) },
  '/api/stream/retry': { POST: (api, request) => api.retry(request) },
  '/api/stream/status': { GET: (api, request) => api.status(request) },
  '/api/messages/{id}': { GET: (api, request, id) => api.message(request, id) },
  '/api/keys': { GET: (api, request) => api.keys(request) },
  '/api/keys/release': { POST: (api, request) => api.release(request) },
  '/api/keys/skip': { POST: (api, request) => api.skip(request) },
  '/api/targets': { GET: (api, request) => api.targets(request) },
  '/api/targets/pause': { POST: (api, request) => api.pauseTarget(request, true) },
  '/api/targets/resume': { POST: (api, request) => api.pauseTarget(request, false) },
  '/api/connections/{name}': {
    PUT: (api, request, name) => api.putConnection(request, name),
    GET: (api, request, name) => api.getConnection(request, name),
    DELETE: (api, request, name) => api.deleteConnection(request, name),
  },
};

/** Routes with one path parameter: its pattern and the table entry. */
const PARAM_ROUTES: Array<[RegExp, string]> = [
  [/^\/api\/messages\/([^/]+)$/, '/api/messages/{id}'],
  [/^\/api\/connections\/([^/]+)$/, '/api/connections/{name}'],
];

/** The route's table entry and its path parameter (`/api/messages/{id}`). */
function match(path: string): { methods?: Record<string, Route>; param: string } {
  for (const [pattern, route] of PARAM_ROUTES) {
    const found = pattern.exec(path);
    if (found) return { methods: ROUTES[route], param: found[1] as string };
  }
  return { methods: ROUTES[path], param: '' };
}

/** A whole request, body included, must arrive within this; then node:http answers 408. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface LocalServerOptions {
  /** Serves `/api/echo`, the smoke test's target (DATASYNC_ECHO_ENABLED). */
  echo?: EchoTarget;
  maxBodyBytes: number;
  /** Request body bytes held in memory across all connections; beyond it new bodies get 503. */
  maxBufferedBytes: number;
  /** Host header values served besides loopback names and addresses. */
  allowedHosts: string[];
}

/**
 * Serves the HTTP API on node:http for this machine only. Whatever a client sends or however it
 * hangs up, the answer is an HTTP status and a log line, never an exception out of the handler.
 * Everything that can be refused from the headers (Host, key, content type, declared length) is
 * refused before a body byte is read, and bodies in memory are capped across all connections.
 */
export class LocalServer {
  private readonly server: http.Server;
  private buffered = 0;

  constructor(
    private readonly api: HttpApi,
    private readonly options: LocalServerOptions,
    private readonly log: Logger,
    /** Non-JSON GET routes of the local host (the console, metrics). */
    private readonly pages: Record<string, PageRoute> = {},
  ) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = http.createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, handler);
    // Without this listener node:http sends "100 Continue" before the key or the length was checked.
    this.server.on('checkContinue', handler);
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
      this.clientError(error, socket),
    );
    this.server.keepAliveTimeout = 5000;
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops accepting connections and waits for requests in progress. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      await this.route(req, res, path);
    } catch (error) {
      if (req.destroyed && !req.complete) {
        this.log.warn('http.client_gone', { method: req.method, path, error: String(error) });
        return;
      }
      this.log.error('request.failed', { method: req.method, path, error: String(error) });
      send(res, { status: 500, body: { error: 'internal error' } });
    }
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    if (!isServedHost(req.headers.host, this.options.allowedHosts)) {
      return this.refuse(req, res, path, {
        status: 403,
        body: {
          error: `Host "${req.headers.host ?? ''}" is not served: only loopback names and addresses and DATASYNC_ALLOWED_HOSTS are`,
        },
      });
    }
    const page = req.method === 'GET' ? this.pages[path] : undefined;
    if (page) return this.servePage(req, res, page);
    if (path === '/api/echo' && this.options.echo) {
      req.resume();
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const key = req.headers['idempotency-key'];
      const status = this.options.echo.answer(query.get('status'), typeof key === 'string' ? key : undefined);
      return send(res, { status, body: { echo: status } });
    }
    const { methods, param } = match(path);
    const route = methods?.[req.method ?? ''];
    if (!methods) return send(res, { status: 404, body: { error: `no route ${path}` } });
    if (!route) {
      res.setHeader('Allow', Object.keys(methods).join(', '));
      return send(res, { status: 405, body: { error: `${req.method} is not allowed on ${path}` } });
    }
    const header = (name: string) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    let body: Buffer = Buffer.alloc(0);
    if (req.method === 'POST' || req.method === 'PUT') {
      const refused = this.api.refuseBeforeBody(header);
      if (refused) return this.refuse(req, res, path, refused);
      if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
      const read = await this.readBody(req, res);
      if (!Buffer.isBuffer(read)) return this.refuse(req, res, path, read);
      body = read;
    }
    send(res, await route(this.api, { header, body }, param));
  }

  private async servePage(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    page: PageRoute,
  ): Promise<void> {
    try {
      sendPage(res, await page((name) => req.headers[name.toLowerCase()]?.toString()));
    } catch (error) {
      this.log.error('request.failed', { path: req.url, error: String(error) });
      send(res, { status: 500, body: { error: 'internal error' } });
    }
  }
  /** Answers without reading (the rest of) the body, and closes the connection so it is not read later. */
  private refuse(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    response: ApiResponse,
  ): void {
    this.log.warn('http.refused', {
      method: req.method,
      path,
      status: response.status,
      error: (response.body as { error?: string }).error,
    });
    res.setHeader('Connection', 'close');
    send(res, response);
  }

  /**
   * The body, or the answer that refuses it: 413 past the per-request limit, 503 when the bodies
   * already in memory would pass the shared cap. The bytes stay reserved until the answer is sent.
   */
  private readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer | ApiResponse> {
    const { maxBodyBytes, maxBufferedBytes } = this.options;
    let reserved = 0;
    res.once('close', () => {
      this.buffered -= reserved;
      reserved = 0;
    });
    const reserve = (bytes: number) => {
      if (bytes <= reserved) return true;
      if (this.buffered + bytes - reserved > maxBufferedBytes) return false;
      this.buffered += bytes - reserved;
      reserved = bytes;
      return true;
    };
    const busy: ApiResponse = {
      status: 503,
      body: { error: `the server is receiving ${maxBufferedBytes} bytes of other bodies; try again` },
    };
    const tooLarge: ApiResponse = {
      status: 413,
      body: { error: `body is over the limit of ${maxBodyBytes} bytes` },
    };
    if (!reserve(Number(req.headers['content-length']) || 0)) return Promise.resolve(busy);

    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const stop = (answer: ApiResponse) => {
        req.off('data', onData);
        req.resume();
        resolve(answer);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) return stop(tooLarge);
        if (!reserve(size)) return stop(busy);
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.once('end', () => resolve(Buffer.concat(chunks, size)));
      req.on('error', reject);
      req.once('close', () => {
        if (!req.complete) reject(new Error('the client closed the connection before the body was complete'));
      });
    });
  }

  /** A request node:http could not parse or that timed out: answered and logged, the socket closed. */
  private clientError(error: NodeJS.ErrnoException, socket: Socket): void {
    this.log.warn('http.client_error', { code: error.code, error: error.message });
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const text = JSON.stringify({ error: `${http.STATUS_CODES[status]}: ${error.code ?? error.message}` });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
}

/**
 * Loopback names and addresses, plus the configured ones. A page on another site that rebinds its
 * own name to 127.0.0.1 still sends its name in Host, so it is refused (DNS rebinding).
 */
export function isServedHost(hostHeader: string | undefined, allowedHosts: string[]): boolean {
  if (!hostHeader) return false;
  const value = hostHeader.toLowerCase();
  const host = value.startsWith('[') ? value.slice(1, value.indexOf(']')) : (value.split(':')[0] ?? '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback') return true;
  return allowedHosts.includes(host) || allowedHosts.includes(value);
}

function send(res: http.ServerResponse, response: ApiResponse): void {
  if (res.headersSent || res.destroyed) return;
  if (response.body === undefined) {
    res.writeHead(response.status, { ...response.headers, 'content-length': 0 });
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  res.writeHead(response.status, {
    ...response.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendPage(res: http.ServerResponse, page: Page): void {
  res.writeHead(page.status, {
    ...page.headers,
    'content-type': page.contentType,
    'content-length': Buffer.byteLength(page.body),
  });
  res.end(page.body);
}
