import http from 'node:http';

/**
 * The delivery ceiling: the same target calls the pipeline makes (POST, JSON body, an
 * Idempotency-Key) at the same concurrency over keep-alive, with nothing else. Prints elapsed ms.
 */
const target = process.env.BENCH_TARGET_URL as string;
const total = Number(process.env.BENCH_MESSAGES);
const concurrency = Number(process.env.BENCH_CONCURRENCY);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function call(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ orderid: `o-${i}`, PO: '18jan' });
    const req = http.request(
      `${target}/orders`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'idempotency-key': `bare-${i}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await call(next++);
    }),
  );
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${JSON.stringify({ elapsedMs })}\n`);
  agent.destroy();
}

void main();
