import { parseJsonBody } from '../contract/envelope-codec';
import { offsetToJson } from '../contract/offset';
import { apiKeyAccepted } from './api-key';
import { parseRetryRequest } from '../contract/retry-request';
import {
  deleteConnection,
  putConnection,
  readConnection,
  type ConnectionDeps,
} from '../pipeline/connections';
import type { DispatchDeps } from '../pipeline/dispatch';
import { ValidationError } from '../pipeline/errors';
import { errorAnswer, errorBody, summaryToJson } from './error-answers';
import type { MessageHistory } from '../pipeline/message-states';
import type { StatusReport } from './status-report';
import { populate, type PopulateDeps } from '../pipeline/populate';
import type { Logger } from '../pipeline/ports';
import { replay } from '../pipeline/replay';

/** An HTTP request as both hosts (Azure Functions, the local server) can describe it. */
export interface ApiRequest {
  header(name: string): string | undefined;
  /** The raw body; hosts refuse bodies over the limit before they get here when they can. */
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** Operator control of target origins: a paused origin's messages are held durably, in order. */
export interface TargetControl {
  pause(origin: string): Promise<void>;
  /** False when the origin was not paused. */
  resume(origin: string): Promise<boolean>;
}

export interface HttpApiDeps {
  populate: PopulateDeps;
  /**
   * The replays' deliveries (no automatic retries: the assembly's `replayDeps`); also the message
   * states and calls in flight behind message history, held keys, release and skip.
   */
  dispatch: DispatchDeps;
  connections: ConnectionDeps;
  status: () => Promise<StatusReport>;
  maxBodyBytes: number;
  /** Pause and resume of target origins, where the host supports it (the local host). */
  targets?: TargetControl;
  /** Each retry call starts no delivery after `budgetMs`, with at most `concurrency` under way (see `replay`). */
  replay?: { budgetMs: number; concurrency: number };
  /** Called after a key was released or skipped: held messages may go now. */
  onRelease?: () => void;
  /** Required in `x-functions-key` when set (local mode; Azure checks its own function keys). */
  apiKey?: string;
  log: Logger;
}

const HELD_KEYS_LISTED = 1000;

/** A sync request's append is all or nothing, except where a PartialAppendError says otherwise. */
const NOTHING_ACCEPTED = 'nothing was accepted';

/** Only JSON: a browser cannot send it cross-site without a CORS preflight, which is never granted. */
const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** The API's endpoints (sync, replay, status, message history, keys, targets, connections), whatever the host. */
export class HttpApi {
  constructor(private readonly deps: HttpApiDeps) {}

  async sync(request: ApiRequest): Promise<ApiResponse> {
    return this.guarded(
      request,
      async (body) => {
        const { appended, repeated } = await populate(this.deps.populate, {
          body,
          authorization: request.header('authorization'),
          idempotencyKey: request.header('idempotency-key'),
        });
        return {
          status: 202,
          ...(repeated ? { headers: { 'idempotent-replayed': 'true' } } : {}),
          body: {
            messages: appended.map((item) => ({
              stream: item.stream,
              id: item.id,
              ...(item.offset === undefined ? {} : { offset: offsetToJson(item.offset) }),
            })),
          },
        };
      },
      NOTHING_ACCEPTED,
    );
  }

  async retry(request: ApiRequest): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const parsed = parseRetryRequest(body);
      if (!parsed.ok) throw new ValidationError(parsed.problems);
      const summary = await replay(this.deps.dispatch, parsed.value, this.deps.replay);
      return { status: 200, body: summaryToJson(summary) };
    });
  }

  async status(request: ApiRequest): Promise<ApiResponse> {
    return this.authenticated(request, async () => ({ status: 200, body: await this.deps.status() }));
  }

  /** `GET /api/messages/{id}`: the message's state and every attempt; never a credential. */
  async message(request: ApiRequest, id: string): Promise<ApiResponse> {
    return this.authenticated(request, async () => {
      const history = await this.deps.dispatch.states.history(id);
      if (!history)
        return errorBody(
          404,
          `no message with id "${id}" (unknown, or finished longer ago than the retention)`,
        );
      return { status: 200, body: historyToJson(history, this.deps.dispatch.inFlight.has(id)) };
    });
  }

  /** `GET /api/keys`: keys whose messages are held behind a failed one. */
  async keys(request: ApiRequest): Promise<ApiResponse> {
    return this.authenticated(request, async () => {
      const keys = await this.deps.dispatch.states.heldKeys(HELD_KEYS_LISTED);
      return {
        status: 200,
        body: { keys: keys.map((key) => ({ ...key, since: key.since.toISOString() })) },
      };
    });
  }

  /** `POST /api/keys/release`: the held messages of a key go on although its head has not been delivered. */
  async release(request: ApiRequest): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const streamKey = parseKeyRequest(body);
      const released = await this.deps.dispatch.states.release(streamKey);
      if (released === undefined) return errorBody(404, `key "${streamKey}" is not held`);
      this.deps.log.info('key.released', { streamKey, released });
      this.deps.onRelease?.();
      return { status: 200, body: { streamKey, released } };
    });
  }

  /** `POST /api/keys/skip`: the head of a held key is marked skipped (not delivered); the rest go on. */
  async skip(request: ApiRequest): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const streamKey = parseKeyRequest(body);
      const skipped = await this.deps.dispatch.states.skip(streamKey);
      if (skipped === undefined) return errorBody(404, `key "${streamKey}" is not held`);
      this.deps.log.info('key.skipped', { streamKey, skipped });
      this.deps.onRelease?.();
      return { status: 200, body: { streamKey, skipped } };
    });
  }

  /** `GET /api/targets`: per target origin its limit, state, calls in flight and messages queued. */
  async targets(request: ApiRequest): Promise<ApiResponse> {
    return this.authenticated(request, async () => ({
      status: 200,
      body: { targets: (await this.deps.status()).targets },
    }));
  }

  /** `POST /api/targets/pause` and `/resume` with `{"origin": "https://api.example.com"}`. */
  async pauseTarget(request: ApiRequest, pause: boolean): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const control = this.deps.targets;
      if (!control) return errorBody(501, 'pausing a target is not available on this host');
      const origin = parseOriginRequest(body);
      if (pause) await control.pause(origin);
      else if (!(await control.resume(origin))) return errorBody(404, `${origin} is not paused`);
      this.deps.log.info(pause ? 'target.paused' : 'target.resumed', { origin });
      this.deps.onRelease?.();
      return { status: 200, body: { origin, paused: pause } };
    });
  }

  /** `PUT /api/connections/{name}`: 201 when new, 200 when replaced; the answer has no secret. */
  async putConnection(request: ApiRequest, name: string): Promise<ApiResponse> {
    return this.guarded(request, async (body) => {
      const { created, connection } = await putConnection(this.deps.connections, name, body);
      return { status: created ? 201 : 200, body: connection };
    });
  }

  /** `GET /api/connections/{name}`: the connection without its secrets. */
  async getConnection(request: ApiRequest, name: string): Promise<ApiResponse> {
    return this.authenticated(request, async () => {
      const connection = await readConnection(this.deps.connections, name);
      return connection ? { status: 200, body: connection } : errorBody(404, `no connection named "${name}"`);
    });
  }

  /** `DELETE /api/connections/{name}`: 204, or 404 when there is no such connection. */
  async deleteConnection(request: ApiRequest, name: string): Promise<ApiResponse> {
    return this.authenticated(request, async () => {
      const deleted = await deleteConnection(this.deps.connections, name);
      return deleted ? { status: 204, body: undefined } : errorBody(404, `no connection named "${name}"`);
    });
  }

  private async authenticated(request: ApiRequest, handle: () => Promise<ApiResponse>): Promise<ApiResponse> {
    const denied = this.authenticate(request.header);
    if (denied) return denied;
    try {
      return await handle();
    } catch (cause) {
      return errorAnswer(cause, this.deps.log);
    }
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
      return errorBody(415, `Content-Type must be application/json; ${given}`);
    }
    const declared = Number(header('content-length') ?? 0);
    if (declared > this.deps.maxBodyBytes) {
      return errorBody(413, `body is ${declared} bytes; the limit is ${this.deps.maxBodyBytes}`);
    }
    return undefined;
  }

  private async guarded(
    request: ApiRequest,
    handle: (body: unknown) => Promise<ApiResponse>,
    onStorageFailure?: string,
  ): Promise<ApiResponse> {
    const refused = this.refuseBeforeBody(request.header);
    if (refused) return refused;
    if (request.body.length > this.deps.maxBodyBytes) {
      return errorBody(413, `body is ${request.body.length} bytes; the limit is ${this.deps.maxBodyBytes}`);
    }
    try {
      return await handle(parseJsonBody(request.body));
    } catch (cause) {
      return errorAnswer(cause, this.deps.log, onStorageFailure);
    }
  }

  private authenticate(header: ApiRequest['header']): ApiResponse | undefined {
    if (apiKeyAccepted(this.deps.apiKey, header('x-functions-key'))) return undefined;
    return errorBody(401, 'missing or wrong API key: send it in the x-functions-key header');
  }
}

function parseKeyRequest(body: unknown): string {
  const streamKey = (body as { streamKey?: unknown } | null)?.streamKey;
  if (typeof streamKey !== 'string' || streamKey === '') {
    throw new ValidationError(['streamKey: required, a non-empty string']);
  }
  return streamKey;
}

function parseOriginRequest(body: unknown): string {
  const origin = (body as { origin?: unknown } | null)?.origin;
  let parsed: URL | undefined;
  try {
    parsed = typeof origin === 'string' ? new URL(origin) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== String(origin).replace(/\/$/, '')) {
    throw new ValidationError([
      'origin: must be an http(s) origin, scheme://host[:port], e.g. https://api.example.com',
    ]);
  }
  return parsed.origin;
}

function historyToJson(history: MessageHistory, inFlight: boolean) {
  const { location, attempts, ...rest } = history;
  return {
    ...rest,
    state: inFlight ? 'delivering' : history.state,
    location: {
      stream: location.stream,
      ...(location.offset === undefined ? {} : { offset: offsetToJson(location.offset) }),
    },
    attempts: attempts.map(({ offset, ...attempt }) => ({
      ...attempt,
      ...(offset === undefined ? {} : { offset: offsetToJson(offset) }),
    })),
  };
}
