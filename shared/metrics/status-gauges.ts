/** The parts of the status report (`GET /api/stream/status`) the gauges read; newer fields are optional. */
export interface StatusReport {
  streams: Array<{ stream: string; retained: number; errorStream?: boolean; openFailures?: number }>;
  consumer: {
    backlog?: number;
    /** The older name of `backlog`. */
    lag?: number;
    inFlight: number;
    scheduledRetries: number;
  };
  heldKeys?: { keys: number; messages: number };
  targets?: Array<{ origin: string; inFlight: number; queued: number }>;
}

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

/** Turns one status report into the value of every gauge, read at scrape time. */
export function statusGauges(status: StatusReport): Record<GaugeName, GaugeSample[]> {
  const one = (value: number | undefined): GaugeSample[] =>
    value === undefined ? [] : [{ labels: {}, value }];
  const targets = status.targets ?? [];
  return {
    streamRetained: status.streams.map((s) => ({ labels: { stream: s.stream }, value: s.retained })),
    openFailures: status.streams.flatMap((s) =>
      s.errorStream && s.openFailures !== undefined
        ? [{ labels: { stream: s.stream }, value: s.openFailures }]
        : [],
    ),
    consumerBacklog: one(status.consumer.backlog ?? status.consumer.lag),
    consumerInFlight: one(status.consumer.inFlight),
    scheduledRetries: one(status.consumer.scheduledRetries),
    heldKeys: one(status.heldKeys?.keys),
    heldMessages: one(status.heldKeys?.messages),
    targetInFlight: targets.map((t) => ({ labels: { origin: t.origin }, value: t.inFlight })),
    targetQueued: targets.map((t) => ({ labels: { origin: t.origin }, value: t.queued })),
  };
}
