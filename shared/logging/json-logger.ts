import type { Logger } from '../pipeline/ports';

type Level = 'info' | 'warn' | 'error';

/**
 * Standard output, written once per event-loop turn: writes to a pipe are synchronous on Linux, and
 * one per log line cost more than the work being logged. Flushed at exit too.
 */
function bufferedStdout(): (line: string) => void {
  let buffer: string[] = [];
  const flush = () => {
    if (buffer.length === 0) return;
    const text = `${buffer.join('\n')}\n`;
    buffer = [];
    process.stdout.write(text);
  };
  process.on('exit', flush);
  return (line) => {
    if (buffer.push(line) === 1) setImmediate(flush);
  };
}

/** One JSON object per line: `{"time","level","event",...fields}`. Fields never carry secrets or payloads. */
export class JsonLogger implements Logger {
  constructor(private readonly write: (line: string) => void = bufferedStdout()) {}

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.emit('info', event, fields);
  }

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.emit('warn', event, fields);
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.emit('error', event, fields);
  }

  private emit(level: Level, event: string, fields: Record<string, unknown>): void {
    this.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }));
  }
}
