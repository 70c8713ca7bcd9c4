import { loadConfig } from '../config/config';
import { ConfigError } from '../config/env-reader';
import { JsonLogger } from '../logging/json-logger';
import { EmbeddedApp } from './embedded-app';
import { LocalServer } from './local-server';

const EXPIRY_INTERVAL_MS = 60_000;

/** `npm start`: the pipeline on embedded backends, serving `http://127.0.0.1:7071/api/...`. */
async function main(): Promise<void> {
  const log = new JsonLogger();
  let config;
  try {
    config = loadConfig(process.env);
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
  if (config.apiKey === undefined) {
    log.warn('security.no_api_key', {
      message: 'DATASYNC_API_KEY is not set: the local endpoints are open to this machine',
    });
  }

  const app = new EmbeddedApp(config, log);
  await app.start();
  const server = new LocalServer(
    app.api,
    {
      maxBodyBytes: config.limits.maxBodyBytes,
      maxBufferedBytes: config.local.maxBufferedBytes,
      allowedHosts: config.local.allowedHosts,
    },
    log,
  );
  const port = await server.listen(config.local.port);
  app.expireOldData();
  const expiry = setInterval(() => app.expireOldData(), EXPIRY_INTERVAL_MS);
  log.info('host.started', {
    url: `http://127.0.0.1:${port}/api/stream`,
    dataDir: config.local.dataDir,
    port,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('host.stopping', { signal });
    clearInterval(expiry);
    await server.close();
    await app.stop(config.dispatch.timeoutMs + 1000);
    log.info('host.stopped', {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

void main();
