/** Application Insights queries over the app's JSON log lines (see contextLogger). */
const EVENTS = `traces | where message startswith '{"event"' | extend e = parse_json(message)`;

export const WORKBOOK_QUERIES = {
  accepted: `${EVENTS} | where tostring(e.event) == 'sync.accepted' | summarize messages = sum(toint(e['count'])) by bin(timestamp, 5m) | render timechart`,
  deliveredVsFailed: `${EVENTS} | where tostring(e.event) in ('sync.delivered', 'sync.failed') | summarize count() by event = tostring(e.event), bin(timestamp, 5m) | render timechart`,
  failuresByCodeAndStream: `${EVENTS} | where tostring(e.event) == 'sync.failed' | summarize failures = count() by status = tostring(e.status), reason = tostring(e.reason), errorStream = tostring(e.errorStream) | order by failures desc`,
  unrecoverable: `${EVENTS} | where tostring(e.event) == 'alert.unrecoverable' | project timestamp, id = tostring(e.messageId), stream = tostring(e.stream), target = tostring(e.targetOrigin), reason = tostring(e.reason), status = tostring(e.status), attempt = toint(e.attempt) | order by timestamp desc`,
  replays: `${EVENTS} | where tostring(e.event) == 'replay.done' | project timestamp, stream = tostring(e.stream), processed = toint(e.processed), failed = toint(e.failed), lastReadOffset = tostring(e.lastReadOffset), endOfStream = tobool(e.endOfStream) | order by timestamp desc`,
};

function query(title: string, kql: string, visualization: 'timechart' | 'table') {
  return {
    type: 3,
    content: {
      version: 'KqlItem/1.0',
      query: kql,
      size: 0,
      title,
      timeContext: { durationMs: 86_400_000 },
      queryType: 0,
      resourceType: 'microsoft.insights/components',
      visualization,
    },
  };
}

export function workbookJson(appInsightsId: string): string {
  return JSON.stringify({
    version: 'Notebook/1.0',
    items: [
      {
        type: 1,
        content: {
          json: '## datasync\nAccepted, delivered and failed messages, unrecoverable failures and replays (last 24 h).',
        },
      },
      query('Accepted messages', WORKBOOK_QUERIES.accepted, 'timechart'),
      query('Delivered vs failed', WORKBOOK_QUERIES.deliveredVsFailed, 'timechart'),
      query('Failures by response code and error stream', WORKBOOK_QUERIES.failuresByCodeAndStream, 'table'),
      query('Unrecoverable (archived and alerted)', WORKBOOK_QUERIES.unrecoverable, 'table'),
      query('Replays', WORKBOOK_QUERIES.replays, 'table'),
    ],
    fallbackResourceIds: [appInsightsId],
  });
}
