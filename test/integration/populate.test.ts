import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORED_CONNECTION_PREFIX } from '../../shared/contract/connection';
import {
  IdempotencyConflictError,
  PayloadTooLargeError,
  SecretUnreadableError,
  ValidationError,
} from '../../shared/pipeline/errors';
import type { Envelope } from '../../shared/contract/envelope';
import { encodeEnvelope, parseJsonBody } from '../../shared/contract/envelope-codec';
import { populate } from '../../shared/pipeline/populate';
import type { SecretStore } from '../../shared/pipeline/ports';
import { CachedSecretStore } from '../../shared/pipeline/secret-cache';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { keyless, syncRequest } from '../helpers/fixtures';

describe('populate', () => {
  let pipeline: EmbeddedPipeline;
  beforeEach(() => (pipeline = new EmbeddedPipeline()));
  afterEach(() => pipeline.close());

  const problemsOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems;
  };

  it('appends the reference payload with an offset and keeps the credential out of the stream', async () => {
    const { appended } = await populate(pipeline.populateDeps, {
      body: syncRequest('https://target.example/orders'),
      authorization: 'Bearer secret-token-123',
    });
    expect(appended).toEqual([{ stream: 'datasync', id: expect.any(String), offset: 0n }]);
    const [record] = await pipeline.all('datasync');
    expect(record?.body.streamMessage.targetRestApiPayload).toEqual({ orderid: '18jan', PO: '18jan' });
    expect(JSON.stringify(record?.body)).not.toContain('secret-token-123');
    await expect(pipeline.secrets.get('789')).resolves.toEqual({
      value: 'Bearer secret-token-123',
      origin: 'https://target.example',
    });
  });

  it('stores the credential encrypted: the database file never holds it in clear', async () => {
    await populate(pipeline.populateDeps, {
      body: syncRequest('https://target.example/orders'),
      authorization: 'Bearer secret-token-123',
    });
    pipeline.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(join(pipeline.dir, 'datasync.db')).includes('secret-token-123')).toBe(false);
  });

  it('treats an empty array as a successful no-op', async () => {
    await expect(populate(pipeline.populateDeps, { body: [] })).resolves.toEqual({
      appended: [],
      repeated: false,
    });
    await expect(pipeline.stream.exists('datasync')).resolves.toBe(false);
  });

  it('refuses the whole batch when one item is invalid, listing every problem by path', async () => {
    const problems = await problemsOf(
      populate(pipeline.populateDeps, {
        body: [
          syncRequest('https://target.example/a'),
          {
            streamMessage: {
              targetRestApi: 'not a url',
              targetRestApiOperation: 'GET',
              vaultSecretName: 'bad name!',
            },
          },
          { streamKey: 'k' },
        ],
        authorization: 'Bearer t',
      }),
    );
    expect(problems).toEqual([
      '[1].streamMessage.vaultSecretName: must be 1-127 characters of 0-9, A-Z, a-z and -',
      '[1].streamMessage.targetRestApi: must be an absolute http(s) URL',
      '[1].streamMessage.targetRestApiOperation: must be one of POST, PUT, PATCH, DELETE',
      '[2].streamMessage: required',
    ]);
    await expect(pipeline.stream.exists('datasync')).resolves.toBe(false);
    await expect(pipeline.secrets.get('789')).resolves.toBeUndefined();
  });

  it('refuses a credential smuggled in targetRestApiHeaders', async () => {
    const problems = await problemsOf(
      populate(pipeline.populateDeps, {
        body: syncRequest('https://target.example/a', {
          targetRestApiHeaders: [{ key: 'authorization', value: 'Bearer x' }],
        }),
        authorization: 'Bearer t',
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^streamMessage\.targetRestApiHeaders\[0\]\.key: this header may not/),
    ]);
  });

  it('binds a stored credential to its origin', async () => {
    await populate(pipeline.populateDeps, {
      body: syncRequest('https://a.example/x'),
      authorization: 'Bearer t',
    });
    const { appended } = await populate(pipeline.populateDeps, { body: syncRequest('https://a.example/y') });
    expect(appended).toHaveLength(1);
    const problems = await problemsOf(
      populate(pipeline.populateDeps, { body: syncRequest('https://evil.example/x') }),
    );
    expect(problems).toEqual([
      'streamMessage.vaultSecretName: "789" is bound to https://a.example, not https://evil.example',
    ]);
  });

  it('refuses a secret name nothing was stored under', async () => {
    const problems = await problemsOf(
      populate(pipeline.populateDeps, { body: syncRequest('https://a.example/x') }),
    );
    expect(problems).toEqual([
      'streamMessage.vaultSecretName: no credential or connection is stored under "789"; send the credential in the Authorization header or PUT /api/connections/789',
    ]);
  });

  it('refuses an Authorization header when no message names a vaultSecretName, keeping nothing', async () => {
    const body = syncRequest('https://a.example/x', { vaultSecretName: undefined });
    const problems = await problemsOf(populate(pipeline.populateDeps, { body, authorization: 'Bearer t' }));
    expect(problems).toEqual([
      'headers.authorization: is given but no message names a vaultSecretName to keep it under',
    ]);
    expect(pipeline.secrets.count()).toBe(0);
    await expect(pipeline.stream.exists('datasync')).resolves.toBe(false);
  });

  it('refuses one credential for two origins in one request', async () => {
    const problems = await problemsOf(
      populate(pipeline.populateDeps, {
        body: [syncRequest('https://a.example/x'), syncRequest('https://b.example/x')],
        authorization: 'Bearer t',
      }),
    );
    expect(problems).toEqual([
      '[1].streamMessage.vaultSecretName: "789" is used for https://a.example and https://b.example; a credential is bound to one origin',
    ]);
  });

  it('answers too large for a message over the limit and for a batch over the limit, storing nothing', async () => {
    const big = syncRequest('https://a.example/x', {
      targetRestApiPayload: { blob: 'x'.repeat(300 * 1024) },
    });
    await expect(
      populate(pipeline.populateDeps, { body: big, authorization: 'Bearer t' }),
    ).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(pipeline.secrets.get('789')).resolves.toBeUndefined();
    const many = Array.from({ length: 101 }, () => syncRequest('https://a.example/x'));
    await expect(populate(pipeline.populateDeps, { body: many, authorization: 'Bearer t' })).rejects.toThrow(
      /at most 100 messages/,
    );
    await expect(pipeline.stream.exists('datasync')).resolves.toBe(false);
  });

  it('refuses targets outside the policy at ingest', async () => {
    const strict = new EmbeddedPipeline({ allowPrivate: false });
    try {
      const problems = await problemsOf(
        populate(strict.populateDeps, {
          body: syncRequest('http://169.254.169.254/latest'),
          authorization: 'Bearer t',
        }),
      );
      expect(problems).toEqual([
        expect.stringMatching(/^streamMessage\.targetRestApi: address 169\.254\.169\.254 is linkLocal/),
      ]);
    } finally {
      strict.close();
    }
  });

  it.each([
    ['CR/LF', 'a\r\nX-Injected: 1'],
    ['NUL', 'a\u0000b'],
    ['another control character', 'a\u0007b'],
    ['a non-ASCII character', 'price in €'],
  ])('refuses a header value with %s, naming the header', async (_what, value) => {
    const body = syncRequest('https://target.example/orders', {
      vaultSecretName: undefined,
      targetRestApiHeaders: [
        { key: 'Accept', value: 'application/json' },
        { key: 'X-Note', value },
      ],
    });
    expect(await problemsOf(populate(pipeline.populateDeps, { body }))).toEqual([
      expect.stringMatching(
        /^streamMessage\.targetRestApiHeaders\[1\]\.value: header "X-Note" must be printable ASCII/,
      ),
    ]);
    await expect(pipeline.stream.exists('datasync')).resolves.toBe(false);
  });

  it('never lets an empty Authorization header replace a stored credential', async () => {
    const body = syncRequest('https://target.example/orders');
    await populate(pipeline.populateDeps, { body, authorization: 'Bearer kept-token-1' });
    expect(await problemsOf(populate(pipeline.populateDeps, { body, authorization: '' }))).toEqual([
      'headers.authorization: is empty; send the credential, or leave the header out to use the one stored',
    ]);
    expect(await problemsOf(populate(pipeline.populateDeps, { body, authorization: ' \t ' }))).toEqual([
      'headers.authorization: is empty; send the credential, or leave the header out to use the one stored',
    ]);
    await expect(pipeline.secrets.get('789')).resolves.toMatchObject({ value: 'Bearer kept-token-1' });
  });

  it('keeps no secret name of a refused request in the secret cache', async () => {
    const cache = new CachedSecretStore(pipeline.secrets, 60_000);
    const deps = { ...pipeline.populateDeps, secrets: cache };
    for (let i = 0; i < 200; i += 1) {
      const body = syncRequest('https://target.example/orders', { vaultSecretName: `name-${i}` });
      await problemsOf(populate(deps, { body }));
    }
    expect(cache.size).toBe(0);
  });

  it('measures the size limit on what is stored, and stores the numbers as sent', async () => {
    // 1e20 is 4 characters as sent and 21 as JSON.stringify writes it: the stored form is what counts.
    const numbers = Array.from({ length: 45_000 }, () => '1e20').join(',');
    const text = `{"streamMessage":{"targetRestApi":"https://target.example/a","targetRestApiOperation":"POST","targetRestApiPayload":[${numbers}]}}`;
    expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024);
    await populate(pipeline.populateDeps, { body: parseJsonBody(Buffer.from(text)) });
    const row = pipeline.db
      .prepare("SELECT body FROM messages WHERE stream = 'datasync'")
      .pluck()
      .get() as string;
    expect(Buffer.byteLength(row)).toBeLessThanOrEqual(256 * 1024);
    expect(row).toContain(`[${numbers}]`);
  });

  it('answers a repeated Idempotency-Key with the first answer, enqueueing and counting nothing more; another body is a conflict', async () => {
    const key = 'batch-2026-11-23-0001';
    const body = [syncRequest('https://a.example/x'), syncRequest('https://a.example/y')];
    const first = await populate(pipeline.populateDeps, {
      body,
      authorization: 'Bearer t',
      idempotencyKey: key,
    });
    const repeat = await populate(pipeline.populateDeps, {
      body,
      authorization: 'Bearer t',
      idempotencyKey: key,
    });
    expect(first).toEqual({ appended: [expect.anything(), expect.anything()], repeated: false });
    expect(repeat).toEqual({ appended: first.appended, repeated: true });
    expect(await pipeline.all('datasync')).toHaveLength(2);
    expect(pipeline.log.events('sync.accepted').map((line) => line.fields)).toEqual([
      { stream: 'datasync', count: 2 },
    ]);
    await expect(
      populate(pipeline.populateDeps, { body: body.slice(0, 1), idempotencyKey: key }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('appends the same message ids again when a request is repeated after its Idempotency-Key could not be remembered', async () => {
    const key = 'batch-2026-11-23-0002';
    const body = [syncRequest('https://a.example/x'), syncRequest('https://a.example/y')];
    const states = pipeline.populateDeps.states;
    const forgetful = {
      ...pipeline.populateDeps,
      states: {
        findIngest: (ingestKey: string) => states.findIngest(ingestKey),
        rememberIngest: () => Promise.reject(new Error('disk full')),
      },
    };
    await expect(
      populate(forgetful, { body, authorization: 'Bearer t', idempotencyKey: key }),
    ).rejects.toThrow('disk full');
    const lost = (await pipeline.all('datasync')).map((record) => record.body.id);
    const { appended } = await populate(pipeline.populateDeps, { body, idempotencyKey: key });
    expect(appended.map((item) => item.id)).toEqual(lost);
  });

  it('gives every message of a request without an Idempotency-Key its own id', async () => {
    const body = [syncRequest('https://a.example/x'), syncRequest('https://a.example/x')];
    await populate(pipeline.populateDeps, { body, authorization: 'Bearer t' });
    await populate(pipeline.populateDeps, { body });
    const ids = (await pipeline.all('datasync')).map((record) => record.body.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('takes an Idempotency-Key of 1 to 255 visible ASCII characters', async () => {
    const body = syncRequest('https://a.example/x', { vaultSecretName: undefined });
    for (const key of ['k', '!~', 'x'.repeat(255)]) {
      await expect(populate(pipeline.populateDeps, { body, idempotencyKey: key })).resolves.toMatchObject({
        repeated: false,
      });
    }
  });

  it.each([
    ['empty', ''],
    ['longer than 255 characters', 'x'.repeat(256)],
    ['with a space', 'batch 1'],
    ['starting with a non-ASCII character', 'ébatch-1'],
    ['ending with a non-ASCII character', 'batch-1é'],
  ])('refuses an Idempotency-Key %s, enqueueing nothing', async (_what, key) => {
    const body = syncRequest('https://a.example/x', { vaultSecretName: undefined });
    expect(await problemsOf(populate(pipeline.populateDeps, { body, idempotencyKey: key }))).toEqual([
      'headers.idempotency-key: must be 1-255 visible ASCII characters',
    ]);
    await expect(pipeline.stream.exists('datasync')).resolves.toBe(false);
  });

  it('stores a message without a streamKey unkeyed, so it waits for no other message', async () => {
    const { streamMessage } = keyless('https://a.example/x');
    await populate(pipeline.populateDeps, { body: { streamMessage } });
    const [record] = await pipeline.all('datasync');
    expect(record?.body.streamKey).toBe('');
  });

  it('takes a batch of exactly the batch limit and a message of exactly the size limit', async () => {
    const body = [keyless('https://a.example/x'), keyless('https://a.example/y')];
    await populate(pipeline.populateDeps, { body: body.slice(0, 1) });
    const [stored] = await pipeline.all('datasync');
    const bytes = Buffer.byteLength(encodeEnvelope(stored?.body as Envelope));
    const limits = { ...pipeline.populateDeps.limits, maxBatch: 2, maxMessageBytes: bytes };
    const atLimit = { ...pipeline.populateDeps, limits };
    await expect(populate(atLimit, { body })).resolves.toMatchObject({ appended: [{}, {}] });
    const overLimit = { ...atLimit, limits: { ...limits, maxMessageBytes: bytes - 1 } };
    await expect(populate(overLimit, { body: body[0] })).rejects.toMatchObject({
      problems: [`message is ${bytes} bytes stored; the limit is ${bytes - 1}`],
    });
  });

  it('refuses an Authorization header that holds a stored connection rather than a credential', async () => {
    const problems = await problemsOf(
      populate(pipeline.populateDeps, {
        body: syncRequest('https://a.example/x'),
        authorization: `${STORED_CONNECTION_PREFIX}{"auth":{"type":"header"}}`,
      }),
    );
    expect(problems).toEqual(['headers.authorization: is not a credential a target accepts']);
  });

  it('refuses a secret name whose stored credential cannot be decrypted, asking for it again', async () => {
    const secrets: SecretStore = {
      get: (name) => Promise.reject(new SecretUnreadableError(name)),
      put: () => Promise.reject(new Error('not expected')),
      delete: () => Promise.reject(new Error('not expected')),
    };
    const problems = await problemsOf(
      populate({ ...pipeline.populateDeps, secrets }, { body: syncRequest('https://a.example/x') }),
    );
    expect(problems).toEqual([
      'streamMessage.vaultSecretName: the credential stored under "789" cannot be decrypted; send it again in the Authorization header',
    ]);
  });
});
