import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** A TCP connection to the host that writes whatever bytes a test gives it, valid HTTP or not. */
export class RawConnection {
  private received = Buffer.alloc(0);
  private closed = false;
  private readonly socket: Socket;
  private wake: () => void = () => undefined;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }

  write(data: string | Buffer): this {
    this.socket.write(data);
    return this;
  }

  /** Closes the connection at once, whatever was sent. */
  destroy(): void {
    this.socket.destroy();
  }

  /** The next complete response; with `interim`, a `100 Continue` counts as one. */
  async response(options: { interim?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    for (;;) {
      const parsed = this.take(options.interim ?? false);
      if (parsed) return parsed;
      if (this.closed) throw new Error(`connection closed; received: ${this.received.toString()}`);
      if (Date.now() > deadline) throw new Error(`no answer; received so far: "${this.received.toString()}"`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  private take(interim: boolean): RawResponse | undefined {
    const text = this.received.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const headers = text.slice(0, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1]);
    if (status === 100) {
      this.received = this.received.subarray(end + 4);
      return interim ? { status, headers, body: '' } : this.take(interim);
    }
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
    if (this.received.length < end + 4 + length) return undefined;
    const body = this.received.subarray(end + 4, end + 4 + length).toString('utf8');
    this.received = this.received.subarray(end + 4 + length);
    return { status, headers, body };
  }
}
