import type { HttpRequest } from '@azure/functions';
import type { ApiRequest } from '../../shared/api/http-api';

/** The Functions request as the host-independent API sees it. */
export async function fromHttpRequest(request: HttpRequest): Promise<ApiRequest> {
  const body = Buffer.from(await request.arrayBuffer());
  return { header: (name) => request.headers.get(name) ?? undefined, body };
}
