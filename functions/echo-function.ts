import type { HttpFunctionOptions, HttpRequest } from '@azure/functions';
import { EchoTarget } from '../shared/api/echo';

/**
 * `/api/echo?status=…`: the smoke test's target, registered only with DATASYNC_ECHO_ENABLED=true.
 * Anonymous, because the app calls it as a target without a function key; it answers a status
 * and nothing else. Memory is per instance (see the README).
 */
export function echoFunction(): HttpFunctionOptions {
  const echo = new EchoTarget();
  return {
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    route: 'echo',
    authLevel: 'anonymous',
    handler: async (request: HttpRequest) => {
      const status = echo.answer(
        request.query.get('status'),
        request.headers.get('idempotency-key') ?? undefined,
      );
      return { status, jsonBody: { echo: status } };
    },
  };
}
