import { SingleBar, Presets } from 'cli-progress';

export interface Counts {
  delivered: number;
  failed: number;
  skipped: number;
}

/** Shows how far a long command got: a bar on a terminal, one plain line per step otherwise. */
export interface Progress {
  update(done: number, total: number, note: string): void;
  stop(): void;
}

export function progressFor(stream: NodeJS.WriteStream, label: string): Progress {
  if (!stream.isTTY) {
    return {
      update: (done, total, note) => stream.write(`${label}: ${done}/${total} ${note}\n`),
      stop: () => undefined,
    };
  }
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {note}`, stream, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total, note) => {
      if (!started) bar.start(total, 0, { note: '' });
      started = true;
      bar.setTotal(total);
      bar.update(done, { note });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
