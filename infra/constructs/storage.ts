import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container';
import { StorageManagementPolicy } from '@cdktf/provider-azurerm/lib/storage-management-policy';
import { StorageTable } from '@cdktf/provider-azurerm/lib/storage-table';
import { Construct } from 'constructs';
import type { DatasyncInputs } from '../inputs';
import type { Names } from '../naming';

const ARCHIVE_COOL_AFTER_DAYS = 30;
const ARCHIVE_DELETE_AFTER_DAYS = 365;

function secureAccount(
  scope: Construct,
  id: string,
  name: string,
  props: { inputs: DatasyncInputs; resourceGroupName: string },
) {
  return new StorageAccount(scope, id, {
    name,
    location: props.inputs.location,
    resourceGroupName: props.resourceGroupName,
    accountTier: 'Standard',
    accountReplicationType: 'LRS',
    minTlsVersion: 'TLS1_2',
    httpsTrafficOnlyEnabled: true,
    allowNestedItemsToBePublic: false,
    sharedAccessKeyEnabled: false,
    defaultToOauthAuthentication: true,
  });
}

/**
 * Two accounts, so each role can be narrow: the Functions runtime's own (the host needs Blob Data
 * Owner on it) and the archive (the app gets Blob Data Contributor on its container only), with a
 * lifecycle rule that cools archived records after 30 days and deletes them after a year.
 */
export class Storage extends Construct {
  readonly runtime: StorageAccount;
  readonly archive: StorageAccount;
  readonly archiveContainer: StorageContainer;
  /** Per-message states, delivery holds, replay positions, ingest keys. */
  readonly stateTable: StorageTable;

  constructor(
    scope: Construct,
    id: string,
    props: { inputs: DatasyncInputs; names: Names; resourceGroupName: string },
  ) {
    super(scope, id);
    this.runtime = secureAccount(this, 'runtime', props.names.runtimeStorage, props);
    this.archive = secureAccount(this, 'archive', props.names.archiveStorage, props);
    this.archiveContainer = new StorageContainer(this, 'archive-container', {
      name: props.names.archiveContainer,
      storageAccountId: this.archive.id,
      containerAccessType: 'private',
    });
    this.stateTable = new StorageTable(this, 'state-table', {
      name: props.names.stateTable,
      storageAccountName: this.archive.name,
    });
    new StorageManagementPolicy(this, 'archive-lifecycle', {
      storageAccountId: this.archive.id,
      rule: [
        {
          name: 'age-out-archived-errors',
          enabled: true,
          filters: { blobTypes: ['blockBlob'], prefixMatch: [`${props.names.archiveContainer}/`] },
          actions: {
            baseBlob: {
              tierToCoolAfterDaysSinceModificationGreaterThan: ARCHIVE_COOL_AFTER_DAYS,
              deleteAfterDaysSinceModificationGreaterThan: ARCHIVE_DELETE_AFTER_DAYS,
            },
          },
        },
      ],
    });
  }
}
