import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli';
import { syncRequest } from '../helpers/fixtures';
import { LocalHost } from '../helpers/local-host';
import { TargetServer } from '../helpers/target-server';

jest.setTimeout(120_000);

/** The cells of the table row that starts with `first`. */
function tableRow(text: string, first: string): string[] | undefined {
  return text
    .split('\n')
    .map((line) =>
      line
        .split('│')
        .map((cell) => cell.trim())
        .slice(1, -1),
    )
    .find((cells) => cells[0] === first);
}

describe('datasync CLI against npm start', () => {
  let dataDir: string;
  let target: TargetServer;
  let host: LocalHost | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-cli-'));
    target = await new TargetServer().start();
  });
  afterEach(async () => {
    await host?.stop('SIGKILL');
    host = undefined;
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}) =>
    (host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir, ...env }).start());

  /** `count` messages that fail with 404 into datasync-error-404. */
  async function failures(local: LocalHost, count: number, path = '/later'): Promise<void> {
    const batch = Array.from({ length: count }, (_, i) =>
      syncRequest(
        `${target.url}${path}`,
        { vaultSecretName: undefined, targetRestApiPayload: { i } },
        `k${i}`,
      ),
    );
    expect((await local.post('stream/sync', batch)).status).toBe(202);
    const deadline = Date.now() + 20_000;
    while (local.lines.filter((line) => line.event === 'sync.failed').length < count) {
      if (Date.now() > deadline) throw new Error('the failures did not happen');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('status shows the retained messages per stream that the API reports', async () => {
    const local = await start();
    target.reply('/later', { status: 404 });
    await failures(local, 3);

    const run = await runCli(['status'], { DATASYNC_URL: local.url });

    expect(run.code).toBe(0);
    const api = (await local.get('stream/status')).body as {
      streams: Array<{ stream: string; retained: number }>;
    };
    const errorStream = api.streams.find((s) => s.stream === 'datasync-error-404');
    expect(errorStream?.retained).toBe(3);
    expect(tableRow(run.stdout, 'datasync-error-404')?.slice(0, 3)).toEqual([
      'datasync-error-404',
      'error',
      '3',
    ]);
    const json = await runCli(['status', '--json'], { DATASYNC_URL: local.url });
    expect(JSON.parse(json.stdout).streams).toEqual(api.streams);
  });

  it('replay delivers the whole stream in batches, with a line per call off a terminal, and sums up', async () => {
    const local = await start();
    let missing = true;
    target.reply('/later', () => ({ status: missing ? 404 : 201 }));
    await failures(local, 5);
    missing = false;

    const run = await runCli(['replay', 'datasync-error-404', '--batch', '2'], { DATASYNC_URL: local.url });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('replayed datasync-error-404 up to offset 4: delivered 5, failed again 0');
    expect(run.stderr.trim().split('\n')).toHaveLength(3);
    expect(target.callsTo('/later')).toHaveLength(10);
  });

  it('replay exits 3 when messages fail again, and stops at the end the stream had when it started', async () => {
    const local = await start();
    target.reply('/later', { status: 404 });
    await failures(local, 3);

    const run = await runCli(['replay', 'datasync-error-404', '--from', '-1', '--batch', '1'], {
      DATASYNC_URL: local.url,
    });

    expect(run.code).toBe(3);
    expect(run.stdout).toContain('delivered 0, failed again 3');
    expect(target.callsTo('/later')).toHaveLength(6);
  });

  it('Ctrl-C stops a replay after the current call; the printed --from resumes it with nothing twice', async () => {
    const local = await start();
    let missing = true;
    target.reply('/later', () => (missing ? { status: 404 } : { status: 201, delayMs: 300 }));
    await failures(local, 6);
    missing = false;

    const replay = startCli(['replay', 'datasync-error-404', '--batch', '1'], { DATASYNC_URL: local.url });
    while (!replay.stderrSoFar().includes('\n')) await new Promise((resolve) => setTimeout(resolve, 10));
    replay.child.kill('SIGINT');
    const first = await replay.done;

    expect(first.code).toBe(130);
    const resume = /datasync replay datasync-error-404 --from (\d+)/.exec(first.stdout);
    expect(resume).not.toBeNull();
    const stoppedAt = Number(resume?.[1]);
    expect(stoppedAt).toBeLessThan(5);
    expect(target.callsTo('/later')).toHaveLength(6 + stoppedAt + 1);

    const rest = await runCli(['replay', 'datasync-error-404', '--from', String(stoppedAt)], {
      DATASYNC_URL: local.url,
    });
    expect(rest.code).toBe(0);
    const replayed = target
      .callsTo('/later')
      .slice(6)
      .map((call) => JSON.parse(call.body).i as number);
    expect(replayed.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('send posts NDJSON from stdin in batches, with the target credential', async () => {
    const local = await start();
    const lines = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify(syncRequest(`${target.url}/orders`, { targetRestApiPayload: { i } }, `s${i}`)),
    );

    const run = await runCli(
      ['send', '-', '--batch', '2'],
      { DATASYNC_URL: local.url, DATASYNC_TARGET_AUTHORIZATION: 'Bearer cli-token' },
      `${lines.join('\n')}\n`,
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('sent 5 request(s) in 3 batch(es)');
    await target.waitForCalls(5);
    expect(target.calls.map((call) => call.headers.authorization)).toEqual(Array(5).fill('Bearer cli-token'));
  });

  it('send refuses a file with a line that is not JSON, naming the line, and sends nothing', async () => {
    const local = await start();
    const good = JSON.stringify(syncRequest(`${target.url}/orders`));

    const run = await runCli(['send', '-'], { DATASYNC_URL: local.url }, `${good}\n{oops\n`);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('stdin line 2 is not JSON');
    expect((await local.get('stream/status')).body.streams).toEqual([]);
  });

  it('sends --key as x-functions-key; without it the host refuses and the CLI exits 1', async () => {
    const local = await start({ DATASYNC_API_KEY: 'k3y-for-cli-test' });

    const refused = await runCli(['status'], { DATASYNC_URL: local.url });
    const allowed = await runCli(['status', '--key', 'k3y-for-cli-test'], { DATASYNC_URL: local.url });
    const fromEnv = await runCli(['status'], { DATASYNC_URL: local.url, DATASYNC_KEY: 'k3y-for-cli-test' });

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401 missing or wrong API key');
    expect([allowed.code, fromEnv.code]).toEqual([0, 0]);
  });

  it('exits 1 naming the problem when the API refuses or cannot be reached, 2 on bad usage', async () => {
    const local = await start();

    const unknownStream = await runCli(['replay', 'no-such-stream'], { DATASYNC_URL: local.url });
    const closed = await new TargetServer().start();
    await closed.stop();
    const unreachable = await runCli(['status', '--url', closed.url]);
    const badOption = await runCli(['replay', 'datasync-error-404', '--batch', 'many']);
    const unknownCommand = await runCli(['frobnicate']);

    expect(unknownStream.code).toBe(1);
    expect(unknownStream.stderr).toMatch(/404 .*no-such-stream/);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`cannot reach ${closed.url} (ECONNREFUSED)`);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('must be a positive integer');
    expect(unknownCommand.code).toBe(2);
  });
});
