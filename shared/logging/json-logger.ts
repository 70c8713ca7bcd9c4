import type { Logger } from '../pipeline/ports';

type Level = 'info' | 'warn' | 'error';

/** One JSON object per line: `{"time","level","event",...fields}`. Fields never carry secrets or payloads. */
export class JsonLogger implements Logger {
  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

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

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
