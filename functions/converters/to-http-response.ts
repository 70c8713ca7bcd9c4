import type { HttpResponseInit } from '@azure/functions';
import type { ApiResponse } from '../../shared/api/http-api';

export function toHttpResponse(response: ApiResponse): HttpResponseInit {
  return {
    status: response.status,
    ...(response.body === undefined ? {} : { jsonBody: response.body }),
    ...(response.headers ? { headers: response.headers } : {}),
  };
}
