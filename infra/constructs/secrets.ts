import { DataAzurermClientConfig } from '@cdktf/provider-azurerm/lib/data-azurerm-client-config';
import { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault';
import { Construct } from 'constructs';
import type { DatasyncInputs } from '../inputs';
import type { Names } from '../naming';

/** Key Vault for the targets' credentials: RBAC (no access policies), soft delete, purge protection. */
export class Secrets extends Construct {
  readonly vault: KeyVault;

  constructor(
    scope: Construct,
    id: string,
    props: { inputs: DatasyncInputs; names: Names; resourceGroupName: string },
  ) {
    super(scope, id);
    const client = new DataAzurermClientConfig(this, 'client');
    this.vault = new KeyVault(this, 'vault', {
      name: props.names.keyVault,
      location: props.inputs.location,
      resourceGroupName: props.resourceGroupName,
      tenantId: client.tenantId,
      skuName: 'standard',
      rbacAuthorizationEnabled: true,
      softDeleteRetentionDays: 90,
      purgeProtectionEnabled: true,
    });
  }
}
