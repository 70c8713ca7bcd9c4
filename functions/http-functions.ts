import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import type { ApiRequest, ApiResponse, HttpApi } from '../shared/api/http-api';
import { contextLogger } from './context-logger';
import { fromHttpRequest } from './converters/from-http-request';
import { toHttpResponse } from './converters/to-http-response';
import type { Host } from '../shared/assembly/host';

type Endpoint = (api: HttpApi, request: ApiRequest, raw: HttpRequest) => Promise<ApiResponse>;

function httpFunction(
  host: () => Host,
  methods: HttpFunctionOptions['methods'],
  route: string,
  endpoint: Endpoint,
): HttpFunctionOptions {
  return {
    methods,
    route,
    authLevel: 'function',
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const api = host().api(contextLogger(context));
      return toHttpResponse(await endpoint(api, await fromHttpRequest(request), request));
    },
  };
}

/** `PUT`, `GET` and `DELETE /api/connections/{name}` in one function. */
const connection: Endpoint = (api, request, raw) => {
  const name = raw.params['name'] ?? '';
  if (raw.method === 'PUT') return api.putConnection(request, name);
  if (raw.method === 'DELETE') return api.deleteConnection(request, name);
  return api.getConnection(request, name);
};

export type HttpFunctionName =
  | 'sync'
  | 'retry'
  | 'status'
  | 'message'
  | 'keys'
  | 'releaseKey'
  | 'skipKey'
  | 'connection';

/** Every endpoint of the API (see docs/openapi.yaml); all need a function key. */
export function httpFunctions(host: () => Host): Record<HttpFunctionName, HttpFunctionOptions> {
  return {
    sync: httpFunction(host, ['POST'], 'stream/sync', (api, request) => api.sync(request)),
    retry: httpFunction(host, ['POST'], 'stream/retry', (api, request) => api.retry(request)),
    status: httpFunction(host, ['GET'], 'stream/status', (api, request) => api.status(request)),
    message: httpFunction(host, ['GET'], 'messages/{id}', (api, request, raw) =>
      api.message(request, raw.params['id'] ?? ''),
    ),
    keys: httpFunction(host, ['GET'], 'keys', (api, request) => api.keys(request)),
    releaseKey: httpFunction(host, ['POST'], 'keys/release', (api, request) => api.release(request)),
    skipKey: httpFunction(host, ['POST'], 'keys/skip', (api, request) => api.skip(request)),
    connection: httpFunction(host, ['PUT', 'GET', 'DELETE'], 'connections/{name}', connection),
  };
}
