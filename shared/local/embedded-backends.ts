import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { FileArchive } from '../adapters/local/file-archive';
import { LocalAlerts } from '../adapters/local/local-alerts';
import { openDatabase } from '../adapters/local/sqlite-database';
import { SqliteDeliveryQueue } from '../adapters/local/sqlite-delivery-queue';
import { SqliteMessageStates } from '../adapters/local/sqlite-message-states';
import { SqliteRetention } from '../adapters/local/sqlite-retention';
import { loadOrCreateKey, SqliteSecretStore } from '../adapters/local/sqlite-secret-store';
import { SqliteStream } from '../adapters/local/sqlite-stream';
import { SqliteTargetPauses } from '../adapters/local/sqlite-target-pauses';
import type { Backends } from '../assembly/pipeline-assembly';
import type { LocalConfig } from '../config/config';
import type { Logger } from '../pipeline/ports';
import { CachedSecretStore } from '../pipeline/secret-cache';

/**
 * The embedded backends of one data directory: a SQLite database (stream, message states, delivery
 * queue, retention, paused targets, sealed secrets) and a file archive.
 */
export class EmbeddedBackends {
  readonly db: Database.Database;
  readonly states: SqliteMessageStates;
  readonly stream: SqliteStream;
  readonly queue: SqliteDeliveryQueue;
  readonly retention: SqliteRetention;
  readonly pauses: SqliteTargetPauses;
  /** The store itself (key check, idle cleanup); deliveries read through `secrets`. */
  readonly secretStore: SqliteSecretStore;
  readonly secrets: CachedSecretStore;
  readonly archive: FileArchive;

  /** `exclusive`: this process owns the directory (the host); tests may open it shared. */
  constructor(config: LocalConfig, options: { exclusive: boolean }) {
    const dataDir = config.local.dataDir;
    this.db = openDatabase(join(dataDir, 'datasync.db'), options);
    this.states = new SqliteMessageStates(this.db, config.mainStream);
    this.stream = new SqliteStream(this.db, this.states.registerAppended);
    this.queue = new SqliteDeliveryQueue(this.db, config.mainStream);
    this.retention = new SqliteRetention(this.db);
    this.pauses = new SqliteTargetPauses(this.db);
    this.secretStore = new SqliteSecretStore(
      this.db,
      loadOrCreateKey(join(dataDir, 'secrets.key'), config.local.secretKey),
    );
    this.secrets = new CachedSecretStore(this.secretStore, config.secretCacheTtlMs);
    this.archive = new FileArchive(join(dataDir, 'archive'));
  }

  /** What the assembly wires the pipeline on; alerts log through `log`. */
  backends(log: Logger): Backends {
    return {
      stream: this.stream,
      states: this.states,
      secrets: this.secrets,
      archive: this.archive,
      alerts: new LocalAlerts(this.stream, log),
    };
  }

  /** Writes the outcomes not committed yet, then closes the database. */
  close(): void {
    this.states.flush();
    this.db.close();
  }
}
