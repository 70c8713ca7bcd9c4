import type { StatusReport } from '../api/status-report';
import type { PipelineAssembly } from '../assembly/pipeline-assembly';
import { offsetToJson } from '../contract/offset';
import type { EmbeddedBackends } from './embedded-backends';

const RECENT_FAILURES = 5;

/** What the local status report is read from. */
export interface LocalStatusSources {
  mainStream: string;
  backends: EmbeddedBackends;
  assembly: PipelineAssembly;
  /** Paused target origins, and since when. */
  paused: ReadonlyMap<string, Date>;
  /** Deliveries the consumer has under way. */
  consumerInFlight: number;
}

/** The status report of the embedded backends: every figure is counted exactly. */
export async function localStatus(sources: LocalStatusSources): Promise<StatusReport> {
  const { backends, assembly, paused } = sources;
  const routing = assembly.routing;
  const errorStreamNames = new Set(routing.streams());
  const streams = backends.stream.summaries();
  const openFailures = backends.states.openFailures();
  const errorStreams = streams.filter((summary) => errorStreamNames.has(summary.stream));
  const passes = await Promise.all(errorStreams.map((summary) => backends.states.replayPass(summary.stream)));
  const failures = await Promise.all(
    errorStreams.map((summary) => backends.stream.latest(summary.stream, RECENT_FAILURES)),
  );
  const held = backends.states.heldTotals();
  const queued = backends.queue.queuedByOrigin();
  const inFlight = assembly.inFlight.byOrigin();
  const paced = [...assembly.pacing.entries()].map(([origin]) => origin);
  const origins = [...new Set([...queued.keys(), ...inFlight.keys(), ...paused.keys(), ...paced])].sort();
  return {
    streams: streams.map((summary) => {
      const pass = passes[errorStreams.indexOf(summary)];
      return {
        stream: summary.stream,
        lastOffset: offsetToJson(summary.lastOffset),
        retained: summary.retained,
        ...(errorStreamNames.has(summary.stream)
          ? {
              errorStream: true,
              unrecoverable: routing.isUnrecoverable(summary.stream),
              openFailures: openFailures.get(summary.stream) ?? 0,
              ...(pass ? { replayPosition: offsetToJson(pass.position) } : {}),
            }
          : {}),
      };
    }),
    consumer: {
      stream: sources.mainStream,
      ...backends.queue.counts(),
      inFlight: sources.consumerInFlight,
    },
    heldKeys: {
      keys: held.keys,
      messages: held.messages,
      ...(held.oldestSince ? { oldestSince: held.oldestSince.toISOString() } : {}),
    },
    secretStoreCalls: { ...backends.secrets.backendCalls },
    targets: origins.map((origin) =>
      targetReport(sources, origin, inFlight.get(origin) ?? 0, queued.get(origin) ?? 0),
    ),
    recentFailures: failures
      .flat()
      .sort((a, b) => b.enqueuedAt.getTime() - a.enqueuedAt.getTime())
      .slice(0, RECENT_FAILURES * 2)
      .map((record) => ({
        stream: record.stream,
        offset: offsetToJson(record.offset),
        id: record.body.id,
        target: new URL(record.body.streamMessage.targetRestApi).origin,
        attempt: record.body.attempt,
        reason: record.body.failure?.reason,
        status: record.body.failure?.status,
        routedBy: record.body.failure?.routedBy,
        at: record.body.failure?.at,
      })),
  };
}

function targetReport(
  sources: LocalStatusSources,
  origin: string,
  inFlight: number,
  queued: number,
): StatusReport['targets'][number] {
  const pausedSince = sources.paused.get(origin);
  if (pausedSince) {
    return {
      origin,
      inFlight,
      queued,
      limit: 0,
      state: 'paused',
      reason: `paused since ${pausedSince.toISOString()}`,
    };
  }
  const pacer = sources.assembly.pacing.of(origin);
  const state = pacer.state;
  return {
    origin,
    inFlight,
    queued,
    limit: pacer.capacity(),
    state,
    ...(pacer.reason ? { reason: pacer.reason } : {}),
    ...(state === 'open' || state === 'throttled' ? { until: new Date(pacer.waitUntil).toISOString() } : {}),
  };
}
