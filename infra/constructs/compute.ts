import type { ApplicationInsights } from '@cdktf/provider-azurerm/lib/application-insights';
import type { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault';
import { LinuxFunctionApp } from '@cdktf/provider-azurerm/lib/linux-function-app';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { ServicePlan } from '@cdktf/provider-azurerm/lib/service-plan';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity';
import { Construct } from 'constructs';
import { SERVICE_BUS_NAMESPACE_SETTING } from '../../shared/config/config';
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
 * The Function App (Linux, Node 22, HTTPS only, identity-based connections everywhere), its code
 * package deployed by the same `cdktf deploy`, and the roles its identity needs, each scoped to the
 * one resource it is for. The identity is user-assigned so that its roles exist before the app and
 * its code do: the app depends on every role assignment, so the first start does not race the
 * assignments being created (their propagation can still lag; see docs/deploy.md).
 */
export class Compute extends Construct {
  readonly app: LinuxFunctionApp;
  readonly identity: UserAssignedIdentity;
  readonly roles: RoleAssignment[];

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const { inputs, names, messaging, storage } = props;
    this.identity = new UserAssignedIdentity(this, 'identity', {
      name: names.identity,
      location: inputs.location,
      resourceGroupName: props.resourceGroupName,
    });
    const grant = (roleId: string, roleDefinitionName: string, roleScope: string) =>
      new RoleAssignment(this, roleId, {
        principalId: this.identity.principalId,
        roleDefinitionName,
        scope: roleScope,
        principalType: 'ServicePrincipal',
      });
    this.roles = [
      grant('servicebus-sender', 'Azure Service Bus Data Sender', messaging.namespace.id),
      grant('servicebus-receiver', 'Azure Service Bus Data Receiver', messaging.namespace.id),
      grant('keyvault-secrets', 'Key Vault Secrets Officer', props.vault.id),
      grant('archive-blobs', 'Storage Blob Data Contributor', storage.archiveContainer.id),
      grant('runtime-blobs', 'Storage Blob Data Owner', storage.runtime.id),
      // azurerm 4.x: a table has no storage_account_id form yet, so resource_manager_id is its ARM id (not deprecated).
      grant('state-table', 'Storage Table Data Contributor', storage.stateTable.resourceManagerId),
    ];

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
      identity: { type: 'UserAssigned', identityIds: [this.identity.id] },
      zipDeployFile: inputs.packagePath,
      siteConfig: {
        applicationStack: { nodeVersion: NODE_VERSION },
        alwaysOn: true,
        minimumTlsVersion: '1.2',
        ftpsState: 'Disabled',
        http2Enabled: true,
        applicationInsightsConnectionString: props.appInsights.connectionString,
      },
      appSettings: appSettings(props, this.identity),
      dependsOn: this.roles,
    });
  }
}

/** Node 22 LTS (Node 20 reached end of life on 30 April 2026). */
export const NODE_VERSION = '22';

/** The host.json values that must follow `DATASYNC_DISPATCH_CONCURRENCY` (app settings override host.json). */
export const HOST_CONCURRENCY_SETTINGS = [
  'AzureFunctionsJobHost__extensions__serviceBus__maxConcurrentSessions',
  'AzureFunctionsJobHost__extensions__serviceBus__maxConcurrentCalls',
] as const;

/**
 * The settings the stack owns (where the resources are, which identity to use), every `DATASYNC_*`
 * setting given at synth time, and the trigger's concurrency matched to the app's.
 */
function appSettings(props: ComputeProps, identity: UserAssignedIdentity): Record<string, string> {
  const { inputs, names, messaging, storage } = props;
  return {
    ...inputs.appSettings,
    ...Object.fromEntries(
      HOST_CONCURRENCY_SETTINGS.map((key) => [key, String(inputs.app.dispatch.concurrency)]),
    ),
    WEBSITE_RUN_FROM_PACKAGE: '1',
    // DefaultAzureCredential in the app's SDK clients, the trigger binding and the host's storage use this identity.
    AZURE_CLIENT_ID: identity.clientId,
    [SERVICE_BUS_NAMESPACE_SETTING]: `${messaging.namespace.name}.servicebus.windows.net`,
    ServiceBusConnection__credential: 'managedidentity',
    ServiceBusConnection__clientId: identity.clientId,
    AzureWebJobsStorage__credential: 'managedidentity',
    AzureWebJobsStorage__clientId: identity.clientId,
    DATASYNC_MODE: 'azure',
    DATASYNC_KEYVAULT_URL: props.vault.vaultUri,
    DATASYNC_ARCHIVE_ACCOUNT_URL: storage.archive.primaryBlobEndpoint,
    DATASYNC_ARCHIVE_CONTAINER: names.archiveContainer,
    DATASYNC_ALERT_TOPIC: names.alertTopic,
    DATASYNC_STATE_TABLE: names.stateTable,
    // The app's identity token is one metadata-endpoint call away: private targets stay refused in Azure.
    DATASYNC_ALLOW_PRIVATE_TARGETS: 'false',
  };
}
