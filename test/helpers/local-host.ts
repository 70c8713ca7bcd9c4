import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** `npm start` as a child process, on a free port, with its JSON log lines collected. */
export class LocalHost {
  readonly lines: Array<Record<string, unknown>> = [];
  url = '';
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private hasExited = false;

  constructor(private readonly env: Record<string, string>) {}

  async start(timeoutMs = 30_000): Promise<this> {
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, PORT: '0', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    // npm may exit before the node process it started: the pipe closes only when every holder exited.
    this.exited = new Promise((resolve) =>
      child.stdout?.on('close', () => {
        this.hasExited = true;
        resolve(child.exitCode);
      }),
    );
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // npm's own output
      }
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const started = await this.waitFor('host.started', timeoutMs).catch(async (error: Error) => {
      throw new Error(`${error.message}; stderr: ${stderr}`);
    });
    this.url = `http://127.0.0.1:${String(started.port)}`;
    return this;
  }

  async waitFor(event: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((candidate) => candidate.event === event);
      if (line) return line;
      if (this.hasExited) throw new Error(`the host exited before "${event}"`);
      if (Date.now() > deadline) throw new Error(`no "${event}" log line within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async post(path: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${this.url}/api/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async get(path: string) {
    const response = await fetch(`${this.url}/api/${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /**
   * Sends `signal` to the whole process group (npm and node), or with `npmOnly` to the `npm start`
   * process alone, as a service manager or a terminal would; waits for all of them to exit.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', options: { npmOnly?: boolean } = {}): Promise<void> {
    if (!this.child?.pid) return;
    try {
      process.kill(options.npmOnly ? this.child.pid : -this.child.pid, signal);
    } catch {
      return;
    }
    await this.exited;
    if (signal === 'SIGTERM') await this.waitFor('host.stopped', 5000);
  }
}
