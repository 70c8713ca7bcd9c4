import { localStorageError } from './local-errors';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Archive, ArchiveEntry } from '../../pipeline/ports';
import { encodeEnvelope } from '../../contract/envelope-codec';
import { archiveName } from '../archive-name';

/** Unrecoverable error records as JSON files under `<dir>` (names: see `archiveName`). */
export class FileArchive implements Archive {
  constructor(private readonly directory: string) {}

  async put(entry: ArchiveEntry): Promise<string> {
    const file = join(this.directory, archiveName(entry));
    try {
      await mkdir(join(file, '..'), { recursive: true });
      const partial = `${file}.partial`;
      await writeFile(partial, encodeEnvelope(entry.record, 2), { mode: 0o600 });
      await rename(partial, file);
    } catch (error) {
      throw localStorageError(`archive to ${file}`, error);
    }
    return file;
  }
}
