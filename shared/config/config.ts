import { z } from 'zod';
import { describeIssues } from '../contract/problems';
import { errorRouteSchema, streamName, type ErrorRoute } from '../contract/retry-request';
import { DEFAULT_SYNC_LIMITS } from '../contract/sync-request';
import { DEFAULT_ERROR_MAPPING, FALLBACK_KEY } from '../pipeline/error-routing';
import type { FailureOrder } from '../pipeline/dispatch';
import type { PopulateLimits } from '../pipeline/populate';
import { parseAllowlistEntry } from '../pipeline/target-allowlist';
import type { RetryPolicy } from '../pipeline/retry-policy';
import { ConfigError, EnvReader } from './env-reader';

export const DEFAULTS = {
  port: 7071,
  dataDir: './.datasync',
  mainStream: 'datasync',
  maxMessageBytes: 256 * 1024,
  /**
   * Service Bus Standard caps a message at 256 KiB including its properties, and an error record
   * (the message plus its failure) must still fit: 192 KiB leaves that room. Premium: raise it.
   */
  azureMaxMessageBytes: 192 * 1024,
  maxBatch: 500,
  maxBodyBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  timeoutMs: 30_000,
  concurrency: 32,
  perHostConcurrency: 8,
  maxAttempts: 10,
  autoRetries: 3,
  retryBaseMs: 1000,
  retryMaxDelayMs: 5 * 60_000,
  retentionDays: 7,
  secretCacheTtlMs: 5 * 60_000,
  archiveContainer: 'datasync-archive',
  alertTopic: 'datasync-alerts',
  secretPrefix: 'ds-',
  onFailure: 'hold',
  heldAlertMinutes: 15,
  storageRetryBoundMs: 60_000,
  breakerThreshold: 5,
  breakerOpenMs: 5_000,
  idempotencyWindowHours: 24,
  stateTable: 'datasyncstate',
  replayBudgetMs: 60_000,
} as const;

/** The Functions binding's connection settings (identity-based first, connection string as fallback). */
export const SERVICE_BUS_NAMESPACE_SETTING = 'ServiceBusConnection__fullyQualifiedNamespace';
export const SERVICE_BUS_CONNECTION_STRING_SETTING = 'ServiceBusConnection';

/** The Azure services the Functions host runs on. */
export interface AzureSettings {
  serviceBus: { fullyQualifiedNamespace?: string; connectionString?: string };
  keyVaultUrl: string;
  archive: { accountUrl?: string; connectionString?: string; container: string };
  /** Message states: a table in the archive's storage account. */
  stateTable: { url?: string; connectionString?: string; name: string };
  alertTopic: string;
  secretPrefix: string;
  /** Sessions on the main queue: per-streamKey order. */
  ordering: boolean;
  /** Shared sessions for messages without a `streamKey` (one per message would stall the trigger). */
  unorderedSessions: number;
}

/** The embedded backends and local server of `npm start`. */
export interface LocalSettings {
  port: number;
  /** Host header values served besides loopback names and addresses (DNS-rebinding guard). */
  allowedHosts: string[];
  /** Request body bytes buffered across all connections at once. */
  maxBufferedBytes: number;
  dataDir: string;
  secretKey?: Buffer;
  /** 0: never delete. */
  secretMaxIdleDays: number;
  dispatchPaused: boolean;
  /** When set, every local endpoint requires it in `x-functions-key` (on Azure, function keys do). */
  apiKey?: string;
}

/** Settings both hosts read. */
interface CommonConfig {
  mainStream: string;
  errorMapping: ErrorRoute[];
  limits: PopulateLimits & { maxBodyBytes: number };
  dispatch: {
    concurrency: number;
    perHostConcurrency: number;
    timeoutMs: number;
    maxAttempts: number;
    /** Hold the later messages of a key while one has failed (`hold`), or let them go (`continue`). */
    onFailure: FailureOrder;
    /** How long an outcome that cannot be recorded is retried before the message is parked. */
    storageRetryBoundMs: number;
    /** In-flight deliveries get this long to finish when the host stops. */
    stopGraceMs: number;
    /** Failures in a row that open a target's breaker, and how long it first stays open. */
    breaker: { threshold: number; openMs: number };
  };
  /** A key held longer than this raises an alert. */
  heldAlertMs: number;
  /** A retry call starts no new delivery after this long and answers its progress (HTTP front ends cut at 230 s). */
  replayBudgetMs: number;
  /** How long an ingest `Idempotency-Key` is remembered. */
  idempotencyWindowMs: number;
  retry: RetryPolicy;
  targets: { allowlist: string[]; allowPrivate: boolean };
  secretCacheTtlMs: number;
  retentionMs: number;
  /** Serve `/api/echo`, the smoke test's target (off by default). */
  echoEnabled: boolean;
}

export interface LocalConfig extends CommonConfig {
  mode: 'local';
  local: LocalSettings;
}

export interface AzureConfig extends CommonConfig {
  mode: 'azure';
  azure: AzureSettings;
}

/** The one configuration, read from the environment by `loadConfig`; its `mode` says which host it is for. */
export type Config = LocalConfig | AzureConfig;

export type Mode = Config['mode'];

export const CONFIG_KEYS = [
  'DATASYNC_MODE',
  'DATASYNC_DATA_DIR',
  'DATASYNC_MAIN_STREAM',
  'DATASYNC_ERROR_MAPPING',
  'DATASYNC_MAX_MESSAGE_BYTES',
  'DATASYNC_MAX_BATCH',
  'DATASYNC_MAX_BODY_BYTES',
  'DATASYNC_MAX_BUFFERED_BYTES',
  'DATASYNC_ALLOWED_HOSTS',
  'DATASYNC_TARGET_TIMEOUT_MS',
  'DATASYNC_DISPATCH_CONCURRENCY',
  'DATASYNC_PER_HOST_CONCURRENCY',
  'DATASYNC_MAX_ATTEMPTS',
  'DATASYNC_AUTO_RETRIES',
  'DATASYNC_RETRY_BASE_MS',
  'DATASYNC_RETRY_MAX_DELAY_MS',
  'DATASYNC_TARGET_ALLOWLIST',
  'DATASYNC_ALLOW_PRIVATE_TARGETS',
  'DATASYNC_RETENTION_DAYS',
  'DATASYNC_SECRET_CACHE_TTL_MS',
  'DATASYNC_API_KEY',
  'DATASYNC_SECRET_KEY',
  'DATASYNC_SECRET_MAX_IDLE_DAYS',
  'DATASYNC_DISPATCH_PAUSED',
  'DATASYNC_ECHO_ENABLED',
  'DATASYNC_KEYVAULT_URL',
  'DATASYNC_ARCHIVE_ACCOUNT_URL',
  'DATASYNC_ARCHIVE_CONNECTION_STRING',
  'DATASYNC_ARCHIVE_CONTAINER',
  'DATASYNC_ALERT_TOPIC',
  'DATASYNC_SECRET_PREFIX',
  'DATASYNC_ORDERING',
  'DATASYNC_UNORDERED_SESSIONS',
  'DATASYNC_ON_FAILURE_ORDER',
  'DATASYNC_HELD_ALERT_MINUTES',
  'DATASYNC_STORAGE_RETRY_BOUND_MS',
  'DATASYNC_STOP_GRACE_MS',
  'DATASYNC_IDEMPOTENCY_WINDOW_HOURS',
  'DATASYNC_BREAKER_THRESHOLD',
  'DATASYNC_BREAKER_OPEN_MS',
  'DATASYNC_STATE_TABLE',
  'DATASYNC_REPLAY_BUDGET_MS',
] as const;

/**
 * Builds the configuration of a host (`local` for `npm start`, `azure` for the Functions host and the
 * infra) from the environment; throws ConfigError naming the variable. `DATASYNC_MODE`, when set,
 * must agree with the host.
 */
export function loadConfig(env: Record<string, string | undefined>, host: 'local'): LocalConfig;
export function loadConfig(env: Record<string, string | undefined>, host: 'azure'): AzureConfig;
export function loadConfig(env: Record<string, string | undefined>, host: Mode): Config;
export function loadConfig(env: Record<string, string | undefined>, host: Mode): Config {
  const read = new EnvReader(env);
  const unknown = read.unknownKeys('DATASYNC_', CONFIG_KEYS);
  if (unknown.length > 0) {
    throw new ConfigError(`unknown setting ${unknown.join(', ')} (known: ${CONFIG_KEYS.join(', ')})`);
  }
  const mode = read.oneOf('DATASYNC_MODE', ['local', 'azure'] as const, host);
  if (mode !== host) {
    throw new ConfigError(
      `DATASYNC_MODE is ${mode}, but this is the ${host === 'local' ? 'local host (npm start)' : 'Azure Functions host'}`,
    );
  }
  const mainStream = read.string('DATASYNC_MAIN_STREAM', DEFAULTS.mainStream);
  if (!streamName.safeParse(mainStream).success) {
    throw new ConfigError(
      `DATASYNC_MAIN_STREAM must be a stream name (letters, digits, . _ -), got "${mainStream}"`,
    );
  }
  const concurrency = read.positiveInt('DATASYNC_DISPATCH_CONCURRENCY', DEFAULTS.concurrency);
  const timeoutMs = read.positiveInt('DATASYNC_TARGET_TIMEOUT_MS', DEFAULTS.timeoutMs);
  const secretCacheTtlMs = read.int('DATASYNC_SECRET_CACHE_TTL_MS', DEFAULTS.secretCacheTtlMs, 0);
  const azure = mode === 'azure' ? readAzure(read, concurrency) : undefined;
  const common: CommonConfig = {
    mainStream,
    errorMapping: readErrorMapping(read),
    limits: {
      ...DEFAULT_SYNC_LIMITS,
      maxSecretName: DEFAULT_SYNC_LIMITS.maxSecretName - (azure?.secretPrefix.length ?? 0),
      maxMessageBytes: read.positiveInt(
        'DATASYNC_MAX_MESSAGE_BYTES',
        mode === 'azure' ? DEFAULTS.azureMaxMessageBytes : DEFAULTS.maxMessageBytes,
      ),
      maxBatch: read.positiveInt('DATASYNC_MAX_BATCH', DEFAULTS.maxBatch),
      maxBodyBytes: read.positiveInt('DATASYNC_MAX_BODY_BYTES', DEFAULTS.maxBodyBytes),
    },
    dispatch: {
      concurrency,
      perHostConcurrency: Math.min(
        read.positiveInt('DATASYNC_PER_HOST_CONCURRENCY', DEFAULTS.perHostConcurrency),
        concurrency,
      ),
      timeoutMs,
      maxAttempts: read.positiveInt('DATASYNC_MAX_ATTEMPTS', DEFAULTS.maxAttempts),
      onFailure: read.oneOf('DATASYNC_ON_FAILURE_ORDER', ['hold', 'continue'] as const, DEFAULTS.onFailure),
      storageRetryBoundMs: read.positiveInt('DATASYNC_STORAGE_RETRY_BOUND_MS', DEFAULTS.storageRetryBoundMs),
      stopGraceMs: read.positiveInt('DATASYNC_STOP_GRACE_MS', timeoutMs + 1000),
      breaker: {
        threshold: read.positiveInt('DATASYNC_BREAKER_THRESHOLD', DEFAULTS.breakerThreshold),
        openMs: read.positiveInt('DATASYNC_BREAKER_OPEN_MS', DEFAULTS.breakerOpenMs),
      },
    },
    heldAlertMs: read.int('DATASYNC_HELD_ALERT_MINUTES', DEFAULTS.heldAlertMinutes, 0) * 60_000,
    replayBudgetMs: read.int('DATASYNC_REPLAY_BUDGET_MS', DEFAULTS.replayBudgetMs, 1000, 200_000),
    idempotencyWindowMs:
      read.positiveInt('DATASYNC_IDEMPOTENCY_WINDOW_HOURS', DEFAULTS.idempotencyWindowHours) * 3600_000,
    retry: {
      autoRetries: read.int('DATASYNC_AUTO_RETRIES', DEFAULTS.autoRetries, 0, 100),
      baseDelayMs: read.positiveInt('DATASYNC_RETRY_BASE_MS', DEFAULTS.retryBaseMs),
      maxDelayMs: read.positiveInt('DATASYNC_RETRY_MAX_DELAY_MS', DEFAULTS.retryMaxDelayMs),
    },
    targets: {
      allowlist: readAllowlist(read),
      allowPrivate: read.boolean('DATASYNC_ALLOW_PRIVATE_TARGETS', mode === 'local'),
    },
    secretCacheTtlMs,
    retentionMs: read.positiveInt('DATASYNC_RETENTION_DAYS', DEFAULTS.retentionDays) * 24 * 3600 * 1000,
    echoEnabled: read.boolean('DATASYNC_ECHO_ENABLED', false),
  };
  return azure
    ? { mode: 'azure', ...common, azure }
    : { mode: 'local', ...common, local: readLocal(read, env, secretCacheTtlMs) };
}

function readLocal(
  read: EnvReader,
  env: Record<string, string | undefined>,
  secretCacheTtlMs: number,
): LocalSettings {
  const secretMaxIdleDays = read.int('DATASYNC_SECRET_MAX_IDLE_DAYS', 0, 0);
  // A cached secret is not read from the store, so its idle clock stands still: with a TTL as long as
  // the idle period, a secret deleted as idle could still be served from the cache.
  if (secretMaxIdleDays > 0 && secretCacheTtlMs >= secretMaxIdleDays * 86_400_000) {
    throw new ConfigError(
      `DATASYNC_SECRET_CACHE_TTL_MS (${secretCacheTtlMs}) must be shorter than DATASYNC_SECRET_MAX_IDLE_DAYS (${secretMaxIdleDays} days)`,
    );
  }
  return {
    port: read.int('PORT', DEFAULTS.port, 0, 65535),
    allowedHosts: read.list('DATASYNC_ALLOWED_HOSTS', []).map((host) => host.toLowerCase()),
    maxBufferedBytes: read.positiveInt('DATASYNC_MAX_BUFFERED_BYTES', DEFAULTS.maxBufferedBytes),
    dataDir: read.string('DATASYNC_DATA_DIR', DEFAULTS.dataDir),
    secretKey: readSecretKey(read),
    dispatchPaused: read.boolean('DATASYNC_DISPATCH_PAUSED', false),
    secretMaxIdleDays,
    apiKey: readApiKey(env),
  };
}

function readAzure(read: EnvReader, concurrency: number): AzureSettings {
  const fullyQualifiedNamespace = read.optional(SERVICE_BUS_NAMESPACE_SETTING);
  const connectionString = read.optional(SERVICE_BUS_CONNECTION_STRING_SETTING);
  if (!fullyQualifiedNamespace && !connectionString) {
    throw new ConfigError(
      `${SERVICE_BUS_NAMESPACE_SETTING} is required in Azure mode (or ${SERVICE_BUS_CONNECTION_STRING_SETTING} with a connection string)`,
    );
  }
  const accountUrl = read.optional('DATASYNC_ARCHIVE_ACCOUNT_URL');
  const archiveConnection = read.optional('DATASYNC_ARCHIVE_CONNECTION_STRING');
  if (!accountUrl && !archiveConnection) {
    throw new ConfigError(
      'DATASYNC_ARCHIVE_ACCOUNT_URL is required in Azure mode (or DATASYNC_ARCHIVE_CONNECTION_STRING)',
    );
  }
  const secretPrefix = read.string('DATASYNC_SECRET_PREFIX', DEFAULTS.secretPrefix);
  if (!/^[0-9A-Za-z-]{0,16}$/.test(secretPrefix)) {
    throw new ConfigError('DATASYNC_SECRET_PREFIX must be at most 16 characters of 0-9, A-Z, a-z and -');
  }
  return {
    serviceBus: {
      fullyQualifiedNamespace,
      connectionString: fullyQualifiedNamespace ? undefined : connectionString,
    },
    keyVaultUrl: httpsUrl(read, 'DATASYNC_KEYVAULT_URL'),
    archive: {
      accountUrl,
      connectionString: accountUrl ? undefined : archiveConnection,
      container: read.string('DATASYNC_ARCHIVE_CONTAINER', DEFAULTS.archiveContainer),
    },
    stateTable: {
      // The same account's table endpoint: https://<account>.blob.core… → https://<account>.table.core…
      ...(accountUrl
        ? { url: accountUrl.replace('.blob.', '.table.') }
        : { connectionString: archiveConnection }),
      name: stateTableName(read),
    },
    alertTopic: read.string('DATASYNC_ALERT_TOPIC', DEFAULTS.alertTopic),
    secretPrefix,
    ordering: read.boolean('DATASYNC_ORDERING', true),
    // As many as the trigger holds at once (the dispatch concurrency), so keyless messages can fill every slot.
    unorderedSessions: read.int('DATASYNC_UNORDERED_SESSIONS', concurrency, 1, 1000),
  };
}

function stateTableName(read: EnvReader): string {
  const name = read.string('DATASYNC_STATE_TABLE', DEFAULTS.stateTable);
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)) {
    throw new ConfigError('DATASYNC_STATE_TABLE must be 3-63 letters and digits, starting with a letter');
  }
  return name;
}

function httpsUrl(read: EnvReader, name: string): string {
  const value = read.required(name);
  if (!/^https:\/\/[^/]+/.test(value)) throw new ConfigError(`${name} must be an https URL, got "${value}"`);
  return value;
}

function readErrorMapping(read: EnvReader): ErrorRoute[] {
  const raw = read.json('DATASYNC_ERROR_MAPPING');
  if (raw === undefined) return DEFAULT_ERROR_MAPPING;
  const result = z.array(errorRouteSchema).min(1).safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      `DATASYNC_ERROR_MAPPING is invalid: ${describeIssues(result.error.issues).join('; ')}`,
    );
  }
  if (!result.data.some((route) => route.responsecode === FALLBACK_KEY)) {
    throw new ConfigError(
      `DATASYNC_ERROR_MAPPING needs an entry for "${FALLBACK_KEY}" (the fallback stream)`,
    );
  }
  return result.data;
}

function readAllowlist(read: EnvReader): string[] {
  const entries = read.list('DATASYNC_TARGET_ALLOWLIST', ['*']);
  const malformed = entries.filter((entry) => parseAllowlistEntry(entry) === undefined);
  if (malformed.length > 0) {
    throw new ConfigError(
      `DATASYNC_TARGET_ALLOWLIST has entries that are not [http(s)://]host[:port] (host may be * or *.domain): ${malformed.map((entry) => `"${entry}"`).join(', ')}`,
    );
  }
  return entries;
}

/** Set but empty would silently mean "no key"; unset is the explicit choice. */
function readApiKey(env: Record<string, string | undefined>): string | undefined {
  const raw = env.DATASYNC_API_KEY;
  if (raw === undefined) return undefined;
  if (raw.trim() === '') {
    throw new ConfigError(
      'DATASYNC_API_KEY is set but empty: give it a value, or unset it to run without a key',
    );
  }
  return raw;
}

function readSecretKey(read: EnvReader): Buffer | undefined {
  const raw = read.optional('DATASYNC_SECRET_KEY');
  if (raw === undefined) return undefined;
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError('DATASYNC_SECRET_KEY must be 32 bytes, base64-encoded');
  return key;
}
