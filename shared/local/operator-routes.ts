import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiKeyAccepted } from '../api/api-key';
import type { PrometheusMetrics } from '../metrics/prometheus-metrics';

/** A GET answer that is not JSON: a console file or the metrics text. */
export interface Page {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export type PageRoute = (header: (name: string) => string | undefined) => Promise<Page>;

const CONSOLE_DIR = join(__dirname, '..', 'console');

/** The page only talks to this host; no inline script, no framing. */
const CONSOLE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function consoleFile(name: string, contentType: string): PageRoute {
  const body = readFileSync(join(CONSOLE_DIR, name), 'utf8');
  return async () => ({ status: 200, contentType, body, headers: CONSOLE_HEADERS });
}

/**
 * The operators' pages of the local host: the console (static files; the API key is pasted by the
 * operator, never embedded) and `GET /api/metrics`, which needs the API key like the other endpoints.
 */
export function operatorRoutes(
  metrics: PrometheusMetrics,
  apiKey: string | undefined,
): Record<string, PageRoute> {
  return {
    '/console': consoleFile('index.html', 'text/html; charset=utf-8'),
    '/console/console.js': consoleFile('console.js', 'text/javascript; charset=utf-8'),
    '/console/console.css': consoleFile('console.css', 'text/css; charset=utf-8'),
    '/api/metrics': async (header) =>
      apiKeyAccepted(apiKey, header('x-functions-key'))
        ? { status: 200, contentType: metrics.contentType, body: await metrics.scrape() }
        : {
            status: 401,
            contentType: 'application/json; charset=utf-8',
            body: JSON.stringify({
              error: 'missing or wrong API key: send it in the x-functions-key header',
            }),
          },
  };
}
