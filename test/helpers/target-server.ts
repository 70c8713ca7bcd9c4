import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer after this many ms. */
  delayMs?: number;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
  /** Drop the connection without answering (a reset). */
  reset?: boolean;
  /** Send the headers, then one body byte every `intervalMs`, `chunks` times. */
  trickle?: { chunks: number; intervalMs: number };
}

/**
 * A real HTTP target on 127.0.0.1, port 0: records every call and answers per path with the reply
 * set for it (default 200).
 */
export class TargetServer {
  readonly calls: ReceivedCall[] = [];
  private readonly replies = new Map<string, Reply | ((call: ReceivedCall) => Reply)>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private waiters: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';
  /** TCP connections accepted so far. */
  connections = 0;
  /** Answers written so far (counted before the caller can see them). */
  answered = 0;

  async start(): Promise<this> {
    this.server.on('connection', () => (this.connections += 1));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Sets the answer for `path`; `'*'` answers every path without its own. */
  reply(path: string, reply: Reply | ((call: ReceivedCall) => Reply)): this {
    this.replies.set(path, reply);
    return this;
  }

  callsTo(path: string): ReceivedCall[] {
    return this.calls.filter((call) => call.path === path);
  }

  /** Resolves once `count` calls arrived in total. */
  async waitForCalls(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.calls.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} calls, got ${this.calls.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private trickle(
    res: http.ServerResponse,
    status: number,
    plan: { chunks: number; intervalMs: number },
  ): void {
    res.writeHead(status, { 'content-type': 'text/plain' });
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent >= plan.chunks) {
        clearInterval(timer);
        this.timers.delete(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write('.');
      sent += 1;
    }, plan.intervalMs);
    this.timers.add(timer);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call: ReceivedCall = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      this.calls.push(call);
      for (const wake of this.waiters.splice(0)) wake();
      const configured = this.replies.get(call.path) ?? this.replies.get('*');
      const reply = (typeof configured === 'function' ? configured(call) : configured) ?? { status: 200 };
      if (reply.hang) return;
      if (reply.reset) {
        req.socket.resetAndDestroy();
        return;
      }
      if (reply.trickle) return this.trickle(res, reply.status, reply.trickle);
      const send = () => {
        this.answered += 1;
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body ?? '');
      };
      if (!reply.delayMs) return send();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, reply.delayMs);
      this.timers.add(timer);
    });
  }
}
