import { timingSafeEqual } from 'node:crypto';
import { JsonBodyError, parseJsonBody } from '../contract/envelope-codec';
import { offsetToJson } from '../contract/offset';
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

/** Only JSON: a browser cannot send it cross-site without a CORS preflight, which is never granted. */
const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** The three endpoints, independent of the host that serves them. */
export class HttpApi {
  constructor(private readonly deps: HttpApiDeps) {}

  async sync(request: ApiRequest): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const appended = await populate(this.deps.populate, {
        body,
        authorization: request.header('authorization'),
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
    const denied = this.authenticate(request.header);
    if (denied) return denied;
    return { status: 200, body: await this.deps.status() };
  }

  /**
   * What can be refused from the headers alone (key, content type, declared length), so a host can
   * answer before reading the body.
   */
  refuseBeforeBody(header: ApiRequest['header']): ApiResponse | undefined {
    const denied = this.authenticate(header);
    if (denied) return denied;
    const contentType = header('content-type');
    if (contentType === undefined || !JSON_TYPE.test(contentType)) {
      const given = contentType === undefined ? 'none was given' : `got "${contentType}"`;
      return error(415, `Content-Type must be application/json; ${given}`);
    }
    const declared = Number(header('content-length') ?? 0);
    if (declared > this.deps.maxBodyBytes) {
      return error(413, `body is ${declared} bytes; the limit is ${this.deps.maxBodyBytes}`);
    }
    return undefined;
  }

  private async guarded(
    request: ApiRequest,
    handle: (body: unknown) => Promise<ApiResponse>,
  ): Promise<ApiResponse> {
    const refused = this.refuseBeforeBody(request.header);
    if (refused) return refused;
    if (request.body.length > this.deps.maxBodyBytes) {
      return error(413, `body is ${request.body.length} bytes; the limit is ${this.deps.maxBodyBytes}`);
    }
    try {
      return await handle(parseJsonBody(request.body));
    } catch (cause) {
      return this.toResponse(cause);
    }
  }

  private authenticate(header: ApiRequest['header']): ApiResponse | undefined {
    const expected = this.deps.apiKey;
    if (expected === undefined) return undefined;
    const given = Buffer.from(header('x-functions-key') ?? '');
    const wanted = Buffer.from(expected);
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) return undefined;
    return error(401, 'missing or wrong API key: send it in the x-functions-key header');
  }

  private toResponse(cause: unknown): ApiResponse {
    if (cause instanceof JsonBodyError) return error(400, cause.message);
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
