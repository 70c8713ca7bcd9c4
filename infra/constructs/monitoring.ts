import { ApplicationInsights } from '@cdktf/provider-azurerm/lib/application-insights';
import { ApplicationInsightsWorkbook } from '@cdktf/provider-azurerm/lib/application-insights-workbook';
import { LogAnalyticsWorkspace } from '@cdktf/provider-azurerm/lib/log-analytics-workspace';
import { MonitorActionGroup } from '@cdktf/provider-azurerm/lib/monitor-action-group';
import {
  MonitorMetricAlert,
  type MonitorMetricAlertCriteria,
} from '@cdktf/provider-azurerm/lib/monitor-metric-alert';
import type { ServicebusNamespace } from '@cdktf/provider-azurerm/lib/servicebus-namespace';
import { Fn } from 'cdktf';
import { MonitorScheduledQueryRulesAlertV2 } from '@cdktf/provider-azurerm/lib/monitor-scheduled-query-rules-alert-v2';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import type { DatasyncInputs } from '../inputs';
import type { Names } from '../naming';
import { workbookJson } from '../workbook';

const SERVICE_BUS_METRICS = 'Microsoft.ServiceBus/namespaces';

/** A stable GUID from a seed: workbook names must be GUIDs. */
function guidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface MonitoringProps {
  inputs: DatasyncInputs;
  names: Names;
  resourceGroupName: string;
  namespace: ServicebusNamespace;
}

/**
 * Log Analytics + Application Insights, an action group e-mailing the operators, metric alerts on
 * every error queue's depth, on dead letters, on unrecoverable alerts published to the topic and on
 * failed function executions, and a workbook with the sync's own numbers.
 */
export class Monitoring extends Construct {
  readonly appInsights: ApplicationInsights;
  readonly actionGroup: MonitorActionGroup;
  readonly alerts: MonitorMetricAlert[] = [];
  readonly gaugeAlerts: MonitorScheduledQueryRulesAlertV2[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { inputs, names, resourceGroupName } = props;
    const workspace = new LogAnalyticsWorkspace(this, 'logs', {
      name: names.logAnalytics,
      location: inputs.location,
      resourceGroupName,
      sku: 'PerGB2018',
      retentionInDays: 30,
    });
    this.appInsights = new ApplicationInsights(this, 'appi', {
      name: names.appInsights,
      location: inputs.location,
      resourceGroupName,
      applicationType: 'Node.JS',
      workspaceId: workspace.id,
    });
    this.actionGroup = new MonitorActionGroup(this, 'action-group', {
      name: names.actionGroup,
      resourceGroupName,
      shortName: `${inputs.prefix}ops`.slice(0, 12),
      emailReceiver: inputs.alertEmails.map((emailAddress, index) => ({
        name: `operator-${index + 1}`,
        emailAddress,
        useCommonAlertSchema: true,
      })),
    });

    const alert = (
      alertId: string,
      description: string,
      severity: number,
      scope: string,
      criteria: MonitorMetricAlertCriteria,
    ) =>
      this.alerts.push(
        new MonitorMetricAlert(this, alertId, {
          name: `${inputs.prefix}-${alertId}`,
          resourceGroupName,
          scopes: [scope],
          description,
          severity,
          frequency: 'PT1M',
          windowSize: 'PT5M',
          criteria: [criteria],
          // Resolves by itself once the condition is gone, so the next occurrence notifies again.
          autoMitigate: true,
          action: [{ actionGroupId: this.actionGroup.id }],
        }),
      );

    for (const stream of inputs.errorStreams) {
      alert(
        `queue-${stream.name}`,
        `New failures arrived on error stream ${stream.name} in the last 5 minutes; resolves when none arrive. Replay with datasync replay ${stream.name} once the target is healthy.`,
        stream.unrecoverable ? 1 : 2,
        props.namespace.id,
        {
          metricNamespace: SERVICE_BUS_METRICS,
          metricName: 'IncomingMessages',
          aggregation: 'Total',
          operator: 'GreaterThan',
          threshold: 0,
          dimension: [{ name: 'EntityName', operator: 'Include', values: [stream.name] }],
        },
      );
    }
    alert(
      'dead-letters',
      'Messages on the main queue were dead-lettered (delivery count exhausted): inspect its dead-letter queue.',
      1,
      props.namespace.id,
      {
        metricNamespace: SERVICE_BUS_METRICS,
        metricName: 'DeadletteredMessages',
        aggregation: 'Maximum',
        operator: 'GreaterThan',
        threshold: 0,
        dimension: [{ name: 'EntityName', operator: 'Include', values: [inputs.mainStream] }],
      },
    );
    alert(
      'unrecoverable',
      'An unrecoverable failure was archived and published to the datasync-alerts topic.',
      1,
      props.namespace.id,
      {
        metricNamespace: SERVICE_BUS_METRICS,
        metricName: 'IncomingMessages',
        aggregation: 'Total',
        operator: 'GreaterThan',
        threshold: 0,
        dimension: [{ name: 'EntityName', operator: 'Include', values: [names.alertTopic] }],
      },
    );
    alert(
      'function-failures',
      'Function executions failed (an outcome could not be made durable, or a bug).',
      2,
      this.appInsights.id,
      {
        metricNamespace: 'microsoft.insights/components',
        metricName: 'requests/failed',
        aggregation: 'Count',
        operator: 'GreaterThan',
        threshold: 0,
      },
    );

    // Open failures and held keys come from the app's own `status.gauges` log line (every 5 minutes).
    const gauge = (ruleId: string, field: 'openFailures' | 'heldKeys', description: string) =>
      new MonitorScheduledQueryRulesAlertV2(this, ruleId, {
        name: `${inputs.prefix}-${ruleId}`,
        resourceGroupName,
        location: inputs.location,
        scopes: [this.appInsights.id],
        description,
        severity: 2,
        evaluationFrequency: 'PT5M',
        windowDuration: 'PT15M',
        autoMitigationEnabled: true,
        criteria: [
          {
            query: `traces | extend e = parse_json(message) | where tostring(e.event) == 'status.gauges' | summarize value = max(toint(e.${field}))`,
            timeAggregationMethod: 'Maximum',
            metricMeasureColumn: 'value',
            operator: 'GreaterThan',
            threshold: 0,
            failingPeriods: { minimumFailingPeriodsToTriggerAlert: 1, numberOfEvaluationPeriods: 1 },
          },
        ],
        action: { actionGroups: [this.actionGroup.id] },
      });
    this.gaugeAlerts = [
      gauge(
        'open-failures',
        'openFailures',
        'Failed or parked messages are waiting in error streams (status.gauges.openFailures > 0); resolves when they are replayed or skipped.',
      ),
      gauge(
        'held-keys',
        'heldKeys',
        'Messages are held behind a failed message of their key (status.gauges.heldKeys > 0); replay the head, or release or skip the key.',
      ),
    ];

    new ApplicationInsightsWorkbook(this, 'workbook', {
      name: guidFrom(`${inputs.prefix}-${inputs.suffix}-workbook`),
      displayName: `datasync (${inputs.prefix})`,
      location: inputs.location,
      resourceGroupName,
      sourceId: Fn.lower(this.appInsights.id),
      category: 'workbook',
      dataJson: workbookJson(this.appInsights.id),
    });
  }
}
