import type { ContainerClient } from '@azure/storage-blob';
import { StorageError } from '../../pipeline/errors';
import type { Archive, ArchiveEntry } from '../../pipeline/ports';
import { encodeEnvelope } from '../../contract/envelope-codec';
import { archiveName } from '../archive-name';

/**
 * Unrecoverable error records as JSON blobs (`archiveName`), written once: an existing blob is never
 * overwritten, and finding it already there (a retried write whose answer was lost) counts as done.
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
      if ((error as { statusCode?: number }).statusCode === 409)
        return `${this.container.containerName}/${name}`;
      throw new StorageError(`could not archive ${name}: ${(error as Error).message}`, { cause: error });
    }
    return `${this.container.containerName}/${name}`;
  }
}
