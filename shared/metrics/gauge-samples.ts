import type { StatusReport } from '../api/status-report';

export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

export type GaugeName =
  | 'streamRetained'
  | 'openFailures'
  | 'consumerBacklog'
  | 'consumerInFlight'
  | 'scheduledRetries'
  | 'heldKeys'
  | 'heldMessages'
  | 'targetInFlight'
  | 'targetQueued';

/** Turns one status report into the value of every Prometheus gauge, read at scrape time. */
export function gaugeSamples(status: StatusReport): Record<GaugeName, GaugeSample[]> {
  const one = (value: number | undefined): GaugeSample[] =>
    value === undefined ? [] : [{ labels: {}, value }];
  return {
    streamRetained: status.streams.flatMap((s) =>
      s.retained === undefined ? [] : [{ labels: { stream: s.stream }, value: s.retained }],
    ),
    openFailures: status.streams.flatMap((s) =>
      s.errorStream && s.openFailures !== undefined
        ? [{ labels: { stream: s.stream }, value: s.openFailures }]
        : [],
    ),
    consumerBacklog: one(status.consumer.backlog ?? undefined),
    consumerInFlight: one(status.consumer.inFlight),
    scheduledRetries: one(status.consumer.scheduledRetries),
    heldKeys: one(status.heldKeys.keys),
    heldMessages: one(status.heldKeys.messages),
    targetInFlight: status.targets.map((t) => ({ labels: { origin: t.origin }, value: t.inFlight })),
    targetQueued: status.targets.flatMap((t) =>
      t.queued === undefined ? [] : [{ labels: { origin: t.origin }, value: t.queued }],
    ),
  };
}
