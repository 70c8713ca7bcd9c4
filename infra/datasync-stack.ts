import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { ResourceGroup } from '@cdktf/provider-azurerm/lib/resource-group';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { join } from 'node:path';
import type { Construct } from 'constructs';
import { Compute } from './constructs/compute';
import { Messaging } from './constructs/messaging';
import { Monitoring } from './constructs/monitoring';
import { Secrets } from './constructs/secrets';
import { Storage } from './constructs/storage';
import type { DatasyncInputs } from './inputs';
import { resourceNames } from './naming';

/** Where `cdktf deploy` keeps the Terraform state locally (git-ignored); see docs/deploy.md for a remote backend. */
export const STATE_DIR = '.terraform-state';

/** The whole Azure footprint of datasync, one stack built from small constructs. */
export class DatasyncStack extends TerraformStack {
  constructor(scope: Construct, id: string, inputs: DatasyncInputs) {
    super(scope, id);
    const n = resourceNames(inputs);
    // The state holds secrets (the Application Insights connection string): a git-ignored folder, not the repo root.
    new LocalBackend(this, { path: join(process.cwd(), STATE_DIR, `${id}.tfstate`) });
    new AzurermProvider(this, 'azurerm', {
      features: [{}],
      storageUseAzuread: true,
      resourceProviderRegistrations: 'core',
      resourceProvidersToRegister: [
        'Microsoft.ServiceBus',
        'Microsoft.Web',
        'Microsoft.KeyVault',
        'Microsoft.Insights',
        'Microsoft.OperationalInsights',
      ],
    });
    const group = new ResourceGroup(this, 'resource-group', {
      name: n.resourceGroup,
      location: inputs.location,
    });
    const shared = { inputs, names: n, resourceGroupName: group.name };

    const messaging = new Messaging(this, 'messaging', shared);
    const secrets = new Secrets(this, 'secrets', shared);
    const storage = new Storage(this, 'storage', shared);
    const monitoring = new Monitoring(this, 'monitoring', { ...shared, namespace: messaging.namespace });
    const compute = new Compute(this, 'compute', {
      ...shared,
      messaging,
      vault: secrets.vault,
      storage,
      appInsights: monitoring.appInsights,
    });

    const base = `https://${compute.app.defaultHostname}/api/stream`;
    new TerraformOutput(this, 'sync_url', { value: `${base}/sync` });
    new TerraformOutput(this, 'retry_url', { value: `${base}/retry` });
    new TerraformOutput(this, 'status_url', { value: `${base}/status` });
    new TerraformOutput(this, 'function_app_name', { value: compute.app.name });
    new TerraformOutput(this, 'base_url', { value: `https://${compute.app.defaultHostname}` });
    new TerraformOutput(this, 'resource_group', { value: group.name });
    new TerraformOutput(this, 'servicebus_namespace', { value: messaging.namespace.name });
    new TerraformOutput(this, 'key_vault_url', { value: secrets.vault.vaultUri });
  }
}
