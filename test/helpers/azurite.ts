import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Azurite's documented development account (public, not a secret). */
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** One Azurite service (blob by default, or table) on a free port, data in a temp folder, for one test file. */
export class Azurite {
  connectionString = '';
  private child: ChildProcess | undefined;
  private readonly location = mkdtempSync(join(tmpdir(), 'azurite-'));

  constructor(private readonly service: 'blob' | 'table' = 'blob') {}

  async start(): Promise<this> {
    const service = this.service;
    // The blob service reports the port it took for port 0; the table service does not, so it gets a free one.
    const requested = service === 'blob' ? 0 : await freePort();
    const bin = join(__dirname, '..', '..', 'node_modules', '.bin', `azurite-${service}`);
    const child = spawn(
      bin,
      [
        `--${service}Host`,
        '127.0.0.1',
        `--${service}Port`,
        String(requested),
        '--location',
        this.location,
        '--skipApiVersionCheck',
        '--disableTelemetry',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const port = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`azurite did not start: ${output}`)), 20_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /(?:listens on http:\/\/|successfully started on )127\.0\.0\.1:([1-9]\d*)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`azurite exited (${code}): ${output}`)));
    });
    this.connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
      `${service === 'blob' ? 'Blob' : 'Table'}Endpoint=http://127.0.0.1:${port}/${ACCOUNT};`;
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.location, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
