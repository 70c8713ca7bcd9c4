import axios, { AxiosError, type AxiosInstance } from 'axios';
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
 * Calls targets with axios over keep-alive agents: no redirects followed (a 3xx is a failure), no
 * proxy from the environment, a total deadline per call, and every address checked by the policy.
 */
export class HttpTarget implements Target {
  private readonly client: AxiosInstance;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly options: HttpTargetOptions) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSocketsPerHost,
      lookup: guardedLookup(options.policy, options.resolve),
    };
    this.agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
    this.client = axios.create({
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      proxy: false,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'stream',
      decompress: true,
    });
  }

  async call(request: TargetRequest): Promise<TargetResponse> {
    const refusal = this.options.policy.refusalForUrl(request.url);
    if (refusal) throw new TargetError('forbiddenTarget', refusal);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await this.client.request<Readable>({
        method: request.method,
        url: request.url,
        headers: request.headers,
        data: request.body,
        signal,
      });
      const bodyExcerpt = await readExcerpt(response.data);
      return {
        status: response.status,
        bodyExcerpt,
        retryAfterMs: parseRetryAfter(response.headers['retry-after']),
      };
    } catch (error) {
      throw translate(error, signal, this.options.timeoutMs);
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

async function readExcerpt(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of body) {
    if (kept < EXCERPT_BYTES) {
      const buffer = Buffer.from(chunk as Buffer);
      chunks.push(buffer.subarray(0, EXCERPT_BYTES - kept));
      kept += Math.min(buffer.length, EXCERPT_BYTES - kept);
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
  if (signal.aborted || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new TargetError('timeout', `no complete answer within ${timeoutMs} ms`, { cause: error });
  }
  const detail = error instanceof AxiosError ? `${code ?? 'error'}: ${message}` : message;
  return new TargetError('network', detail, { cause: error });
}
