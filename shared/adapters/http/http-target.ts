import http from 'node:http';
import https from 'node:https';
import type { lookup } from 'node:dns';
import type { Readable } from 'node:stream';
import { TargetError } from '../../pipeline/errors';
import type { Target, TargetRequest, TargetResponse } from '../../pipeline/ports';
import type { TargetPolicy } from '../../pipeline/target-policy';
import { FORBIDDEN_TARGET, guardedLookup } from './guarded-lookup';

export interface HttpTargetOptions {
  timeoutMs: number;
  policy: TargetPolicy;
  /** Sockets kept per host; matches the per-host concurrency so connections are reused, not piled up. */
  maxSocketsPerHost: number;
  /** Name resolution (tests give a fake DNS); `dns.lookup` otherwise. */
  resolve?: typeof lookup;
}

/** Bytes of a response body kept for the error record; the rest is drained so the socket is reused. */
const EXCERPT_BYTES = 2048;
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * Calls targets over keep-alive agents with node:http(s) directly: no redirects followed (a 3xx is a
 * failure), no proxy from the environment, one deadline for the whole call (body included), and
 * every address checked by the policy when the connection is made. (axios did the same with a third
 * of the delivery CPU going to its request pipeline; see the performance section of the README.)
 */
export class HttpTarget implements Target {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly options: HttpTargetOptions) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSocketsPerHost,
      lookup: guardedLookup(options.policy, options.resolve),
    };
    this.agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  }

  async call(request: TargetRequest): Promise<TargetResponse> {
    const refusal = this.options.policy.refusalForUrl(request.url);
    if (refusal) throw new TargetError('forbiddenTarget', refusal);
    const url = new URL(request.url);
    const secure = url.protocol === 'https:';
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const headers = body ? { ...request.headers, 'content-length': String(body.length) } : request.headers;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await new Promise<TargetResponse>((resolve, reject) => {
        const send = secure ? https.request : http.request;
        const outgoing = send(
          url,
          { method: request.method, headers, agent: secure ? this.agents.https : this.agents.http, signal },
          (res) => {
            readExcerpt(res, request.maxResponseBytes ?? EXCERPT_BYTES).then(
              (bodyExcerpt) =>
                resolve({
                  status: res.statusCode ?? 0,
                  bodyExcerpt,
                  retryAfterMs: parseRetryAfter(res.headers['retry-after']),
                }),
              reject,
            );
          },
        );
        outgoing.on('error', reject);
        outgoing.end(body);
      });
    } catch (error) {
      throw translate(error, signal, this.options.timeoutMs);
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

async function readExcerpt(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of body) {
    if (kept < limit) {
      const buffer = Buffer.from(chunk as Buffer);
      chunks.push(buffer.subarray(0, limit - kept));
      kept += Math.min(buffer.length, limit - kept);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseRetryAfter(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

function translate(error: unknown, signal: AbortSignal, timeoutMs: number): TargetError {
  if (error instanceof TargetError) return error;
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  const message = (error as Error).message;
  if (code === FORBIDDEN_TARGET) return new TargetError('forbiddenTarget', message, { cause: error });
  if (signal.aborted || code === 'ETIMEDOUT') {
    return new TargetError('timeout', `no complete answer within ${timeoutMs} ms`, { cause: error });
  }
  return new TargetError('network', code ? `${code}: ${message}` : message, { cause: error });
}
