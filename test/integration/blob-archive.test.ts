import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { BlobArchive } from '../../shared/adapters/azure/blob-archive';
import { StorageError } from '../../shared/pipeline/errors';
import { Azurite } from '../helpers/azurite';
import { envelope } from '../helpers/fixtures';

describe('BlobArchive (against Azurite)', () => {
  const azurite = new Azurite();
  let container: ContainerClient;

  beforeAll(async () => {
    await azurite.start();
  }, 30_000);
  afterAll(() => azurite.stop());

  beforeEach(async () => {
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      `archive-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    );
    await container.create();
  });
  afterEach(() => container.deleteIfExists());

  it('writes one JSON blob per record under <stream>/<yyyy>/<mm>/<dd>/<offset>-<id>.json', async () => {
    const record = envelope('https://t.example/x', {
      streamMessage: {
        vaultSecretName: '789',
        targetRestApi: 'https://t.example/x',
        targetRestApiOperation: 'POST',
      },
      failure: {
        reason: 'http',
        status: 409,
        routedBy: 'unexpectedError',
        at: '2026-03-04T05:06:07.000Z',
        from: { stream: 'datasync', offset: '3' },
      },
    });
    const location = await new BlobArchive(container).put({
      stream: 'datasync-error-unexpected',
      offset: 12n,
      record,
    });
    const name = `datasync-error-unexpected/2026/03/04/12-${record.id}-attempt${record.attempt}.json`;
    expect(location).toBe(`${container.containerName}/${name}`);
    const blob = container.getBlobClient(name);
    const properties = await blob.getProperties();
    expect(properties.contentType).toBe('application/json');
    const text = (await blob.downloadToBuffer()).toString('utf8');
    expect(JSON.parse(text)).toEqual(record);
  });

  it('never overwrites an archived record: a later attempt gets its own blob, a repeated write is a no-op', async () => {
    const archive = new BlobArchive(container);
    const first = envelope('https://t/x', { attempt: 1 });
    const at = await archive.put({ stream: 's', offset: 1n, record: first });
    expect(await archive.put({ stream: 's', offset: 1n, record: { ...first, streamKey: 'changed' } })).toBe(
      at,
    );
    const later = await archive.put({ stream: 's', offset: 1n, record: { ...first, attempt: 2 } });
    expect(later).not.toBe(at);
    const kept = await container
      .getBlobClient(at.slice(container.containerName.length + 1))
      .downloadToBuffer();
    expect(JSON.parse(kept.toString('utf8'))).toMatchObject({ streamKey: '' });
  });

  it('reports a storage error when the container is missing', async () => {
    await container.delete();
    await expect(
      new BlobArchive(container).put({ stream: 's', offset: 1n, record: envelope('https://t/x') }),
    ).rejects.toBeInstanceOf(StorageError);
  });
});
