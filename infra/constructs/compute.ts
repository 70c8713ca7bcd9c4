import type { ApplicationInsights } from '@cdktf/provider-azurerm/lib/application-insights';
import type { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault';
import { LinuxFunctionApp } from '@cdktf/provider-azurerm/lib/linux-function-app';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { ServicePlan } from '@cdktf/provider-azurerm/lib/service-plan';
import { Construct } from 'constructs';
import type { DatasyncInputs } from '../inputs';
import type { Names } from '../naming';
import type { Messaging } from './messaging';
import type { Storage } from './storage';

export interface ComputeProps {
  inputs: DatasyncInputs;
  names: Names;
  resourceGroupName: string;
  messaging: Messaging;
  vault: KeyVault;
  storage: Storage;
  appInsights: ApplicationInsights;
}

/**
 * The Function App (Linux, Node 20, system-assigned identity, HTTPS only, identity-based
 * connections everywhere), its code package deployed by the same `cdktf deploy`, and the roles its
 * identity needs, each scoped to the one resource it is for.
 */
export class Compute extends Construct {
  readonly app: LinuxFunctionApp;
  readonly roles: RoleAssignment[];

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const { inputs, names, messaging, storage } = props;
    const plan = new ServicePlan(this, 'plan', {
      name: names.plan,
      location: inputs.location,
      resourceGroupName: props.resourceGroupName,
      osType: 'Linux',
      skuName: inputs.planSku,
    });
    this.app = new LinuxFunctionApp(this, 'app', {
      name: names.functionApp,
      location: inputs.location,
      resourceGroupName: props.resourceGroupName,
      servicePlanId: plan.id,
      storageAccountName: storage.runtime.name,
      storageUsesManagedIdentity: true,
      httpsOnly: true,
      functionsExtensionVersion: '~4',
      ftpPublishBasicAuthenticationEnabled: false,
      identity: { type: 'SystemAssigned' },
      zipDeployFile: inputs.packagePath,
      siteConfig: {
        // Node 20 reached end of life on 30 April 2026.
        applicationStack: { nodeVersion: '22' },
        alwaysOn: true,
        minimumTlsVersion: '1.2',
        ftpsState: 'Disabled',
        http2Enabled: true,
        applicationInsightsConnectionString: props.appInsights.connectionString,
      },
      appSettings: appSettings(props),
    });

    const principalId = this.app.identity.principalId;
    const grant = (roleId: string, roleDefinitionName: string, roleScope: string) =>
      new RoleAssignment(this, roleId, {
        principalId,
        roleDefinitionName,
        scope: roleScope,
        principalType: 'ServicePrincipal',
      });
    this.roles = [
      grant('servicebus-sender', 'Azure Service Bus Data Sender', messaging.namespace.id),
      grant('servicebus-receiver', 'Azure Service Bus Data Receiver', messaging.namespace.id),
      grant('keyvault-secrets', 'Key Vault Secrets Officer', props.vault.id),
      grant('archive-blobs', 'Storage Blob Data Contributor', storage.archiveContainer.resourceManagerId),
      grant('runtime-blobs', 'Storage Blob Data Owner', storage.runtime.id),
      grant('state-table', 'Storage Table Data Contributor', storage.stateTable.resourceManagerId),
    ];
  }
}

/** Every setting the app's configuration reads in Azure mode (see shared/config/config.ts). */
function appSettings(props: ComputeProps): Record<string, string> {
  const { inputs, names, messaging, storage } = props;
  return {
    // Every other DATASYNC_* setting given at synth (validated by the app's loadConfig in readInputs).
    ...inputs.appSettings,
    WEBSITE_RUN_FROM_PACKAGE: '1',
    DATASYNC_MODE: 'azure',
    ServiceBusConnection__fullyQualifiedNamespace: `${messaging.namespace.name}.servicebus.windows.net`,
    DATASYNC_KEYVAULT_URL: props.vault.vaultUri,
    DATASYNC_ARCHIVE_ACCOUNT_URL: storage.archive.primaryBlobEndpoint,
    DATASYNC_ARCHIVE_CONTAINER: names.archiveContainer,
    DATASYNC_ALERT_TOPIC: names.alertTopic,
    DATASYNC_STATE_TABLE: names.stateTable,
    DATASYNC_MAIN_STREAM: inputs.mainStream,
    DATASYNC_ERROR_MAPPING: JSON.stringify(inputs.errorMapping),
    DATASYNC_RETENTION_DAYS: String(inputs.retentionDays),
    DATASYNC_TARGET_ALLOWLIST: inputs.targetAllowlist.join(','),
    DATASYNC_ALLOW_PRIVATE_TARGETS: 'false',
    DATASYNC_ORDERING: String(inputs.ordering),
  };
}
