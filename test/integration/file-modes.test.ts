import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArchive } from '../../shared/adapters/local/file-archive';
import { openDatabase } from '../../shared/adapters/local/sqlite-database';
import { loadOrCreateKey } from '../../shared/adapters/local/sqlite-secret-store';
import { envelope } from '../helpers/fixtures';

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('local data files', () => {
  let dir: string;
  let umask: number;
  // With a umask of 0 a file has exactly the mode the code asks for: a strict umask (077 on many CI
  // runners) would otherwise hide a file created 0644.
  beforeEach(() => {
    umask = process.umask(0);
    dir = mkdtempSync(join(tmpdir(), 'datasync-modes-'));
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('are readable by their owner only: database, its WAL files, key file, archive', async () => {
    const dataDir = join(dir, 'data');
    const db = openDatabase(join(dataDir, 'datasync.db'));
    db.exec("INSERT INTO streams (name, last_offset) VALUES ('s', 0)");
    loadOrCreateKey(join(dataDir, 'secrets.key'));
    const archived = await new FileArchive(join(dataDir, 'archive')).put({
      stream: 'datasync-error-unexpected',
      offset: 0n,
      record: envelope('https://t.example/a'),
    });
    for (const file of ['datasync.db', 'datasync.db-wal', 'datasync.db-shm', 'secrets.key']) {
      expect([file, modeOf(join(dataDir, file))]).toEqual([file, 0o600]);
    }
    expect(modeOf(archived)).toBe(0o600);
    expect(modeOf(dataDir)).toBe(0o700);
    db.close();
  });
});
