import { loadConfig } from '../config/config';
import { ConfigError } from '../config/env-reader';
import { JsonLogger } from '../logging/json-logger';
import { DataDirInUseError } from '../adapters/local/sqlite-database';
import { MetricsLogger } from '../metrics/metrics-logger';
import { PrometheusMetrics } from '../metrics/prometheus-metrics';
import { EmbeddedApp } from './embedded-app';
import { EchoTarget } from '../api/echo';
import { LocalServer } from './local-server';
import { operatorRoutes } from './operator-routes';

const HOUSEKEEPING_INTERVAL_MS = 60_000;

/** `npm start`: the pipeline on embedded backends, serving `http://127.0.0.1:7071/api/...`. */
async function main(): Promise<void> {
  const log = new JsonLogger();
  let config;
  try {
    config = loadConfig(process.env, 'local');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`datasync: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  if (config.targets.allowPrivate) {
    log.warn('security.private_targets_allowed', {
      message:
        'DATASYNC_ALLOW_PRIVATE_TARGETS=true: loopback and private targets may be called (local development)',
    });
  }
  if (config.local.apiKey === undefined) {
    log.warn('security.no_api_key', {
      message: 'DATASYNC_API_KEY is not set: the local endpoints are open to this machine',
    });
  }

  // The pipeline logs through the metrics decorator; the gauges read the status report at scrape time.
  const metrics = new PrometheusMetrics(() => app.status(), log);
  let app: EmbeddedApp;
  try {
    app = new EmbeddedApp(config, new MetricsLogger(log, metrics));
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    process.stderr.write(`datasync: ${error.message}\n`);
    process.exit(2);
  }
  await app.start();
  const pages = operatorRoutes(metrics, config.local.apiKey);
  const server = new LocalServer(
    app.api(),
    {
      maxBodyBytes: config.limits.maxBodyBytes,
      maxBufferedBytes: config.local.maxBufferedBytes,
      allowedHosts: config.local.allowedHosts,
      ...(config.echoEnabled ? { echo: new EchoTarget() } : {}),
    },
    log,
    pages,
  );
  const port = await server.listen(config.local.port);
  await app.housekeeping();
  const housekeeping = setInterval(() => void app.housekeeping(), HOUSEKEEPING_INTERVAL_MS);
  log.info('host.started', {
    url: `http://127.0.0.1:${port}/api/stream`,
    dataDir: config.local.dataDir,
    port,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.dispatch.stopGraceMs;
    log.info('host.stopping', { signal, graceMs });
    clearInterval(housekeeping);
    const [cutOff] = await Promise.all([
      app.drain(graceMs, (inFlight) => log.info('host.draining', { inFlight })),
      server.close(),
    ]);
    await app.close();
    log.info('host.stopped', { cutOff });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

void main();
