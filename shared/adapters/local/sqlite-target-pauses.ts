import { translatingLocalErrors } from './local-errors';
import type Database from 'better-sqlite3';

/** Target origins an operator paused, kept in the embedded database so a pause survives restarts. */
export class SqliteTargetPauses {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      pause: db.prepare('INSERT INTO paused_origins (origin, since) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      resume: db.prepare('DELETE FROM paused_origins WHERE origin = ?'),
      all: db.prepare('SELECT origin, since FROM paused_origins'),
    };
  }

  pause(origin: string): void {
    translatingLocalErrors('change the paused targets', () => this.statements.pause.run(origin, Date.now()));
  }

  /** False when the origin was not paused. */
  resume(origin: string): boolean {
    return translatingLocalErrors(
      'change the paused targets',
      () => this.statements.resume.run(origin).changes > 0,
    );
  }

  all(): Map<string, Date> {
    const rows = translatingLocalErrors('read the paused targets', () => this.statements.all.all()) as Array<{
      origin: string;
      since: number;
    }>;
    return new Map(rows.map((row) => [row.origin, new Date(row.since)]));
  }
}
