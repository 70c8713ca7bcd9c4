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

  it('writes one JSON blob per record under <stream>/<yyyy>/<mm>/<dd>/<offset>-<id>-attempt<n>.json', async () => {
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

  it('names a record by where it failed from when its own offset is not known yet (Service Bus)', async () => {
    const record = envelope('https://t.example/x', {
      attempt: 2,
      failure: {
        reason: 'http',
        status: 409,
        routedBy: 'unexpectedError',
        at: '2026-03-04T05:06:07.000Z',
        from: { stream: 'datasync', offset: '41' },
      },
    });
    const location = await new BlobArchive(container).put({ stream: 'parked', record });
    expect(location).toBe(
      `${container.containerName}/parked/2026/03/04/from-datasync-41-${record.id}-attempt2.json`,
    );
  });

  it('never overwrites: a later attempt gets its own blob, the same attempt archived again keeps the first', async () => {
    const failure = {
      reason: 'http' as const,
      status: 409,
      routedBy: 'unexpectedError',
      at: '2026-03-04T05:06:07.000Z',
      from: { stream: 'datasync', offset: '3' },
    };
    const first = envelope('https://t.example/x', { attempt: 1, failure });
    const archive = new BlobArchive(container);
    const location = await archive.put({ stream: 'parked', record: first });
    const again = { ...first, failure: { ...failure, responseExcerpt: 'a redelivery' } };
    await expect(archive.put({ stream: 'parked', record: again })).resolves.toBe(location);
    await archive.put({ stream: 'parked', record: { ...first, attempt: 2 } });

    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names.sort()).toEqual([
      `parked/2026/03/04/from-datasync-3-${first.id}-attempt1.json`,
      `parked/2026/03/04/from-datasync-3-${first.id}-attempt2.json`,
    ]);
    const kept = await container.getBlobClient(names[0] as string).downloadToBuffer();
    expect(JSON.parse(kept.toString('utf8'))).toEqual(first);
  });

  it('reports a storage error when the container is missing', async () => {
    await container.delete();
    await expect(
      new BlobArchive(container).put({ stream: 's', offset: 1n, record: envelope('https://t/x') }),
    ).rejects.toBeInstanceOf(StorageError);
  });
});
