import type { Logger } from '../../shared/pipeline/ports';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  event: string;
  fields: Record<string, unknown>;
}

export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', event, fields });
  }

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', event, fields });
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', event, fields });
  }

  events(name: string): LogLine[] {
    return this.lines.filter((line) => line.event === name);
  }

  text(): string {
    return JSON.stringify(this.lines);
  }
}
