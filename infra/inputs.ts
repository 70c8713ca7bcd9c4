import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, SERVICE_BUS_NAMESPACE_SETTING, type AzureConfig } from '../shared/config/config';
import { ErrorRouting } from '../shared/pipeline/error-routing';
import { sortSettings } from './app-settings';
import { names } from './naming';

export const DEDICATED_SKUS = ['B1', 'B2', 'B3', 'S1', 'S2', 'S3', 'P0v3', 'P1v3', 'P2v3', 'P3v3'] as const;

export type ServiceBusSku = 'Standard' | 'Premium';

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
  /** The app's configuration as it will run in Azure, parsed by the app's own `loadConfig`. */
  app: AzureConfig;
  /** The `DATASYNC_*` app settings given at synth time (plus the tier's message limit), deployed as given. */
  appSettings: Record<string, string>;
  /** Local-only settings that were present and are not deployed (reported at synth). */
  skippedSettings: string[];
  /** One queue per distinct stream of the app's error mapping. */
  errorStreams: ErrorStreamInput[];
  retentionDays: number;
  serviceBusSku: ServiceBusSku;
  maxDeliveryCount: number;
  planSku: (typeof DEDICATED_SKUS)[number];
  /** The code package built by `npm run package`. */
  packagePath: string;
}

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const PACKAGE_DIR = '.package';
const KIB = 1024;

/** The largest message each Service Bus tier accepts (Premium: the queues' default maximum). */
export const TIER_MESSAGE_BYTES: Record<ServiceBusSku, number> = { Standard: 256 * KIB, Premium: 1024 * KIB };
/** Room an error record needs beyond the caller's message: properties, the failure, the excerpt. */
export const ERROR_RECORD_HEADROOM_BYTES = 64 * KIB;

/** cdktf context keys (`-c key=value`) accepted for the app settings most often chosen per deployment. */
const CONTEXT_SETTINGS: Record<string, string> = {
  errorMapping: 'DATASYNC_ERROR_MAPPING',
  retentionDays: 'DATASYNC_RETENTION_DAYS',
  targetAllowlist: 'DATASYNC_TARGET_ALLOWLIST',
  mainStream: 'DATASYNC_MAIN_STREAM',
  ordering: 'DATASYNC_ORDERING',
};

/**
 * Inputs from environment variables or cdktf context (`-c key=value` style, via `context`). Every
 * `DATASYNC_*` app setting present is deployed and validated by the app's own `loadConfig`, exactly
 * as the app will read it; a name nobody reads stops the synth.
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
  const maxDeliveryCount = Number(value('DATASYNC_MAX_DELIVERY_COUNT', 'maxDeliveryCount') ?? '10');
  if (!Number.isInteger(maxDeliveryCount) || maxDeliveryCount < 1 || maxDeliveryCount > 2000) {
    throw new InputError('DATASYNC_MAX_DELIVERY_COUNT must be an integer from 1 to 2000');
  }

  const n = names({ prefix, suffix });
  const { appSettings, skipped } = deployableSettings(env, context, serviceBusSku);
  // The app's own parser, fed what the app will see in Azure: the settings given plus the stack's own.
  const app = loadConfig(
    {
      ...appSettings,
      [SERVICE_BUS_NAMESPACE_SETTING]: `${n.serviceBusNamespace}.servicebus.windows.net`,
      DATASYNC_KEYVAULT_URL: `https://${n.keyVault}.vault.azure.net/`,
      DATASYNC_ARCHIVE_ACCOUNT_URL: `https://${n.archiveStorage}.blob.core.windows.net/`,
    },
    'azure',
  );
  const messageLimit = TIER_MESSAGE_BYTES[serviceBusSku] - ERROR_RECORD_HEADROOM_BYTES;
  if (app.limits.maxMessageBytes > messageLimit) {
    throw new InputError(
      `DATASYNC_MAX_MESSAGE_BYTES must be at most ${messageLimit} on Service Bus ${serviceBusSku} ` +
        `(its ${TIER_MESSAGE_BYTES[serviceBusSku]}-byte message limit less ${ERROR_RECORD_HEADROOM_BYTES} for properties and the error record)`,
    );
  }
  const routing = new ErrorRouting(app.errorMapping);

  return {
    location,
    prefix,
    suffix,
    alertEmails,
    app,
    appSettings,
    skippedSettings: skipped,
    errorStreams: routing.streams().map((name) => ({ name, unrecoverable: routing.isUnrecoverable(name) })),
    retentionDays: app.retentionMs / (24 * 3600 * 1000),
    serviceBusSku,
    maxDeliveryCount,
    planSku: planSku as DatasyncInputs['planSku'],
    packagePath: resolve(value('DATASYNC_PACKAGE', 'package') ?? latestPackage()),
  };
}

/** The app settings to deploy: every known `DATASYNC_*` setting given, context aliases included. */
function deployableSettings(
  env: Record<string, string | undefined>,
  context: (key: string) => unknown,
  serviceBusSku: ServiceBusSku,
): { appSettings: Record<string, string>; skipped: string[] } {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [contextKey, envName] of Object.entries(CONTEXT_SETTINGS)) {
    const fromContext = context(contextKey);
    if (typeof fromContext === 'string') merged[envName] = fromContext;
  }
  const sorted = sortSettings(merged);
  if (sorted.unknown.length > 0) {
    throw new InputError(
      `unknown setting ${sorted.unknown.join(', ')}: not an app setting nor a stack input`,
    );
  }
  if (sorted.stackOwned.length > 0) {
    throw new InputError(
      `${sorted.stackOwned.join(', ')} ${sorted.stackOwned.length > 1 ? 'are' : 'is'} set by the stack itself; unset ${sorted.stackOwned.length > 1 ? 'them' : 'it'}`,
    );
  }
  // The app's own Azure default fits Standard; Premium messages may be larger.
  if (sorted.app.DATASYNC_MAX_MESSAGE_BYTES === undefined && serviceBusSku === 'Premium') {
    sorted.app.DATASYNC_MAX_MESSAGE_BYTES = String(TIER_MESSAGE_BYTES.Premium - ERROR_RECORD_HEADROOM_BYTES);
  }
  return { appSettings: sorted.app, skipped: sorted.skipped };
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
