import {
  deleteConnection,
  putConnection,
  readConnection,
  type ConnectionDeps,
} from '../../shared/pipeline/connections';
import { SecretUnreadableError, ValidationError } from '../../shared/pipeline/errors';
import type { SecretStore, StoredSecret } from '../../shared/pipeline/ports';
import { TargetPolicy } from '../../shared/pipeline/target-policy';
import { RecordingLogger } from '../helpers/recording-logger';

const API_KEY = {
  origin: 'https://api.example',
  auth: { type: 'header', name: 'X-Api-Key', value: 'key-123' },
};

/** A secret store in memory; names listed in `unreadable` hold a secret the current key cannot open. */
function memorySecrets(unreadable: string[] = []): SecretStore & { values: Map<string, StoredSecret> } {
  const values = new Map<string, StoredSecret>();
  return {
    values,
    get: async (name) => {
      if (unreadable.includes(name)) throw new SecretUnreadableError(name);
      return values.get(name);
    },
    put: async (name, secret) => {
      values.set(name, secret);
    },
    delete: async (name) => values.delete(name),
  };
}

function deps(
  secrets: SecretStore = memorySecrets(),
  allowlist = ['*'],
): ConnectionDeps & { log: RecordingLogger } {
  return {
    secrets,
    targetPolicy: new TargetPolicy({ allowlist, allowPrivate: false }),
    maxName: 20,
    log: new RecordingLogger(),
  };
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).problems;
}

describe('connections', () => {
  it('stores a connection, logs it without its secret, and reads it back without its secret', async () => {
    const d = deps();
    await expect(putConnection(d, 'crm', API_KEY)).resolves.toMatchObject({ created: true });
    await expect(putConnection(d, 'crm', API_KEY)).resolves.toMatchObject({ created: false });
    expect(d.log.events('connection.stored').map((line) => line.fields)).toEqual([
      { name: 'crm', origin: 'https://api.example', auth: 'header', created: true },
      { name: 'crm', origin: 'https://api.example', auth: 'header', created: false },
    ]);
    const read = await readConnection(d, 'crm');
    expect(read).toEqual({
      name: 'crm',
      origin: 'https://api.example',
      auth: { type: 'header', name: 'X-Api-Key' },
    });
  });

  it('deletes a connection and logs it, but leaves a plain stored credential of that name alone', async () => {
    const secrets = memorySecrets();
    const d = deps(secrets);
    await putConnection(d, 'crm', API_KEY);
    await secrets.put('legacy', { value: 'Bearer abc', origin: 'https://api.example' });

    await expect(deleteConnection(d, 'crm')).resolves.toBe(true);
    await expect(deleteConnection(d, 'crm')).resolves.toBe(false);
    await expect(deleteConnection(d, 'legacy')).resolves.toBe(false);
    expect(secrets.values.has('legacy')).toBe(true);
    expect(d.log.events('connection.deleted').map((line) => line.fields)).toEqual([{ name: 'crm' }]);
  });

  it('does not log a delete the secret store did not do', async () => {
    const secrets = memorySecrets();
    const d = deps({ ...secrets, delete: async () => false });
    await putConnection(d, 'crm', API_KEY);
    await expect(deleteConnection(d, 'crm')).resolves.toBe(false);
    expect(d.log.events('connection.deleted')).toEqual([]);
  });

  it('refuses a malformed or too long name on every operation', async () => {
    const d = deps();
    const tooLong = 'n'.repeat(21);
    expect(await problemsOf(putConnection(d, tooLong, API_KEY))).toEqual([
      'name: must be at most 20 characters',
    ]);
    expect(await problemsOf(readConnection(d, 'bad name'))).toEqual([
      'name: must be 1-127 characters of 0-9, A-Z, a-z and -',
    ]);
    expect(await problemsOf(deleteConnection(d, tooLong))).toEqual(['name: must be at most 20 characters']);
  });

  it('checks the origin and the token endpoint against the target policy', async () => {
    const d = deps(memorySecrets(), ['api.example']);
    const body = {
      origin: 'https://other.example',
      auth: {
        type: 'oauth2-client-credentials',
        tokenUrl: 'http://10.0.0.1/token',
        clientId: 'a',
        clientSecret: 'b',
      },
    };
    const problems = await problemsOf(putConnection(d, 'crm', body));
    expect(problems).toEqual([
      expect.stringMatching(/^origin: https:\/\/other\.example is not allowed by DATASYNC_TARGET_ALLOWLIST/),
      expect.stringMatching(/^auth\.tokenUrl: http:\/\/10\.0\.0\.1 is not allowed/),
    ]);
    expect(d.log.lines).toEqual([]);
  });

  it.each([
    ['no body', null],
    ['no auth', { origin: 'https://api.example' }],
    ['an origin that is not a URL', { ...API_KEY, origin: 'api example' }],
    ['an origin that is not text', { ...API_KEY, origin: 42 }],
  ])('answers %s with the schema problems, not a crash', async (_, body) => {
    const problems = await problemsOf(putConnection(deps(), 'crm', body));
    expect(problems.length).toBeGreaterThan(0);
  });

  it('replaces a secret the current key cannot open, and reads it as no connection', async () => {
    const d = deps(memorySecrets(['crm']));
    await expect(readConnection(d, 'crm')).resolves.toBeUndefined();
    await expect(putConnection(d, 'crm', API_KEY)).resolves.toMatchObject({ created: true });
  });

  it('lets other secret-store failures through', async () => {
    const outage = new Error('vault down');
    const d = deps({ ...memorySecrets(), get: () => Promise.reject(outage) });
    await expect(readConnection(d, 'crm')).rejects.toBe(outage);
    await expect(putConnection(d, 'crm', API_KEY)).rejects.toBe(outage);
  });
});
