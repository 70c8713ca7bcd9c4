import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiRequest, ApiResponse, HttpApi } from '../api/http-api';
import type { Logger } from '../pipeline/ports';

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

/** Serves the HTTP API on node:http, refusing bodies over the limit while they are still arriving. */
export class LocalServer {
  private readonly server: http.Server;

  constructor(
    private readonly api: HttpApi,
    private readonly maxBodyBytes: number,
    private readonly log: Logger,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
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
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const { methods, param } = match(path);
    const route = methods?.[req.method ?? ''];
    if (!methods) return send(res, { status: 404, body: { error: `no route ${path}` } });
    if (!route) {
      res.setHeader('Allow', Object.keys(methods).join(', '));
      return send(res, { status: 405, body: { error: `${req.method} is not allowed on ${path}` } });
    }
    const body = await readBody(req, this.maxBodyBytes);
    if (body === undefined) {
      res.setHeader('Connection', 'close');
      return send(res, {
        status: 413,
        body: { error: `body is over the limit of ${this.maxBodyBytes} bytes` },
      });
    }
    try {
      const header = (name: string) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : value;
      };
      send(res, await route(this.api, { header, body }, param));
    } catch (error) {
      this.log.error('request.failed', { path, error: String(error) });
      send(res, { status: 500, body: { error: 'internal error' } });
    }
  }
}

/** The body, or undefined once it passes `limit` bytes (the rest is not buffered). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, response: ApiResponse): void {
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
