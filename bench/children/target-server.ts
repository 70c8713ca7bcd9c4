import http from 'node:http';

/**
 * A target with configurable latency that counts what arrives; GET /__count, POST /__reset.
 * BENCH_TARGET_HANG=true: it never answers (a hanging target).
 */
const latencyMs = Number(process.env.BENCH_TARGET_LATENCY_MS ?? '0');
const hang = process.env.BENCH_TARGET_HANG === 'true';
let count = 0;
const ids = new Set<string>();

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.url === '/__count') return res.end(JSON.stringify({ count, distinct: ids.size }));
    if (req.url === '/__reset') {
      count = 0;
      ids.clear();
      return res.end('{}');
    }
    count += 1;
    const id = req.headers['idempotency-key'];
    if (typeof id === 'string') ids.add(id);
    if (hang) return;
    const status = req.url?.startsWith('/missing') ? 404 : 200;
    const answer = () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening ${address.port}\n`);
});
