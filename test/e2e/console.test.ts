import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { syncRequest } from '../helpers/fixtures';
import { LocalHost } from '../helpers/local-host';
import { TargetServer } from '../helpers/target-server';

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, '..', '..', 'test-results', 'console.png');

interface StatusBody {
  streams: Array<{ stream: string; retained: number; openFailures?: number }>;
  consumer: { backlog?: number; lag?: number };
  recentFailures: unknown[];
}

describe('the console in Chromium, against npm start', () => {
  let dataDir: string;
  let profileDir: string;
  let target: TargetServer;
  let host: LocalHost | undefined;
  let browser: BrowserContext | undefined;

  beforeAll(() => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  });
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-console-'));
    profileDir = mkdtempSync(join(tmpdir(), 'datasync-chromium-'));
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    await host?.stop('SIGKILL');
    host = undefined;
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(url);
    return page;
  }

  /** `count` messages failed into datasync-error-404, and the consumer idle again (the numbers are steady). */
  async function failures(
    local: LocalHost,
    count: number,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const batch = Array.from({ length: count }, (_, i) =>
      syncRequest(
        `${target.url}/later`,
        { vaultSecretName: undefined, targetRestApiPayload: { i } },
        `k${i}`,
      ),
    );
    expect((await local.post('stream/sync', batch, headers)).status).toBe(202);
    const deadline = Date.now() + 20_000;
    while (local.lines.filter((line) => line.event === 'sync.failed').length < count) {
      if (Date.now() > deadline) throw new Error('the failures did not happen');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    for (;;) {
      const status = await fetch(`${local.url}/api/stream/status`, { headers });
      const { consumer } = (await status.json()) as {
        consumer: { backlog?: number; lag?: number; inFlight: number };
      };
      if ((consumer.backlog ?? consumer.lag) === 0 && consumer.inFlight === 0) return;
      if (Date.now() > deadline) throw new Error('the consumer did not settle');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('shows the numbers the API reports, and replays an error stream with progress', async () => {
    const local = (host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir }).start());
    let missing = true;
    target.reply('/later', () => ({ status: missing ? 404 : 201 }));
    await failures(local, 3);
    const api = (await local.get('stream/status')).body as unknown as StatusBody;
    const errorStream = api.streams.find((s) => s.stream === 'datasync-error-404');

    const page = await open(`${local.url}/console`);
    const row = page.locator('tr[data-stream="datasync-error-404"]');
    await row.waitFor();

    expect(await row.locator('td.retained').textContent()).toBe(String(errorStream?.retained));
    expect(await row.locator('td.open-failures').textContent()).toBe(
      String(errorStream?.openFailures ?? '-'),
    );
    expect(await page.locator('#consumer').getAttribute('data-backlog')).toBe(
      String(api.consumer.backlog ?? api.consumer.lag),
    );
    expect(await page.locator('#failures tbody tr').count()).toBe(api.recentFailures.length);
    expect(await page.locator('#failures tbody').textContent()).toContain(target.url);

    missing = false;
    const retryRequest = page.waitForRequest((request) => request.url().endsWith('/api/stream/retry'));
    await row.locator('button[data-replay]').click();
    expect((await retryRequest).headers()['content-type']).toBe('application/json');
    await page
      .locator('tr[data-stream="datasync-error-404"] .replay-note', {
        hasText: 'done: delivered 3, failed again 0',
      })
      .waitFor();
    // The test's tsconfig has no DOM types: browser-side code is passed as text.
    expect(
      await page.evaluate(`document.querySelector('tr[data-stream="datasync-error-404"] progress').value`),
    ).toBe(1);
    expect(target.callsTo('/later')).toHaveLength(6);

    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('never embeds the API key: the operator pastes it and it stays in sessionStorage', async () => {
    const key = 'console-k3y-not-in-page';
    const local = (host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir, DATASYNC_API_KEY: key }).start());
    target.reply('/later', { status: 404 });
    await failures(local, 1, { 'x-functions-key': key });

    const page = await open(`${local.url}/console`);
    await page.locator('#error', { hasText: 'the host wants an API key' }).waitFor();
    expect(await page.content()).not.toContain(key);
    expect(await page.locator('tr[data-stream]').count()).toBe(0);

    await page.fill('#key', key);
    await page.click('#key-form button');
    await page.locator('tr[data-stream="datasync-error-404"]').waitFor();
    expect(await page.evaluate(`sessionStorage.getItem('datasync.apiKey')`)).toBe(key);
    expect(await page.evaluate('localStorage.length')).toBe(0);
  });
});
