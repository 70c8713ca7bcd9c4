import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Opens the embedded database: WAL so readers never block the writer, `synchronous = FULL` so a
 * committed append survives a power cut (a 202 means durable), schema created on first use.
 */
export function openDatabase(file: string): Database.Database {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Owner-only; SQLite gives its -wal and -shm files the database file's mode.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS streams (
      name TEXT PRIMARY KEY,
      last_offset INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS messages (
      stream TEXT NOT NULL,
      offset INTEGER NOT NULL,
      body TEXT NOT NULL,
      enqueued_at INTEGER NOT NULL,
      PRIMARY KEY (stream, offset)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS cursors (
      consumer TEXT NOT NULL,
      stream TEXT NOT NULL,
      offset INTEGER NOT NULL,
      PRIMARY KEY (consumer, stream)
    );
    CREATE TABLE IF NOT EXISTS scheduled (
      id TEXT NOT NULL,
      stream TEXT NOT NULL,
      body TEXT NOT NULL,
      visible_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS scheduled_visible_at ON scheduled (visible_at);
    CREATE TABLE IF NOT EXISTS secrets (
      name TEXT PRIMARY KEY,
      origin TEXT NOT NULL,
      sealed BLOB NOT NULL,
      updated_at INTEGER NOT NULL,
      used_at INTEGER NOT NULL
    );
  `);
  return db;
}
