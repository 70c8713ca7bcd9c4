import type { DatasyncInputs } from './inputs';

/** Every resource name, from the prefix (and the suffix where Azure needs global uniqueness). */
export function names(inputs: Pick<DatasyncInputs, 'prefix' | 'suffix'>) {
  const { prefix, suffix } = inputs;
  return {
    resourceGroup: `rg-${prefix}`,
    serviceBusNamespace: `${prefix}-sb-${suffix}`,
    keyVault: `${prefix}-kv-${suffix}`,
    runtimeStorage: `${prefix}rt${suffix}`,
    archiveStorage: `${prefix}ar${suffix}`,
    archiveContainer: 'datasync-archive',
    /** Message states (Table Storage, in the archive account). */
    stateTable: 'datasyncstate',
    logAnalytics: `${prefix}-logs`,
    appInsights: `${prefix}-appi`,
    plan: `${prefix}-plan`,
    functionApp: `${prefix}-func-${suffix}`,
    identity: `${prefix}-id`,
    actionGroup: `${prefix}-alerts`,
    alertTopic: 'datasync-alerts',
    alertSubscription: 'operators',
  };
}

export type Names = ReturnType<typeof names>;
