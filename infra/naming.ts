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
    logAnalytics: `${prefix}-logs`,
    appInsights: `${prefix}-appi`,
    plan: `${prefix}-plan`,
    functionApp: `${prefix}-func-${suffix}`,
    identity: `${prefix}-id`,
    actionGroup: `${prefix}-alerts`,
    alertSubscription: 'operators',
  };
}

/** The names above plus those the app itself reads from its settings (one source: the app's configuration). */
export function resourceNames(inputs: Pick<DatasyncInputs, 'prefix' | 'suffix' | 'app'>) {
  const azure = inputs.app.azure;
  return {
    ...names(inputs),
    archiveContainer: azure.archive.container,
    /** Message states (Table Storage, in the archive account). */
    stateTable: azure.stateTable.name,
    alertTopic: azure.alertTopic,
  };
}

export type Names = ReturnType<typeof resourceNames>;
