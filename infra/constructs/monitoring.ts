import { ApplicationInsights } from '@cdktf/provider-azurerm/lib/application-insights';
import { ApplicationInsightsWorkbook } from '@cdktf/provider-azurerm/lib/application-insights-workbook';
import { LogAnalyticsWorkspace } from '@cdktf/provider-azurerm/lib/log-analytics-workspace';
import { MonitorActionGroup } from '@cdktf/provider-azurerm/lib/monitor-action-group';
import {
  MonitorMetricAlert,
  type MonitorMetricAlertCriteria,
} from '@cdktf/provider-azurerm/lib/monitor-metric-alert';
import { MonitorScheduledQueryRulesAlertV2 } from '@cdktf/provider-azurerm/lib/monitor-scheduled-query-rules-alert-v2';
import type { ServicebusNamespace } from '@cdktf/provider-azurerm/lib/servicebus-namespace';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import type { DatasyncInputs } from '../inputs';
import type { Names } from '../naming';
import { workbookJson } from '../workbook';

const SERVICE_BUS_METRICS = 'Microsoft.ServiceBus/namespaces';

/** The host logs `status.gauges` {openFailures, heldKeys, heldMessages, backlog} every minute. */
export const GAUGE_EVENT = 'status.gauges';

interface GaugeCriteria {
  column: 'openFailures' | 'heldKeys';
  aggregation: 'Maximum' | 'Minimum';
}

/** One row per `status.gauges` line of the window, with the gauge as a number column. */
export function gaugeQuery(column: GaugeCriteria['column']): string {
  return [
    'traces',
    `| where message has '${GAUGE_EVENT}'`,
    '| extend gauges = parse_json(message)',
    `| where tostring(gauges.event) == '${GAUGE_EVENT}'`,
    `| project timestamp, ${column} = todouble(gauges.${column})`,
  ].join('\n');
}

/** Window sizes a log alert accepts (from 5 minutes, the evaluation frequency), in minutes. */
const LOG_ALERT_WINDOWS: Array<[number, string]> = [
  [5, 'PT5M'],
  [10, 'PT10M'],
  [15, 'PT15M'],
  [30, 'PT30M'],
  [45, 'PT45M'],
  [60, 'PT1H'],
  [120, 'PT2H'],
  [180, 'PT3H'],
  [240, 'PT4H'],
  [300, 'PT5H'],
  [360, 'PT6H'],
  [1440, 'P1D'],
  [2880, 'P2D'],
];

/** The shortest accepted window covering DATASYNC_HELD_ALERT_MINUTES (2 days at most). */
export function heldWindow(heldAlertMs: number): string {
  const minutes = heldAlertMs / 60_000;
  const window = LOG_ALERT_WINDOWS.find(([size]) => size >= minutes) ?? LOG_ALERT_WINDOWS.at(-1);
  return (window as [number, string])[1];
}

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
 * Log Analytics + Application Insights, an action group e-mailing the operators, and alerts that
 * notify and resolve: new failures per error queue (incoming messages, not depth: an error queue
 * keeps its records for the retention, handled or not), dead letters on the main queue, unrecoverable
 * records published to the topic, failed executions, and, from the host's `status.gauges` log line,
 * open failures and held keys. Plus a workbook with the sync's own numbers.
 */
export class Monitoring extends Construct {
  readonly appInsights: ApplicationInsights;
  readonly actionGroup: MonitorActionGroup;
  readonly alerts: MonitorMetricAlert[] = [];
  readonly gaugeAlerts: MonitorScheduledQueryRulesAlertV2[] = [];

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

    const action = [{ actionGroupId: this.actionGroup.id }];
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
          // Resolved (and the receivers told) once a window passes without the condition.
          autoMitigate: true,
          criteria: [criteria],
          action,
        }),
      );

    for (const stream of inputs.errorStreams) {
      alert(
        `failures-${stream.name}`,
        `New failures were routed to error stream ${stream.name} in the last 5 minutes. ` +
          'Resolves by itself 5 minutes after the last one; open failures stay counted by the open-failures alert.',
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
      `Messages are in the dead-letter queue of the main queue ${inputs.app.mainStream} (their outcome could not be ` +
        'made durable after every backoff, or they expired unread). Resolves when the dead-letter queue is empty.',
      1,
      props.namespace.id,
      {
        metricNamespace: SERVICE_BUS_METRICS,
        metricName: 'DeadletteredMessages',
        aggregation: 'Maximum',
        operator: 'GreaterThan',
        threshold: 0,
        dimension: [{ name: 'EntityName', operator: 'Include', values: [inputs.app.mainStream] }],
      },
    );
    alert(
      'unrecoverable',
      'An unrecoverable failure was archived and published to the datasync-alerts topic in the last 5 minutes.',
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

    const gaugeAlert = (alertId: string, description: string, gauge: GaugeCriteria, windowDuration: string) =>
      this.gaugeAlerts.push(
        new MonitorScheduledQueryRulesAlertV2(this, alertId, {
          name: `${inputs.prefix}-${alertId}`,
          resourceGroupName,
          location: inputs.location,
          scopes: [this.appInsights.id],
          description,
          severity: 2,
          evaluationFrequency: 'PT5M',
          windowDuration,
          autoMitigationEnabled: true,
          criteria: [
            {
              query: gaugeQuery(gauge.column),
              metricMeasureColumn: gauge.column,
              timeAggregationMethod: gauge.aggregation,
              operator: 'GreaterThan',
              threshold: 0,
            },
          ],
          action: { actionGroups: [this.actionGroup.id] },
        }),
      );
    gaugeAlert(
      'open-failures',
      'Failed messages wait in error streams (openFailures of the status.gauges line): replay them with ' +
        'POST /api/stream/retry once the target is healthy, or skip them. Resolves when openFailures is back to 0.',
      { column: 'openFailures', aggregation: 'Maximum' },
      'PT10M',
    );
    gaugeAlert(
      'held-keys',
      `Keys have been held behind a failed head for the whole window (heldKeys of the status.gauges line): ` +
        'replay or skip the head (GET /api/keys lists them). Resolves when no key is held.',
      { column: 'heldKeys', aggregation: 'Minimum' },
      heldWindow(inputs.app.heldAlertMs),
    );

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
