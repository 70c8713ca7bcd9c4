import { describeIssues } from '../../shared/contract/problems';
import { DEFAULT_SYNC_LIMITS, syncRequestSchema, type SyncLimits } from '../../shared/contract/sync-request';

const TARGET = 'https://api.example/orders';

function problems(
  message: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  limits = DEFAULT_SYNC_LIMITS,
) {
  const parsed = syncRequestSchema(limits).safeParse({
    streamMessage: { targetRestApi: TARGET, targetRestApiOperation: 'POST', ...message },
    ...extra,
  });
  return parsed.success ? [] : describeIssues(parsed.error.issues);
}

const header = (key: string, value = 'v') => ({ targetRestApiHeaders: [{ key, value }] });
const RESERVED =
  'streamMessage.targetRestApiHeaders[0].key: this header may not be set here; a credential for the target goes in the Authorization header of the sync request and is kept in the secret store';

describe('the sync request contract', () => {
  it('accepts the reference payload', () => {
    expect(
      problems({
        vaultSecretName: '789',
        targetRestApiPayload: { orderid: '18jan' },
        targetRestApiHeaders: [{ key: 'Content-Type', value: 'application/json' }],
      }),
    ).toEqual([]);
  });

  it.each([
    'Authorization',
    'proxy-authorization',
    'Host',
    'content-length',
    'Transfer-Encoding',
    'connection',
  ])('refuses a %s header, saying where credentials go', (key) => {
    expect(problems(header(key))).toEqual([RESERVED]);
  });

  it.each([
    [
      'a target that is not a URL',
      { targetRestApi: 'orders' },
      'streamMessage.targetRestApi: must be an absolute http(s) URL',
    ],
    [
      'a target of another scheme',
      { targetRestApi: 'ftp://api.example/x' },
      'streamMessage.targetRestApi: must be an absolute http(s) URL',
    ],
    [
      'a file target',
      { targetRestApi: 'file:///etc/passwd' },
      'streamMessage.targetRestApi: must be an absolute http(s) URL',
    ],
    [
      'an unknown operation',
      { targetRestApiOperation: 'GET' },
      'streamMessage.targetRestApiOperation: must be one of POST, PUT, PATCH, DELETE',
    ],
    [
      'a bad secret name',
      { vaultSecretName: 'a b' },
      'streamMessage.vaultSecretName: must be 1-127 characters of 0-9, A-Z, a-z and -',
    ],
    [
      'a header name that is not a token',
      header('x y'),
      'streamMessage.targetRestApiHeaders[0].key: must be a valid HTTP header name (an RFC 9110 token)',
    ],
    [
      'a header value with a line break',
      header('x-a', 'v\r\nx-b: 1'),
      'streamMessage.targetRestApiHeaders[0].value: header "x-a" must be printable ASCII: no CR, LF, NUL or other control characters, and no non-ASCII characters (percent-encode them, e.g. RFC 8187)',
    ],
  ])('names %s', (_, message, problem) => {
    expect(problems(message)).toEqual([problem]);
  });

  it('names the limits it applies', () => {
    const limits: SyncLimits = { maxHeaders: 2, maxHeaderBytes: 5, maxSecretName: 3 };
    const headers = [1, 2, 3].map((n) => ({ key: `x-${n}`, value: 'v' }));
    expect(problems({ targetRestApiHeaders: headers }, {}, limits)).toEqual([
      'streamMessage.targetRestApiHeaders: must have at most 2 headers',
    ]);
    expect(problems(header('x-a', '123456'), {}, limits)).toEqual([
      'streamMessage.targetRestApiHeaders[0].value: must be at most 5 characters',
    ]);
    expect(problems({ vaultSecretName: 'abcd' }, {}, limits)).toEqual([
      'streamMessage.vaultSecretName: must be at most 3 characters',
    ]);
    expect(problems({}, { streamKey: 'k'.repeat(129) })).toEqual([
      'streamKey: must be at most 128 characters',
    ]);
  });

  it('keeps one schema per set of limits', () => {
    const limits: SyncLimits = { maxHeaders: 1, maxHeaderBytes: 10, maxSecretName: 10 };
    expect(syncRequestSchema({ ...limits })).toBe(syncRequestSchema({ ...limits }));
    expect(syncRequestSchema({ ...limits, maxHeaders: 2 })).not.toBe(syncRequestSchema(limits));
  });
});
