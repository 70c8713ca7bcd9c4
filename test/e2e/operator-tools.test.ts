import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { syncRequest } from '../helpers/fixtures';
import { LocalHost } from '../helpers/local-host';
import { TargetServer } from '../helpers/target-server';

jest.setTimeout(120_000);

describe('operators’ tools on the message-state API', () => {
  let dataDir: string;
  let target: TargetServer;
  let host: LocalHost | undefined;
  let missing: boolean;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'datasync-ops-v2-'));
    target = await new TargetServer().start();
    missing = true;
    target.reply('/later', () => ({ status: missing ? 404 : 201 }));
    host = await new LocalHost({ DATASYNC_DATA_DIR: dataDir }).start();
  });
  afterEach(async () => {
    await host?.stop('SIGKILL');
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(args, { DATASYNC_URL: (host as LocalHost).url });

  async function failed(count: number, key = (i: number) => `k${i}`): Promise<string[]> {
    const local = host as LocalHost;
    const batch = Array.from({ length: count }, (_, i) =>
      syncRequest(`${target.url}/later`, { vaultSecretName: undefined, targetRestApiPayload: { i } }, key(i)),
    );
    const answer = await local.post('stream/sync', batch);
    const deadline = Date.now() + 20_000;
    while (local.lines.filter((line) => line.event === 'sync.failed').length < 1) {
      if (Date.now() > deadline) throw new Error('no failure');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return (answer.body.messages as Array<{ id: string }>).map((m) => m.id);
  }

  it('message shows a failed message, its error stream and the attempt’s reason and status', async () => {
    const [id] = await failed(1);
    const run = await cli('message', id as string);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Message ${id}: failed`);
    expect(run.stdout).toContain('now in datasync-error-404 at offset 0');
    expect(run.stdout).toMatch(/│ 1 +│ \S+ +│ failed +│ 404 +│ http/);
    const unknown = await cli('message', 'no-such-id');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('404 no message with id');
  });

  it('keys lists a key held behind its failed head; release delivers the held messages', async () => {
    await failed(3, () => 'order-1');
    const keys = await cli('keys');
    expect(keys.stdout).toMatch(/│ order-1 +│ 2 +│/);
    missing = false;
    const released = await cli('release', 'order-1');
    expect(released.code).toBe(0);
    expect(released.stdout).toContain('released 2 message(s) of key order-1');
    await target.waitForCalls(3);
  });

  it('replay --dry-run counts and sends nothing; a second replay continues where the first stopped', async () => {
    await failed(4);
    const calls = target.calls.length;
    const dry = await cli('replay', 'datasync-error-404', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('4 message(s) would be replayed; nothing was sent');
    expect(target.calls.length).toBe(calls);

    missing = false;
    expect((await cli('replay', 'datasync-error-404')).stdout).toContain('delivered 4, failed again 0');
    expect((await cli('replay', 'datasync-error-404')).stdout).toContain('delivered 0');
    const again = await cli('replay', 'datasync-error-404', '--from', '-1');
    expect(again.stdout).toContain('skipped 4');
    const status = await cli('status', '--json');
    const stream = (
      JSON.parse(status.stdout) as { streams: Array<{ stream: string; openFailures?: number }> }
    ).streams.find((s) => s.stream === 'datasync-error-404');
    expect(stream?.openFailures).toBe(0);
  });

  it('metrics: the latency histogram counts every delivery; open failures and held keys come from the status', async () => {
    await failed(2, () => 'order-9');
    const before = await (await fetch(`${(host as LocalHost).url}/api/metrics`)).text();
    expect(before).toContain('datasync_open_failures{stream="datasync-error-404"} 1');
    expect(before).toContain('datasync_held_keys 1');
    missing = false;
    await cli('replay', 'datasync-error-404');
    // The failed head, its replay, then the message that was held behind it.
    await target.waitForCalls(3);
    const after = await (await fetch(`${(host as LocalHost).url}/api/metrics`)).text();
    expect(after).toContain(`datasync_delivery_duration_seconds_count{origin="${target.url}"} 2`);
    expect(after).toContain('datasync_open_failures{stream="datasync-error-404"} 0');
  });
});
