import { CliError, EXIT } from './exit-codes';

export interface ClientOptions {
  url: string;
  key?: string;
}

/** The datasync HTTP API over Node's global fetch; every failure becomes a `CliError` naming the call. */
export class ApiClient {
  private readonly base: string;

  constructor(private readonly options: ClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.call<T>('POST', path, body, headers);
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<T> {
    const url = `${this.base}/api/${path}`;
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.options.key) headers['x-functions-key'] = this.options.key;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      const reason = (cause as { cause?: { code?: string } }).cause?.code ?? String(cause);
      throw new CliError(
        `cannot reach ${this.base} (${reason}); is the host running? (--url, DATASYNC_URL)`,
        EXIT.callFailed,
        {
          cause,
        },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok)
      throw new CliError(
        `${method} /api/${path}: ${response.status} ${describe(parsed, text)}`,
        EXIT.callFailed,
      );
    return parsed as T;
  }
}

function describe(body: unknown, text: string): string {
  if (typeof body !== 'object' || body === null) return text.slice(0, 200);
  const { error, problems } = body as { error?: unknown; problems?: unknown };
  const lines = Array.isArray(problems) ? problems.map((problem) => `\n  - ${String(problem)}`).join('') : '';
  return `${typeof error === 'string' ? error : JSON.stringify(body)}${lines}`;
}
