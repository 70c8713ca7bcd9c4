import { azureStorageError, restCode } from './azure-errors';
import type { ContainerClient } from '@azure/storage-blob';
import { encodeEnvelope } from '../../contract/envelope-codec';
import type { Archive, ArchiveEntry } from '../../pipeline/ports';
import { archiveName } from '../archive-name';

/**
 * Unrecoverable error records as JSON blobs (names: see `archiveName`). A blob is never overwritten:
 * the upload requires that none exists, and one that does is the same attempt archived before (a
 * redelivered message), so it counts as archived.
 */
export class BlobArchive implements Archive {
  constructor(private readonly container: ContainerClient) {}

  async put(entry: ArchiveEntry): Promise<string> {
    const name = archiveName(entry);
    const text = encodeEnvelope(entry.record, 2);
    try {
      await this.container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        conditions: { ifNoneMatch: '*' },
      });
    } catch (error) {
      if (restCode(error) !== 'BlobAlreadyExists') {
        throw azureStorageError(`archive ${name}`, error);
      }
    }
    return `${this.container.containerName}/${name}`;
  }
}
