import { app } from '@azure/functions';
import { loadConfig } from '../shared/config/config';
import { createAzureRuntime } from './azure-runtime';
import { echoFunction } from './echo-function';
import { gaugesFunction } from './gauges-function';
import { httpFunctions } from './http-functions';
import { readFunction } from './read-function';
import type { Runtime } from './runtime';

/**
 * Entry point named by package.json `main`. The configuration is read at load so a missing
 * setting fails the worker at start with the setting's name; Azure clients are created once.
 */
const config = loadConfig(process.env, 'azure');
let runtime: Runtime | undefined;
const getRuntime = () => (runtime ??= createAzureRuntime(config));

for (const [name, options] of Object.entries(httpFunctions(getRuntime))) app.http(name, options);
if (config.echoEnabled) app.http('echo', echoFunction());
app.timer('gauges', gaugesFunction(getRuntime));
app.hook.appTerminate(async () => {
  await runtime?.close();
});
app.serviceBusQueue(
  'read',
  readFunction(getRuntime, {
    queueName: config.mainStream,
    ordering: config.azure.ordering,
    backoff: config.retry,
  }),
);
