import { offsetToJson } from '../contract/offset';
import { apiKeyAccepted } from './api-key';
import { parseRetryRequest } from '../contract/retry-request';
import type { DispatchDeps } from '../pipeline/dispatch';
import { PayloadTooLargeError, StorageError, StreamNotFoundError, ValidationError } from '../pipeline/errors';
import { populate, type PopulateDeps } from '../pipeline/populate';
import type { Logger } from '../pipeline/ports';
import { replay, ReplayInterruptedError, type ReplaySummary } from '../pipeline/replay';

/** An HTTP request as both hosts (Azure Functions, the local server) can describe it. */
export interface ApiRequest {
  header(name: string): string | undefined;
  /** The raw body; hosts refuse bodies over the limit before they get here when they can. */
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface HttpApiDeps {
  populate: PopulateDeps;
  dispatch: DispatchDeps;
  status: () => Promise<unknown>;
  maxBodyBytes: number;
  /** Required in `x-functions-key` when set (local mode; Azure checks its own function keys). */
  apiKey?: string;
  log: Logger;
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** The three endpoints, independent of the host that serves them. */
export class HttpApi {
  constructor(private readonly deps: HttpApiDeps) {}

  async sync(request: ApiRequest): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const appended = await populate(this.deps.populate, {
        body,
        authorization: request.header('authorization'),
        bodyBytes: request.body.length,
      });
      return {
        status: 202,
        body: {
          messages: appended.map((item) => ({
            stream: item.stream,
            id: item.id,
            ...(item.offset === undefined ? {} : { offset: offsetToJson(item.offset) }),
          })),
        },
      };
    });
  }

  async retry(request: ApiRequest): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const parsed = parseRetryRequest(body);
      if (!parsed.ok) throw new ValidationError(parsed.problems);
      return { status: 200, body: summaryToJson(await replay(this.deps.dispatch, parsed.value)) };
    });
  }

  async status(request: ApiRequest): Promise<ApiResponse> {
    const denied = this.authenticate(request);
    if (denied) return denied;
    return { status: 200, body: await this.deps.status() };
  }

  private async guarded(
    request: ApiRequest,
    handle: (body: unknown) => Promise<ApiResponse>,
  ): Promise<ApiResponse> {
    const denied = this.authenticate(request);
    if (denied) return denied;
    const contentType = request.header('content-type');
    if (contentType !== undefined && !JSON_TYPE.test(contentType)) {
      return error(415, `Content-Type must be application/json, got "${contentType}"`);
    }
    if (request.body.length > this.deps.maxBodyBytes) {
      return error(413, `body is ${request.body.length} bytes; the limit is ${this.deps.maxBodyBytes}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch (cause) {
      return error(400, `body is not valid JSON: ${(cause as Error).message}`);
    }
    try {
      return await handle(body);
    } catch (cause) {
      return this.toResponse(cause);
    }
  }

  private authenticate(request: ApiRequest): ApiResponse | undefined {
    if (apiKeyAccepted(this.deps.apiKey, request.header('x-functions-key'))) return undefined;
    return error(401, 'missing or wrong API key: send it in the x-functions-key header');
  }

  private toResponse(cause: unknown): ApiResponse {
    if (cause instanceof ValidationError)
      return { status: 400, body: { error: 'invalid request', problems: cause.problems } };
    if (cause instanceof PayloadTooLargeError)
      return { status: 413, body: { error: 'too large', problems: cause.problems } };
    if (cause instanceof StreamNotFoundError) return error(404, cause.message);
    if (cause instanceof ReplayInterruptedError) {
      this.deps.log.error('replay.failed', { error: String(cause.cause) });
      return { status: 503, body: { error: cause.message, ...summaryToJson(cause.summary) } };
    }
    if (cause instanceof StorageError) {
      this.deps.log.error('storage.failed', { error: cause.message });
      return error(503, `storage unavailable, nothing was accepted: ${cause.message}`);
    }
    this.deps.log.error('request.failed', { error: String(cause) });
    return error(500, 'internal error');
  }
}

function error(status: number, message: string): ApiResponse {
  return { status, body: { error: message } };
}

function summaryToJson(summary: ReplaySummary) {
  return { ...summary, lastReadOffset: offsetToJson(summary.lastReadOffset) };
}
