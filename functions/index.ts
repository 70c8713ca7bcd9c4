import { app } from '@azure/functions';
import { loadConfig } from '../shared/config/config';
import { createAzureRuntime } from './azure-runtime';
import { httpFunctions } from './http-functions';
import { readFunction } from './read-function';
import type { Runtime } from './runtime';

/**
 * Entry point named by package.json `main`. The configuration is read at load so a missing
 * setting fails the worker at start with the setting's name; Azure clients are created once.
 */
const config = loadConfig({ DATASYNC_MODE: 'azure', ...process.env });
let runtime: Runtime | undefined;
const getRuntime = () => (runtime ??= createAzureRuntime(config));

const http = httpFunctions(getRuntime);
app.http('sync', http.sync);
app.http('retry', http.retry);
app.http('status', http.status);
app.http('connection', http.connection);
app.hook.appTerminate(async () => {
  await runtime?.close();
});
app.serviceBusQueue(
  'read',
  readFunction(getRuntime, { queueName: config.mainStream, ordering: config.azure?.ordering ?? true }),
);
