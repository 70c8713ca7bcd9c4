import { DEFAULTS, loadConfig } from '../../shared/config/config';

describe('loadConfig', () => {
  it('has safe local defaults', () => {
    const config = loadConfig({}, 'local');
    expect(config.mode).toBe('local');
    expect(config.local.port).toBe(7071);
    expect(config.limits.maxMessageBytes).toBe(256 * 1024);
    expect(config.dispatch).toMatchObject({
      concurrency: 32,
      timeoutMs: 30_000,
      maxAttempts: DEFAULTS.maxAttempts,
    });
    expect(config.targets).toEqual({ allowlist: ['*'], allowPrivate: true });
    expect(config.errorMapping.map((route) => route.responsecode)).toEqual(['404', '503', 'unexpectedError']);
  });

  const azureEnv = {
    ServiceBusConnection__fullyQualifiedNamespace: 'ns.servicebus.windows.net',
    DATASYNC_KEYVAULT_URL: 'https://kv.vault.azure.net',
    DATASYNC_ARCHIVE_ACCOUNT_URL: 'https://acct.blob.core.windows.net',
  };

  it('reads the Azure settings, refusing private targets by default', () => {
    const config = loadConfig(azureEnv, 'azure');
    expect(config.mode).toBe('azure');
    expect(config.targets.allowPrivate).toBe(false);
    expect(config.azure).toEqual({
      serviceBus: { fullyQualifiedNamespace: 'ns.servicebus.windows.net' },
      keyVaultUrl: 'https://kv.vault.azure.net',
      archive: { accountUrl: 'https://acct.blob.core.windows.net', container: 'datasync-archive' },
      alertTopic: 'datasync-alerts',
      secretPrefix: 'ds-',
      ordering: true,
      stateTable: { url: 'https://acct.table.core.windows.net', name: 'datasyncstate' },
      unorderedSessions: 32,
    });
    expect(config.limits.maxSecretName).toBe(124);
    expect(config.limits.maxMessageBytes).toBe(192 * 1024);
    expect(config.replayBudgetMs).toBe(60_000);
  });

  it.each([
    [{ DATASYNC_MODE: 'azure' }, /ServiceBusConnection__fullyQualifiedNamespace is required in Azure mode/],
    [{ ...azureEnv, DATASYNC_KEYVAULT_URL: undefined }, /DATASYNC_KEYVAULT_URL is required/],
    [{ ...azureEnv, DATASYNC_KEYVAULT_URL: 'http://kv' }, /DATASYNC_KEYVAULT_URL must be an https URL/],
    [{ ...azureEnv, DATASYNC_ORDERING: 'sometimes' }, /DATASYNC_ORDERING must be true or false/],
    [
      { ...azureEnv, DATASYNC_UNORDERED_SESSIONS: '0' },
      /DATASYNC_UNORDERED_SESSIONS must be an integer from 1/,
    ],
    [{ ...azureEnv, DATASYNC_STATE_TABLE: 'state-table' }, /DATASYNC_STATE_TABLE must be 3-63 letters/],
    [
      { ...azureEnv, DATASYNC_REPLAY_BUDGET_MS: '300000' },
      /DATASYNC_REPLAY_BUDGET_MS must be an integer from 1000 to 200000/,
    ],
  ])('stops Azure mode on a missing or wrong setting (%j)', (env, message) => {
    expect(() => loadConfig(env, 'azure')).toThrow(message);
  });

  it.each([
    [{ DATASYNC_TARGET_TIMEOUT_MS: 'soon' }, /DATASYNC_TARGET_TIMEOUT_MS must be an integer/],
    [{ DATASYNC_DISPATCH_CONCURRENCY: '0' }, /DATASYNC_DISPATCH_CONCURRENCY must be an integer from 1/],
    [{ DATASYNC_ALLOW_PRIVATE_TARGETS: 'maybe' }, /DATASYNC_ALLOW_PRIVATE_TARGETS must be true or false/],
    [{ DATASYNC_ERROR_MAPPING: '{' }, /DATASYNC_ERROR_MAPPING must be JSON/],
    [
      { DATASYNC_ERROR_MAPPING: '[{"responsecode":"404","stream":"e"}]' },
      /needs an entry for "unexpectedError"/,
    ],
    [{ DATASYNC_TIMEOUT_MS: '5' }, /unknown setting DATASYNC_TIMEOUT_MS/],
    [{ DATASYNC_SECRET_KEY: 'c2hvcnQ=' }, /DATASYNC_SECRET_KEY must be 32 bytes/],
    [{ PORT: '70000' }, /PORT must be an integer from 0 to 65535/],
  ])('names the variable when %j is wrong', (env, message) => {
    expect(() => loadConfig(env, 'local')).toThrow(message);
  });

  it('stops on a malformed allow-list entry, naming the setting and the entry', () => {
    expect(() =>
      loadConfig({ DATASYNC_TARGET_ALLOWLIST: 'api.example.com, https://ok.example:8443, ftp://x' }, 'local'),
    ).toThrow(/DATASYNC_TARGET_ALLOWLIST .*"ftp:\/\/x"/);
    expect(
      loadConfig({ DATASYNC_TARGET_ALLOWLIST: 'https://ok.example:8443,host:8080' }, 'local').targets
        .allowlist,
    ).toEqual(['https://ok.example:8443', 'host:8080']);
  });

  it("refuses a DATASYNC_MODE that is not the host's own, and reads only that host's settings", () => {
    expect(() => loadConfig({ DATASYNC_MODE: 'azure' }, 'local')).toThrow(
      'DATASYNC_MODE is azure, but this is the local host (npm start)',
    );
    expect(() => loadConfig({ ...azureEnv, DATASYNC_MODE: 'local' }, 'azure')).toThrow(
      'DATASYNC_MODE is local, but this is the Azure Functions host',
    );
    const azure = loadConfig({ ...azureEnv, DATASYNC_API_KEY: '' }, 'azure');
    expect(azure).not.toHaveProperty('local');
    expect(loadConfig({}, 'local')).not.toHaveProperty('azure');
  });

  it('stops when DATASYNC_API_KEY is set but empty, instead of running without a key', () => {
    expect(() => loadConfig({ DATASYNC_API_KEY: '' }, 'local')).toThrow(/DATASYNC_API_KEY is set but empty/);
    expect(() => loadConfig({ DATASYNC_API_KEY: '  ' }, 'local')).toThrow(
      /DATASYNC_API_KEY is set but empty/,
    );
    expect(loadConfig({}, 'local').local.apiKey).toBeUndefined();
  });

  it('refuses a secret cache TTL as long as the idle period, which would serve secrets deleted as idle', () => {
    const oneDay = String(86_400_000);
    expect(() =>
      loadConfig({ DATASYNC_SECRET_MAX_IDLE_DAYS: '1', DATASYNC_SECRET_CACHE_TTL_MS: oneDay }, 'local'),
    ).toThrow(/DATASYNC_SECRET_CACHE_TTL_MS \(86400000\) must be shorter than DATASYNC_SECRET_MAX_IDLE_DAYS/);
    const shorter = loadConfig(
      { DATASYNC_SECRET_MAX_IDLE_DAYS: '1', DATASYNC_SECRET_CACHE_TTL_MS: String(86_400_000 - 1) },
      'local',
    );
    expect(shorter.local.secretMaxIdleDays).toBe(1);
    expect(loadConfig({ DATASYNC_SECRET_CACHE_TTL_MS: oneDay }, 'local').secretCacheTtlMs).toBe(86_400_000);
  });

  it('reads the served hosts and the cap on buffered bodies', () => {
    expect(loadConfig({}, 'local').local).toMatchObject({
      allowedHosts: [],
      maxBufferedBytes: DEFAULTS.maxBufferedBytes,
    });
    const config = loadConfig(
      { DATASYNC_ALLOWED_HOSTS: 'Dev.Box, dev.box:7071', DATASYNC_MAX_BUFFERED_BYTES: '1000' },
      'local',
    );
    expect(config.local).toMatchObject({ allowedHosts: ['dev.box', 'dev.box:7071'], maxBufferedBytes: 1000 });
  });
  it('leaves room for properties and the error record on Azure: 192 KiB by default, 256 KiB locally', () => {
    expect(loadConfig({}, 'local').limits.maxMessageBytes).toBe(256 * 1024);
    const azure = loadConfig(
      {
        ServiceBusConnection__fullyQualifiedNamespace: 'x.servicebus.windows.net',
        DATASYNC_KEYVAULT_URL: 'https://x.vault.azure.net',
        DATASYNC_ARCHIVE_ACCOUNT_URL: 'https://x.blob.core.windows.net',
      },
      'azure',
    );
    expect(azure.limits.maxMessageBytes).toBe(192 * 1024);
  });
});
