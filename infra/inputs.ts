import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../shared/config/config';
import type { ErrorRoute } from '../shared/contract/retry-request';
import { ErrorRouting } from '../shared/pipeline/error-routing';

export const DEDICATED_SKUS = ['B1', 'B2', 'B3', 'S1', 'S2', 'S3', 'P0v3', 'P1v3', 'P2v3', 'P3v3'] as const;

export interface ErrorStreamInput {
  name: string;
  unrecoverable: boolean;
}

/** Everything a user chooses, typed, with safe defaults. */
export interface DatasyncInputs {
  location: string;
  /** 3-10 lowercase letters and digits; every resource is named from it. */
  prefix: string;
  /** Makes globally unique names (storage, vault, namespace, app) unique; derived from prefix + location by default. */
  suffix: string;
  alertEmails: string[];
  mainStream: string;
  /** The app's error mapping; one queue per distinct stream. */
  errorMapping: ErrorRoute[];
  errorStreams: ErrorStreamInput[];
  retentionDays: number;
  targetAllowlist: string[];
  serviceBusSku: 'Standard' | 'Premium';
  ordering: boolean;
  maxDeliveryCount: number;
  planSku: (typeof DEDICATED_SKUS)[number];
  /** The code package built by `npm run package`. */
  packagePath: string;
  /** Every other DATASYNC_* app setting present at synth time, checked by the app's own loadConfig. */
  appSettings: Record<string, string>;
}

/** Settings of the infrastructure itself, not of the app. */
const INFRA_SETTINGS = new Set([
  'DATASYNC_PREFIX',
  'DATASYNC_LOCATION',
  'DATASYNC_NAME_SUFFIX',
  'DATASYNC_ALERT_EMAILS',
  'DATASYNC_SERVICEBUS_SKU',
  'DATASYNC_PLAN_SKU',
  'DATASYNC_MAX_DELIVERY_COUNT',
  'DATASYNC_PACKAGE',
]);

/** Settings the stack itself sets from the resources it creates. */
const SET_BY_THE_STACK = new Set([
  'DATASYNC_MODE',
  'DATASYNC_KEYVAULT_URL',
  'DATASYNC_ARCHIVE_ACCOUNT_URL',
  'DATASYNC_ARCHIVE_CONTAINER',
  'DATASYNC_ALERT_TOPIC',
  'DATASYNC_STATE_TABLE',
]);

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const PACKAGE_DIR = '.package';

/**
 * Inputs from environment variables (the same names the app reads where they are shared, so the
 * infra and the app cannot disagree) or cdktf context (`-c key=value` style, via `context`).
 */
export function readInputs(
  env: Record<string, string | undefined>,
  context: (key: string) => unknown = () => undefined,
): DatasyncInputs {
  const value = (envName: string, contextKey: string) => {
    const fromContext = context(contextKey);
    return typeof fromContext === 'string' ? fromContext : env[envName];
  };
  const prefix = value('DATASYNC_PREFIX', 'prefix') ?? 'datasync';
  if (!/^[a-z][a-z0-9]{2,9}$/.test(prefix)) {
    throw new InputError(
      `DATASYNC_PREFIX must be 3-10 lowercase letters and digits starting with a letter, got "${prefix}"`,
    );
  }
  const location = value('DATASYNC_LOCATION', 'location') ?? 'westeurope';
  const suffix =
    value('DATASYNC_NAME_SUFFIX', 'suffix') ??
    createHash('sha256').update(`${prefix}/${location}`).digest('hex').slice(0, 6);
  if (!/^[a-z0-9]{4,8}$/.test(suffix))
    throw new InputError(`DATASYNC_NAME_SUFFIX must be 4-8 lowercase letters and digits`);

  // Every app setting given at synth goes to the Function App; the app's own parser checks them all
  // now (in Azure mode, with placeholders for what the stack sets), so a typo stops the synth.
  const appSettings: Record<string, string> = {};
  for (const [name, setting] of Object.entries(env)) {
    if (name.startsWith('DATASYNC_') && setting !== undefined && !INFRA_SETTINGS.has(name)) {
      if (SET_BY_THE_STACK.has(name)) throw new InputError(`${name} is set by the stack; do not give it`);
      appSettings[name] = setting;
    }
  }
  for (const [name, contextKey] of [
    ['DATASYNC_ERROR_MAPPING', 'errorMapping'],
    ['DATASYNC_RETENTION_DAYS', 'retentionDays'],
    ['DATASYNC_TARGET_ALLOWLIST', 'targetAllowlist'],
    ['DATASYNC_MAIN_STREAM', 'mainStream'],
  ] as const) {
    const given = value(name, contextKey);
    if (given !== undefined) appSettings[name] = given;
  }
  const app = loadConfig({
    ...appSettings,
    DATASYNC_MODE: 'azure',
    ServiceBusConnection__fullyQualifiedNamespace: 'checked-at-synth.servicebus.windows.net',
    DATASYNC_KEYVAULT_URL: 'https://checked-at-synth.vault.azure.net',
    DATASYNC_ARCHIVE_ACCOUNT_URL: 'https://checkedatsynth.blob.core.windows.net',
  });
  const routing = new ErrorRouting(app.errorMapping);

  const alertEmails = (value('DATASYNC_ALERT_EMAILS', 'alertEmails') ?? '')
    .split(',')
    .map((email) => email.trim())
    .filter(Boolean);
  for (const email of alertEmails) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      throw new InputError(`DATASYNC_ALERT_EMAILS has an invalid address "${email}"`);
  }
  const serviceBusSku = value('DATASYNC_SERVICEBUS_SKU', 'serviceBusSku') ?? 'Standard';
  if (serviceBusSku !== 'Standard' && serviceBusSku !== 'Premium') {
    throw new InputError(
      `DATASYNC_SERVICEBUS_SKU must be Standard or Premium (Basic has no topics or sessions), got "${serviceBusSku}"`,
    );
  }
  const planSku = value('DATASYNC_PLAN_SKU', 'planSku') ?? 'B1';
  if (!(DEDICATED_SKUS as readonly string[]).includes(planSku)) {
    throw new InputError(
      `DATASYNC_PLAN_SKU must be a dedicated plan (${DEDICATED_SKUS.join(', ')}), got "${planSku}": ` +
        'Linux Consumption cannot run a zip-deployed package, and Elastic Premium needs a key-based content share',
    );
  }
  const ordering = value('DATASYNC_ORDERING', 'ordering') ?? 'true';
  if (ordering !== 'true' && ordering !== 'false')
    throw new InputError('DATASYNC_ORDERING must be true or false');
  const maxDeliveryCount = Number(value('DATASYNC_MAX_DELIVERY_COUNT', 'maxDeliveryCount') ?? '10');
  if (!Number.isInteger(maxDeliveryCount) || maxDeliveryCount < 1 || maxDeliveryCount > 2000) {
    throw new InputError('DATASYNC_MAX_DELIVERY_COUNT must be an integer from 1 to 2000');
  }

  return {
    location,
    prefix,
    suffix,
    alertEmails,
    mainStream: app.mainStream,
    errorMapping: app.errorMapping,
    errorStreams: routing.streams().map((name) => ({ name, unrecoverable: routing.isUnrecoverable(name) })),
    retentionDays: app.retentionMs / (24 * 3600 * 1000),
    targetAllowlist: app.targets.allowlist,
    serviceBusSku,
    ordering: ordering === 'true',
    maxDeliveryCount,
    planSku: planSku as DatasyncInputs['planSku'],
    packagePath: resolve(value('DATASYNC_PACKAGE', 'package') ?? latestPackage()),
    appSettings,
  };
}

/** The newest `.package/datasync-<hash>.zip`; a name that changes with the content makes Terraform redeploy. */
function latestPackage(): string {
  const missing = join(PACKAGE_DIR, 'run-npm-run-package-first.zip');
  if (!existsSync(PACKAGE_DIR)) return missing;
  const zips = readdirSync(PACKAGE_DIR)
    .filter((file) => /^datasync-[0-9a-f]+\.zip$/.test(file))
    .map((file) => join(PACKAGE_DIR, file))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return zips[0] ?? missing;
}
