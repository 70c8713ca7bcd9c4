import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiRequest, ApiResponse } from '../../shared/api/http-api';
import { loadConfig } from '../../shared/config/config';
import { JsonLogger } from '../../shared/logging/json-logger';
import { EmbeddedApp } from '../../shared/local/embedded-app';

/** A request as a host hands it to the API; `body` undefined for a GET. */
export function apiRequest(body?: unknown, headers: Record<string, string> = {}): ApiRequest {
  const all: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(headers)) all[name.toLowerCase()] = value;
  const raw = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  return { header: (name) => all[name.toLowerCase()], body: raw };
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The embedded app (the same assembly `npm start` runs) in a temp data dir, driven through its
 * HTTP API object, with its JSON log lines collected.
 */
export class AppHarness {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'datasync-app-'));
  readonly logLines: string[] = [];
  app: EmbeddedApp | undefined;

  async start(env: Record<string, string> = {}): Promise<EmbeddedApp> {
    const config = loadConfig({ DATASYNC_DATA_DIR: this.dataDir, ...env }, 'local');
    this.app = new EmbeddedApp(config, new JsonLogger((line) => this.logLines.push(line)));
    await this.app.start();
    return this.app;
  }

  get api() {
    if (!this.app) throw new Error('the app is not started');
    return this.app.api();
  }

  events(event: string): Array<Record<string, unknown>> {
    return this.logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.event === event);
  }

  async sync(body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse & { ids: string[] }> {
    const response = await this.api.sync(apiRequest(body, headers));
    const messages = (response.body as { messages?: Array<{ id: string }> }).messages ?? [];
    return { ...response, ids: messages.map((message) => message.id) };
  }

  async retry(body: unknown) {
    const response = await this.api.retry(apiRequest(body));
    return response.body as {
      lastReadOffset: number;
      processedmessages: number;
      failedMessages: number;
      skippedMessages: number;
      endOfStream: boolean;
    };
  }

  async state(id: string): Promise<string | undefined> {
    return (await this.app?.states.history(id))?.state;
  }

  async stop(graceMs = 100): Promise<void> {
    await this.app?.stop(graceMs);
    this.app = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
