import { CONFIG_KEYS } from '../shared/config/config';

/** Inputs of the stack itself (names, SKUs, e-mails, the package): never app settings. */
export const INFRA_KEYS = [
  'DATASYNC_LOCATION',
  'DATASYNC_PREFIX',
  'DATASYNC_NAME_SUFFIX',
  'DATASYNC_ALERT_EMAILS',
  'DATASYNC_SERVICEBUS_SKU',
  'DATASYNC_PLAN_SKU',
  'DATASYNC_MAX_DELIVERY_COUNT',
  'DATASYNC_PACKAGE',
] as const;

/**
 * App settings the stack writes itself (from the resources it creates; private targets always
 * refused); a value given at synth time would be overwritten, so it is refused.
 */
export const STACK_OWNED_KEYS = [
  'DATASYNC_MODE',
  'DATASYNC_KEYVAULT_URL',
  'DATASYNC_ARCHIVE_ACCOUNT_URL',
  'DATASYNC_ARCHIVE_CONNECTION_STRING',
  'DATASYNC_ARCHIVE_CONTAINER',
  'DATASYNC_ALERT_TOPIC',
  'DATASYNC_STATE_TABLE',
  'DATASYNC_ALLOW_PRIVATE_TARGETS',
] as const;

/**
 * Settings of the local host only. They are not deployed: two are secrets (`DATASYNC_SECRET_KEY`,
 * `DATASYNC_API_KEY`; app settings and Terraform state are no place for them), the others mean
 * nothing to the Functions host (data directory, Host header guard, body buffering, pause).
 */
export const LOCAL_ONLY_KEYS = [
  'DATASYNC_DATA_DIR',
  'DATASYNC_SECRET_KEY',
  'DATASYNC_API_KEY',
  'DATASYNC_SECRET_MAX_IDLE_DAYS',
  'DATASYNC_DISPATCH_PAUSED',
  'DATASYNC_ALLOWED_HOSTS',
  'DATASYNC_MAX_BUFFERED_BYTES',
] as const;

export interface SortedSettings {
  /** `DATASYNC_*` app settings to deploy as given. */
  app: Record<string, string>;
  /** Local-only settings that were present and are not deployed. */
  skipped: string[];
  /** `DATASYNC_*` names nobody reads (typos). */
  unknown: string[];
  /** Stack-owned settings that were given anyway. */
  stackOwned: string[];
}

const includes = (list: readonly string[], key: string) => list.includes(key);

/** Sorts the `DATASYNC_*` variables present at synth time by who reads them. */
export function sortSettings(env: Record<string, string | undefined>): SortedSettings {
  const sorted: SortedSettings = { app: {}, skipped: [], unknown: [], stackOwned: [] };
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('DATASYNC_') || value === undefined || value === '') continue;
    if (includes(INFRA_KEYS, key)) continue;
    if (includes(STACK_OWNED_KEYS, key)) sorted.stackOwned.push(key);
    else if (includes(LOCAL_ONLY_KEYS, key)) sorted.skipped.push(key);
    else if (includes(CONFIG_KEYS, key)) sorted.app[key] = value;
    else sorted.unknown.push(key);
  }
  return sorted;
}
