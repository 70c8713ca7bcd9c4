import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, postJson, round, type LoadResult } from './load';
import { peakMemoryMiB, runChild, startChild, type Child } from './processes';
import { profileSummary } from './profile';
import { seed } from './seed';

/**
 * `npm run bench [-- --quick] [-- --latency=5] [-- --profile]`: the pipeline on embedded backends
 * against bare baselines in the same run; prints a table and writes bench/results/<time>.json.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
/** `--profile` profiles the ingest-only process, `--profile=delivery` the delivering one. */
const profileArg = args.find((arg) => arg.startsWith('--profile'));
const profile = profileArg !== undefined;
const profileDelivery = profileArg === '--profile=delivery';
const latencyMs = Number(args.find((arg) => arg.startsWith('--latency='))?.split('=')[1] ?? '5');
const plan = quick
  ? {
      durationMs: 1500,
      deliver: 2000,
      replay: 1000,
      small: 1000,
      large: 20_000,
      hangingBacklog: 1500,
      killMessages: 3000,
    }
  : {
      durationMs: 5000,
      deliver: 20_000,
      replay: 10_000,
      small: 1000,
      large: 1_000_000,
      hangingBacklog: 1500,
      killMessages: 3000,
    };
const CONNECTIONS = 32;
const DISPATCH_CONCURRENCY = 32;
const TOKEN = { authorization: 'Bearer bench-token-0123456789' };

const message = (target: string, i: number, secret = true) => ({
  streamKey: '',
  streamMessage: {
    ...(secret ? { vaultSecretName: 'bench' } : {}),
    targetRestApi: `${target}/orders`,
    targetRestApiOperation: 'POST',
    targetRestApiPayload: { orderid: `o-${i}`, PO: '18jan' },
    targetRestApiHeaders: [{ key: 'Content-Type', value: 'application/json' }],
  },
});

async function startPipeline(
  dataDir: string,
  options: { profileDir?: string; paused?: boolean; env?: Record<string, string> } = {},
): Promise<Child> {
  return startChild(
    'shared/local/main.ts',
    {
      PORT: '0',
      DATASYNC_DATA_DIR: dataDir,
      DATASYNC_DISPATCH_CONCURRENCY: String(DISPATCH_CONCURRENCY),
      DATASYNC_AUTO_RETRIES: '0',
      DATASYNC_DISPATCH_PAUSED: String(options.paused ?? false),
      ...options.env,
    },
    options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [],
  );
}

async function status(pipeline: Child) {
  return (await fetch(`${pipeline.url}/api/stream/status`)).json() as Promise<{
    consumer: { backlog: number };
    secretStoreCalls: { reads: number; writes: number };
  }>;
}

async function until(check: () => Promise<boolean>, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('bench: timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function targetCount(target: Child): Promise<{ count: number; distinct: number }> {
  return (await fetch(`${target.url}/__count`)).json() as Promise<{ count: number; distinct: number }>;
}

interface ReplayAnswer {
  lastReadOffset: number;
  processedmessages: number;
  failedMessages: number;
  endOfStream: boolean;
}

async function replayAll(pipeline: Child, stream: string, after: number, perCall: number, max = Infinity) {
  let offset: number | string = after;
  let handled = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const { body }: { body: ReplayAnswer } = await postJson<ReplayAnswer>(
      `${pipeline.url}/api/stream/retry`,
      { streamToRetry: stream, noOfMessagesToProcess: perCall, readAfterOffset: offset },
    );
    handled += body.processedmessages + body.failedMessages;
    offset = body.lastReadOffset;
    if (body.endOfStream || handled >= max) break;
  }
  return { handled, perSecond: round(handled / (Number(process.hrtime.bigint() - started) / 1e9)) };
}

async function ingestBoth(pipeline: Child, target: Child, durationMs: number) {
  const single = JSON.stringify(message(target.url, 0));
  const batch = JSON.stringify(Array.from({ length: 100 }, (_, i) => message(target.url, i)));
  return {
    single: await load(`${pipeline.url}/api/stream/sync`, single, CONNECTIONS, durationMs, TOKEN),
    batch100: await load(`${pipeline.url}/api/stream/sync`, batch, CONNECTIONS, durationMs, TOKEN),
  };
}

/** Ingest (delivery paused, so only storage cost varies) and replay-from-offset with `retained` messages kept. */
async function growth(target: Child, retained: number) {
  const dataDir = mkdtempSync(join(tmpdir(), `datasync-bench-${retained}-`));
  try {
    await seed(dataDir, 'bench-retained', retained, target.url);
    const pipeline = await startPipeline(dataDir, { paused: true });
    try {
      const ingest = await load(
        `${pipeline.url}/api/stream/sync`,
        JSON.stringify(message(target.url, 0, false)),
        CONNECTIONS,
        plan.durationMs,
      );
      const replay = await replayAll(pipeline, 'bench-retained', Math.max(-1, retained - 2001), 500, 2000);
      return { retained, ingestPerSecond: ingest.perSecond, replayFromOffsetPerSecond: replay.perSecond };
    } finally {
      await pipeline.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * 10 messages for a healthy target sent behind `backlog` queued for a hanging one (the issue's
 * scenario, with a 2 s target timeout and the default per-target limit): ms until all 10 arrived.
 */
async function healthyBehindHanging(target: Child, backlog: number) {
  const hanging = await startChild('bench/children/target-server.ts', { BENCH_TARGET_HANG: 'true' });
  const dataDir = mkdtempSync(join(tmpdir(), 'datasync-bench-hanging-'));
  const pipeline = await startPipeline(dataDir, {
    env: { DATASYNC_TARGET_TIMEOUT_MS: '2000', DATASYNC_PER_HOST_CONCURRENCY: '8' },
  });
  try {
    for (let sent = 0; sent < backlog; sent += 500) {
      const size = Math.min(500, backlog - sent);
      await postJson(
        `${pipeline.url}/api/stream/sync`,
        Array.from({ length: size }, (_, i) => message(hanging.url, sent + i, false)),
      );
    }
    await fetch(`${target.url}/__reset`, { method: 'POST' });
    const started = process.hrtime.bigint();
    await postJson(
      `${pipeline.url}/api/stream/sync`,
      Array.from({ length: 10 }, (_, i) => message(target.url, i, false)),
    );
    await until(async () => (await targetCount(target)).distinct >= 10);
    return { backlog, healthyDeliveredMs: round(Number(process.hrtime.bigint() - started) / 1e6) };
  } finally {
    await pipeline.stop();
    await hanging.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** kill -9 of the host while it delivers `messages`, then a restart: how many calls were repeated. */
async function duplicatesAfterKill(target: Child, messages: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'datasync-bench-kill-'));
  try {
    let pipeline = await startPipeline(dataDir);
    await fetch(`${target.url}/__reset`, { method: 'POST' });
    for (let sent = 0; sent < messages; sent += 500) {
      await postJson(
        `${pipeline.url}/api/stream/sync`,
        Array.from({ length: Math.min(500, messages - sent) }, (_, i) =>
          message(target.url, sent + i, false),
        ),
      );
    }
    await until(async () => (await targetCount(target)).count >= messages / 3);
    await pipeline.kill();
    pipeline = await startPipeline(dataDir);
    await until(async () => (await targetCount(target)).distinct >= messages);
    await pipeline.stop();
    const counted = await targetCount(target);
    return { messages, duplicates: counted.count - counted.distinct, inFlightBound: DISPATCH_CONCURRENCY };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const target = await startChild('bench/children/target-server.ts', {
    BENCH_TARGET_LATENCY_MS: String(latencyMs),
  });
  const bare = await startChild('bench/children/bare-server.ts', {});
  const dataDir = mkdtempSync(join(tmpdir(), 'datasync-bench-'));
  const profileDir = profile ? join(__dirname, 'results', 'profile') : undefined;
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  try {
    const bareIngest = {
      single: await load(
        `${bare.url}/api/stream/sync`,
        JSON.stringify(message(target.url, 0)),
        CONNECTIONS,
        plan.durationMs,
        TOKEN,
      ),
      batch100: await load(
        `${bare.url}/api/stream/sync`,
        JSON.stringify(Array.from({ length: 100 }, (_, i) => message(target.url, i))),
        CONNECTIONS,
        plan.durationMs,
      ),
    };
    await bare.stop();

    // Ingest alone: delivery paused, so the endpoint's own cost is measured.
    const ingestDir = mkdtempSync(join(tmpdir(), 'datasync-bench-ingest-'));
    const paused = await startPipeline(ingestDir, {
      profileDir: profileDelivery ? undefined : profileDir,
      paused: true,
    });
    const ingest = await ingestBoth(paused, target, plan.durationMs);
    const ingestCalls = await status(paused);
    await paused.stop();
    rmSync(ingestDir, { recursive: true, force: true });

    await seed(dataDir, 'datasync-error-503', plan.replay, target.url);
    const pipeline = await startPipeline(dataDir, { profileDir: profileDelivery ? profileDir : undefined });
    // Ingest while the same process delivers everything it accepts.
    const ingestWhileDelivering = await load(
      `${pipeline.url}/api/stream/sync`,
      JSON.stringify(message(target.url, 0)),
      CONNECTIONS,
      plan.durationMs,
      TOKEN,
    );
    await until(async () => (await status(pipeline)).consumer.backlog === 0);

    await fetch(`${target.url}/__reset`, { method: 'POST' });
    const deliveryStarted = process.hrtime.bigint();
    for (let sent = 0; sent < plan.deliver; sent += 400) {
      await Promise.all(
        [0, 100, 200, 300].map((offset) =>
          postJson(
            `${pipeline.url}/api/stream/sync`,
            Array.from({ length: 100 }, (_, i) => message(target.url, sent + offset + i, false)),
          ),
        ),
      );
    }
    await until(async () => (await targetCount(target)).distinct >= plan.deliver);
    const deliveredPerSecond = round(
      plan.deliver / (Number(process.hrtime.bigint() - deliveryStarted) / 1e9),
    );

    const replay = await replayAll(pipeline, 'datasync-error-503', -1, 1000);
    const ingested = ingest.single.requests + ingest.batch100.requests * 100;
    const peakMiB = peakMemoryMiB(pipeline.process.pid as number);
    await pipeline.stop();

    const bareClient = await runChild<{ elapsedMs: number }>('bench/children/bare-client.ts', {
      BENCH_TARGET_URL: target.url,
      BENCH_MESSAGES: String(plan.deliver),
      BENCH_CONCURRENCY: String(DISPATCH_CONCURRENCY),
    });
    const bareDeliveredPerSecond = round(plan.deliver / (bareClient.elapsedMs / 1000));

    const hangingScenario = await healthyBehindHanging(target, plan.hangingBacklog);
    const killScenario = await duplicatesAfterKill(target, plan.killMessages);
    const small = await growth(target, plan.small);
    const large = await growth(target, plan.large);

    const results = {
      at: new Date().toISOString(),
      quick,
      targetLatencyMs: latencyMs,
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      ingest: {
        single: {
          pipeline: ingest.single,
          bare: bareIngest.single,
          ratio: ratio(ingest.single, bareIngest.single),
        },
        batch100: {
          pipeline: ingest.batch100,
          bare: bareIngest.batch100,
          ratio: ratio(ingest.batch100, bareIngest.batch100),
        },
        singleWhileDelivering: {
          pipeline: ingestWhileDelivering,
          bare: bareIngest.single,
          ratio: ratio(ingestWhileDelivering, bareIngest.single),
        },
      },
      delivery: {
        messages: plan.deliver,
        pipelinePerSecond: deliveredPerSecond,
        bareClientPerSecond: bareDeliveredPerSecond,
        ratio: round2(deliveredPerSecond / bareDeliveredPerSecond),
      },
      replay: { messages: replay.handled, perSecond: replay.perSecond },
      healthyBehindHanging: hangingScenario,
      killDuringDelivery: killScenario,
      peakMemoryMiB: peakMiB,
      secretStoreCallsPerMessage: round2(
        (ingestCalls.secretStoreCalls.reads + ingestCalls.secretStoreCalls.writes) / Math.max(1, ingested),
      ),
      growth: {
        small,
        large,
        ingestChange: round2(large.ingestPerSecond / small.ingestPerSecond - 1),
        replayChange: round2(large.replayFromOffsetPerSecond / small.replayFromOffsetPerSecond - 1),
      },
      profile: profileDir ? profileSummary(profileDir) : undefined,
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `${results.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2));
    printTable(results);
    process.stdout.write(`\nwritten to ${file}\n`);
  } finally {
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function ratio(pipeline: LoadResult, bare: LoadResult): number {
  return round2(pipeline.perSecond / bare.perSecond);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function printTable(r: {
  ingest: Record<
    'single' | 'batch100' | 'singleWhileDelivering',
    { pipeline: LoadResult; bare: LoadResult; ratio: number }
  >;
  delivery: { pipelinePerSecond: number; bareClientPerSecond: number; ratio: number };
  replay: { perSecond: number };
  healthyBehindHanging: { backlog: number; healthyDeliveredMs: number };
  killDuringDelivery: { messages: number; duplicates: number; inFlightBound: number };
  peakMemoryMiB?: number;
  secretStoreCallsPerMessage: number;
  growth: {
    small: { retained: number; ingestPerSecond: number; replayFromOffsetPerSecond: number };
    large: { retained: number; ingestPerSecond: number; replayFromOffsetPerSecond: number };
    ingestChange: number;
    replayChange: number;
  };
  profile?: string[];
}) {
  const rows: string[][] = [
    ['measure', 'pipeline', 'baseline', 'ratio', 'goal'],
    ...(['single', 'batch100', 'singleWhileDelivering'] as const).map((kind) => [
      `ingest ${kind} req/s (p50/p99 ms)`,
      `${r.ingest[kind].pipeline.perSecond} (${r.ingest[kind].pipeline.p50Ms}/${r.ingest[kind].pipeline.p99Ms})`,
      `${r.ingest[kind].bare.perSecond} (${r.ingest[kind].bare.p50Ms}/${r.ingest[kind].bare.p99Ms})`,
      String(r.ingest[kind].ratio),
      '>= 0.5',
    ]),
    [
      'delivered msg/s end to end',
      String(r.delivery.pipelinePerSecond),
      String(r.delivery.bareClientPerSecond),
      String(r.delivery.ratio),
      '>= 0.8',
    ],
    ['replay msg/s', String(r.replay.perSecond), '', '', ''],
    [
      `10 to a healthy target behind ${r.healthyBehindHanging.backlog} for a hanging one, ms`,
      String(r.healthyBehindHanging.healthyDeliveredMs),
      '',
      '',
      'a few seconds',
    ],
    [
      `repeated calls after kill -9 (${r.killDuringDelivery.messages} messages)`,
      String(r.killDuringDelivery.duplicates),
      '',
      '',
      `<= ${r.killDuringDelivery.inFlightBound}`,
    ],
    ['peak memory MiB', String(r.peakMemoryMiB ?? 'n/a'), '', '', ''],
    ['secret-store calls / message', String(r.secretStoreCallsPerMessage), '', '', '~0'],
    [
      `ingest req/s, ${r.growth.small.retained} vs ${r.growth.large.retained} retained`,
      String(r.growth.large.ingestPerSecond),
      String(r.growth.small.ingestPerSecond),
      String(r.growth.ingestChange),
      '> -0.10',
    ],
    [
      `replay-from-offset msg/s, ${r.growth.small.retained} vs ${r.growth.large.retained}`,
      String(r.growth.large.replayFromOffsetPerSecond),
      String(r.growth.small.replayFromOffsetPerSecond),
      String(r.growth.replayChange),
      '> -0.10',
    ],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  for (const row of rows)
    process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}\n`);
  if (r.profile) process.stdout.write(`\nprofile (self time, pipeline process):\n${r.profile.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exit(1);
});
