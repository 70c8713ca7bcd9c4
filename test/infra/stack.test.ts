import { Testing } from 'cdktf';
import { CONFIG_KEYS, loadConfig, SERVICE_BUS_NAMESPACE_SETTING } from '../../shared/config/config';
import { DatasyncStack } from '../../infra/datasync-stack';
import { InputError, readInputs, type DatasyncInputs } from '../../infra/inputs';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

function synth(env: Record<string, string> = {}): {
  resources: Resources;
  outputs: Record<string, { value: string }>;
  backend: Record<string, Record<string, string>>;
  inputs: DatasyncInputs;
} {
  const inputs = readInputs({ DATASYNC_PACKAGE: '/tmp/datasync-abc.zip', ...env });
  const stack = new DatasyncStack(Testing.app(), 'test', inputs);
  const json = JSON.parse(Testing.synth(stack)) as {
    resource: Resources;
    output: Record<string, { value: string }>;
    terraform: { backend: Record<string, Record<string, string>> };
  };
  return { resources: json.resource, outputs: json.output, backend: json.terraform.backend, inputs };
}

const appSettingsOf = (resources: Resources) =>
  only(resources, 'azurerm_linux_function_app').app_settings as Record<string, string>;

const only = (resources: Resources, type: string) => {
  const all = Object.values(resources[type] ?? {});
  expect(all).toHaveLength(1);
  return all[0] as Record<string, unknown>;
};
const all = (resources: Resources, type: string) => Object.values(resources[type] ?? {});

describe('infra: the datasync stack', () => {
  const { resources, outputs } = synth({ DATASYNC_ALERT_EMAILS: 'ops@example.com,oncall@example.com' });

  it('locks Service Bus to identities and shapes the main queue for at-least-once, ordered delivery', () => {
    expect(only(resources, 'azurerm_servicebus_namespace')).toMatchObject({
      local_auth_enabled: false,
      minimum_tls_version: '1.2',
      sku: 'Standard',
    });
    const queues = all(resources, 'azurerm_servicebus_queue');
    const main = queues.find((queue) => queue.name === 'datasync');
    expect(main).toMatchObject({
      requires_session: true,
      requires_duplicate_detection: true,
      max_delivery_count: 10,
      lock_duration: 'PT2M',
      default_message_ttl: 'P7D',
      dead_lettering_on_message_expiration: true,
    });
  });

  it('makes one error queue per mapped stream, retained for the retention, expiring without dead-lettering, never deduplicated', () => {
    const errorQueues = all(resources, 'azurerm_servicebus_queue').filter(
      (queue) => queue.name !== 'datasync',
    );
    expect(errorQueues.map((queue) => queue.name).sort()).toEqual([
      'datasync-error-404',
      'datasync-error-503',
      'datasync-error-unexpected',
    ]);
    for (const queue of errorQueues) {
      expect(queue).toMatchObject({
        default_message_ttl: 'P7D',
        dead_lettering_on_message_expiration: false,
      });
      expect(queue.requires_duplicate_detection).toBeUndefined();
    }
    expect(only(resources, 'azurerm_servicebus_topic')).toMatchObject({ name: 'datasync-alerts' });
    expect(only(resources, 'azurerm_servicebus_subscription')).toMatchObject({ name: 'operators' });
  });

  it('follows the error mapping input: its streams become queues', () => {
    const custom = synth({
      DATASYNC_ERROR_MAPPING: JSON.stringify([
        { responsecode: '5xx', stream: 'errors-5xx' },
        { responsecode: 'unexpectedError', stream: 'errors-parked', unrecoverable: true },
      ]),
      DATASYNC_RETENTION_DAYS: '14',
      DATASYNC_ORDERING: 'false',
    });
    const queues = all(custom.resources, 'azurerm_servicebus_queue');
    expect(queues.map((queue) => queue.name).sort()).toEqual(['datasync', 'errors-5xx', 'errors-parked']);
    expect(queues.every((queue) => queue.default_message_ttl === 'P14D')).toBe(true);
    expect(queues.find((queue) => queue.name === 'datasync')?.requires_session).toBe(false);
  });

  it('secures Key Vault and storage by default', () => {
    expect(only(resources, 'azurerm_key_vault')).toMatchObject({
      rbac_authorization_enabled: true,
      purge_protection_enabled: true,
      soft_delete_retention_days: 90,
    });
    const accounts = all(resources, 'azurerm_storage_account');
    expect(accounts).toHaveLength(2);
    for (const account of accounts) {
      expect(account).toMatchObject({
        min_tls_version: 'TLS1_2',
        https_traffic_only_enabled: true,
        allow_nested_items_to_be_public: false,
        shared_access_key_enabled: false,
      });
    }
    expect(only(resources, 'azurerm_storage_container')).toMatchObject({
      name: 'datasync-archive',
      container_access_type: 'private',
    });
    const rule = (
      only(resources, 'azurerm_storage_management_policy').rule as Array<Record<string, unknown>>
    )[0];
    expect(rule).toMatchObject({
      enabled: true,
      actions: { base_blob: { delete_after_days_since_modification_greater_than: 365 } },
    });
  });

  it('runs the app on Linux, Node 22, HTTPS only, with its own identity and the code package', () => {
    const app = only(resources, 'azurerm_linux_function_app');
    expect(app).toMatchObject({
      https_only: true,
      storage_uses_managed_identity: true,
      identity: {
        type: 'UserAssigned',
        identity_ids: [expect.stringMatching(/azurerm_user_assigned_identity\./)],
      },
      zip_deploy_file: '/tmp/datasync-abc.zip',
      ftp_publish_basic_authentication_enabled: false,
      site_config: {
        application_stack: { node_version: '22' },
        always_on: true,
        minimum_tls_version: '1.2',
        ftps_state: 'Disabled',
      },
    });
    expect(only(resources, 'azurerm_service_plan')).toMatchObject({ os_type: 'Linux', sku_name: 'B1' });
  });

  it('gives the app every setting its configuration needs in Azure mode, and nothing it would refuse', () => {
    const settings = appSettingsOf(resources);
    const unknown = Object.keys(settings).filter(
      (key) => key.startsWith('DATASYNC_') && !(CONFIG_KEYS as readonly string[]).includes(key),
    );
    expect(unknown).toEqual([]);
    expect(settings[SERVICE_BUS_NAMESPACE_SETTING]).toMatch(/\.servicebus\.windows\.net$/);
    // Terraform fills the tokens in at apply time; the app must accept the shape.
    const resolved = Object.fromEntries(
      Object.entries(settings).map(([key, value]) => [
        key,
        value.replace(/\$\{[^}]+\}/g, 'https://resolved.example'),
      ]),
    );
    const config = loadConfig(resolved, 'azure');
    expect(config.mode).toBe('azure');
    expect(config.targets.allowPrivate).toBe(false);
    expect(config.errorMapping.map((route) => route.stream)).toContain('datasync-error-unexpected');
  });

  it('provisions the message-state table in the archive account and points the app at it', () => {
    const table = only(resources, 'azurerm_storage_table');
    expect(table).toMatchObject({ name: 'datasyncstate' });
    expect(String(table.storage_account_name)).toMatch(/azurerm_storage_account\.storage_archive/);
    expect(appSettingsOf(resources)).toMatchObject({ DATASYNC_STATE_TABLE: 'datasyncstate' });
  });

  it('grants the app least privilege, each role scoped to one resource', () => {
    const roles = all(resources, 'azurerm_role_assignment').map((role) => [
      role.role_definition_name,
      String(role.scope),
    ]);
    expect(roles.sort()).toEqual(
      [
        ['Azure Service Bus Data Receiver', expect.stringMatching(/^\$\{azurerm_servicebus_namespace\./)],
        ['Azure Service Bus Data Sender', expect.stringMatching(/^\$\{azurerm_servicebus_namespace\./)],
        ['Key Vault Secrets Officer', expect.stringMatching(/^\$\{azurerm_key_vault\./)],
        [
          'Storage Blob Data Contributor',
          expect.stringMatching(/^\$\{azurerm_storage_container\.[^}]*\.id\}$/),
        ],
        ['Storage Blob Data Owner', expect.stringMatching(/^\$\{azurerm_storage_account\.storage_runtime/)],
        [
          'Storage Table Data Contributor',
          expect.stringMatching(/^\$\{azurerm_storage_table\.[^}]*\.resource_manager_id\}$/),
        ],
      ].sort(),
    );
    for (const role of all(resources, 'azurerm_role_assignment')) {
      expect(String(role.scope)).not.toMatch(/subscriptions\//);
    }
    // The container's resource_manager_id is deprecated in azurerm 4.x (its id is the ARM id).
    expect(JSON.stringify(resources)).not.toMatch(/azurerm_storage_container\.[^}]*\.resource_manager_id/);
  });

  it('creates the roles before the app and its code: a user-assigned identity the app depends on', () => {
    const roles = Object.keys(resources.azurerm_role_assignment ?? {});
    expect(roles).toHaveLength(6);
    for (const role of all(resources, 'azurerm_role_assignment')) {
      expect(String(role.principal_id)).toMatch(
        /^\$\{azurerm_user_assigned_identity\.[^}]*\.principal_id\}$/,
      );
    }
    const app = only(resources, 'azurerm_linux_function_app');
    expect(app.depends_on).toEqual(
      expect.arrayContaining(roles.map((key) => `azurerm_role_assignment.${key}`)),
    );
    const settings = appSettingsOf(resources);
    for (const key of [
      'AZURE_CLIENT_ID',
      'ServiceBusConnection__clientId',
      'AzureWebJobsStorage__clientId',
    ]) {
      expect(settings[key]).toMatch(/^\$\{azurerm_user_assigned_identity\.[^}]*\.client_id\}$/);
    }
    expect(settings.ServiceBusConnection__credential).toBe('managedidentity');
    expect(settings.AzureWebJobsStorage__credential).toBe('managedidentity');
  });

  it('alerts per error queue on new failures, on the main queue dead letters, unrecoverable and function failures, and resolves them', () => {
    const group = only(resources, 'azurerm_monitor_action_group');
    expect((group.email_receiver as Array<{ email_address: string }>).map((r) => r.email_address)).toEqual([
      'ops@example.com',
      'oncall@example.com',
    ]);
    const alerts = all(resources, 'azurerm_monitor_metric_alert');
    const watched = alerts.map((alert) => {
      const [criteria] = alert.criteria as Array<{
        metric_name: string;
        aggregation: string;
        dimension?: Array<{ values: string[] }>;
      }>;
      return `${criteria?.metric_name}/${criteria?.aggregation}:${criteria?.dimension?.[0]?.values.join(',') ?? ''}`;
    });
    expect(watched.sort()).toEqual(
      [
        'IncomingMessages/Total:datasync-error-404',
        'IncomingMessages/Total:datasync-error-503',
        'IncomingMessages/Total:datasync-error-unexpected',
        'DeadletteredMessages/Maximum:datasync',
        'IncomingMessages/Total:datasync-alerts',
        'requests/failed/Count:',
      ].sort(),
    );
    for (const alert of alerts) {
      expect(alert.auto_mitigate).toBe(true);
      expect(alert.action).toEqual([
        { action_group_id: expect.stringMatching(/azurerm_monitor_action_group\./) },
      ]);
    }
  });

  it('alerts on open failures and held keys from the status.gauges log line, and resolves them', () => {
    const rules = all(resources, 'azurerm_monitor_scheduled_query_rules_alert_v2');
    const byColumn = Object.fromEntries(
      rules.map((rule) => {
        const [criteria] = rule.criteria as Array<Record<string, unknown>>;
        return [String(criteria?.metric_measure_column), { rule, criteria }];
      }),
    );
    expect(Object.keys(byColumn).sort()).toEqual(['heldKeys', 'openFailures']);
    for (const { rule, criteria } of Object.values(byColumn)) {
      expect(rule).toMatchObject({
        auto_mitigation_enabled: true,
        scopes: [expect.stringMatching(/azurerm_application_insights\./)],
        action: { action_groups: [expect.stringMatching(/azurerm_monitor_action_group\./)] },
      });
      expect(criteria).toMatchObject({ operator: 'GreaterThan', threshold: 0 });
      expect(String(criteria?.query)).toContain("tostring(gauges.event) == 'status.gauges'");
    }
    // The latest gauge above 0 opens failures; a key must stay held for the whole held-alert window.
    expect(byColumn.openFailures?.criteria).toMatchObject({ time_aggregation_method: 'Maximum' });
    expect(byColumn.heldKeys?.criteria).toMatchObject({ time_aggregation_method: 'Minimum' });
    expect(byColumn.heldKeys?.rule.window_duration).toBe('PT15M');
    const hourly = synth({ DATASYNC_HELD_ALERT_MINUTES: '50' });
    const held = all(hourly.resources, 'azurerm_monitor_scheduled_query_rules_alert_v2').find((rule) =>
      String(JSON.stringify(rule.criteria)).includes('heldKeys'),
    );
    expect(held?.window_duration).toBe('PT1H');
  });

  it('ships a workbook with the sync numbers from the app log lines', () => {
    const workbook = only(resources, 'azurerm_application_insights_workbook');
    expect(workbook.name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const data = JSON.stringify(JSON.parse(String(workbook.data_json)));
    for (const event of [
      'sync.accepted',
      'sync.delivered',
      'sync.failed',
      'alert.unrecoverable',
      'replay.done',
    ]) {
      expect(data).toContain(event);
    }
  });

  it('outputs the URLs and names an operator needs', () => {
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'base_url',
        'function_app_name',
        'key_vault_url',
        'resource_group',
        'retry_url',
        'servicebus_namespace',
        'status_url',
        'sync_url',
      ].sort(),
    );
    expect(outputs.sync_url?.value).toMatch(
      /^https:\/\/\$\{azurerm_linux_function_app\..*default_hostname\}\/api\/stream\/sync$/,
    );
  });
});

describe('infra inputs', () => {
  it.each([
    [{ DATASYNC_PREFIX: 'Data_Sync' }, /DATASYNC_PREFIX must be 3-10 lowercase/],
    [{ DATASYNC_PLAN_SKU: 'Y1' }, /DATASYNC_PLAN_SKU must be a dedicated plan/],
    [{ DATASYNC_SERVICEBUS_SKU: 'Basic' }, /DATASYNC_SERVICEBUS_SKU must be Standard or Premium/],
    [{ DATASYNC_ALERT_EMAILS: 'not-an-address' }, /DATASYNC_ALERT_EMAILS has an invalid address/],
  ])('refuses %j naming the input', (env, message) => {
    expect(() => readInputs(env)).toThrow(InputError);
    expect(() => readInputs(env)).toThrow(message);
  });

  it('validates shared settings with the app own parser', () => {
    expect(() => readInputs({ DATASYNC_ERROR_MAPPING: '[{"responsecode":"404","stream":"x"}]' })).toThrow(
      /unexpectedError/,
    );
  });

  it('names everything from the prefix', () => {
    const { resources } = synth({ DATASYNC_PREFIX: 'acme', DATASYNC_NAME_SUFFIX: 'x1y2' });
    expect(only(resources, 'azurerm_resource_group').name).toBe('rg-acme');
    expect(only(resources, 'azurerm_servicebus_namespace').name).toBe('acme-sb-x1y2');
    expect(only(resources, 'azurerm_linux_function_app').name).toBe('acme-func-x1y2');
  });
});
