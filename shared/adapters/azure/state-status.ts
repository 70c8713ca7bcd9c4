import type { StatusReport } from '../../api/status-report';
import { offsetToJson } from '../../contract/offset';
import type { ErrorRouting } from '../../pipeline/error-routing';
import type { InFlight } from '../../pipeline/in-flight';
import type { TableMessageStates } from './table-message-states';

const RECENT_FAILURES = 10;

/**
 * `GET /api/stream/status` on Azure from the state store's own counts (open failures per error
 * queue, scheduled retries, held keys, replay positions): a few partition queries, no peeking of
 * queues. What only Service Bus knows (queue depths, dead letters) is in its Azure Monitor metrics.
 */
export async function stateStatus(
  states: TableMessageStates,
  routing: ErrorRouting,
  inFlight: InFlight,
  mainStream: string,
  secretStoreCalls: StatusReport['secretStoreCalls'],
): Promise<StatusReport> {
  const errorStreams = routing.streams();
  const [failures, scheduledRetries, held, passes] = await Promise.all([
    states.openFailures(errorStreams, RECENT_FAILURES),
    states.scheduledRetries(),
    states.heldTotals(),
    Promise.all(errorStreams.map((stream) => states.replayPass(stream))),
  ]);
  return {
    streams: [
      { stream: mainStream },
      ...errorStreams.map((stream, index) => {
        const pass = passes[index];
        return {
          stream,
          errorStream: true,
          unrecoverable: routing.isUnrecoverable(stream),
          openFailures: failures.counts.get(stream) ?? 0,
          ...(pass ? { replayPosition: offsetToJson(pass.position) } : {}),
        };
      }),
    ],
    consumer: { stream: mainStream, backlog: null, inFlight: inFlight.size, scheduledRetries },
    heldKeys: {
      keys: held.keys,
      messages: held.messages,
      ...(held.oldestSince ? { oldestSince: held.oldestSince.toISOString() } : {}),
    },
    secretStoreCalls: { ...secretStoreCalls },
    targets: [...inFlight.byOrigin()].map(([origin, count]) => ({ origin, inFlight: count })),
    recentFailures: failures.recent.map((failure) => ({
      id: failure.id,
      stream: failure.stream,
      ...(failure.offset === undefined ? {} : { offset: offsetToJson(BigInt(failure.offset)) }),
      target: failure.target,
      attempt: failure.attempt,
      at: failure.at.toISOString(),
      ...(failure.reason === undefined ? {} : { reason: failure.reason }),
      ...(failure.status === undefined ? {} : { status: failure.status }),
    })),
  };
}
