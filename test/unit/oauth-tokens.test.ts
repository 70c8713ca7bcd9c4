import type { OAuth2Auth } from '../../shared/contract/connection';
import { CredentialError, TargetError } from '../../shared/pipeline/errors';
import { OAuthTokens } from '../../shared/pipeline/oauth-tokens';
import type { Target, TargetRequest, TargetResponse } from '../../shared/pipeline/ports';

const AUTH: OAuth2Auth = {
  type: 'oauth2-client-credentials',
  tokenUrl: 'https://login.example/token',
  clientId: 'app id',
  clientSecret: 's3cr+t/value',
};
const BASIC = `Basic ${Buffer.from('app+id:s3cr%2Bt%2Fvalue').toString('base64')}`;
const T0 = 1_000_000;

/** A token endpoint that answers from a script, one answer per call, and records what it was sent. */
function tokenEndpoint(...answers: Array<TargetResponse | Error>) {
  const requests: TargetRequest[] = [];
  const target: Target = {
    call: async (request) => {
      requests.push(request);
      const answer = answers.shift() ?? granted('token-extra');
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { target, requests };
}

function granted(token: string, extra: Record<string, unknown> = {}): TargetResponse {
  return {
    status: 200,
    bodyExcerpt: JSON.stringify({ access_token: token, token_type: 'Bearer', ...extra }),
  };
}

function answer(status: number, body: unknown): TargetResponse {
  return { status, bodyExcerpt: typeof body === 'string' ? body : JSON.stringify(body) };
}

function form(request: TargetRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.body));
}

async function refusal(promise: Promise<unknown>): Promise<CredentialError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CredentialError);
  expect((error as CredentialError).reason).toBe('tokenUnavailable');
  return error as CredentialError;
}

describe('OAuthTokens', () => {
  let now = T0;
  const clock = () => now;
  beforeEach(() => (now = T0));

  it('asks the token endpoint with HTTP Basic and a client-credentials form', async () => {
    const { target, requests } = tokenEndpoint(granted('tok-1'));
    const tokens = new OAuthTokens(target, clock);
    await expect(tokens.token('crm', AUTH, 'v1')).resolves.toEqual({ value: 'tok-1' });
    expect(requests).toEqual([
      {
        method: 'POST',
        url: AUTH.tokenUrl,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: BASIC,
        },
        body: 'grant_type=client_credentials',
        maxResponseBytes: 64 * 1024,
      },
    ]);
  });

  it('sends the scope when the connection has one', async () => {
    const { target, requests } = tokenEndpoint(granted('tok-1'));
    await new OAuthTokens(target, clock).token('crm', { ...AUTH, scope: 'orders.write' }, 'v1');
    expect(form(requests[0]!)).toEqual({ grant_type: 'client_credentials', scope: 'orders.write' });
  });

  it('keeps a token until a tenth of its life (at most a minute) before it expires', async () => {
    const { target, requests } = tokenEndpoint(
      granted('long', { expires_in: 3600 }),
      granted('short', { expires_in: 100 }),
    );
    const tokens = new OAuthTokens(target, clock);
    await expect(tokens.token('crm', AUTH, 'v1')).resolves.toEqual({
      value: 'long',
      refreshAt: T0 + 3_540_000,
    });
    now = T0 + 3_539_999;
    await expect(tokens.token('crm', AUTH, 'v1')).resolves.toMatchObject({ value: 'long' });
    expect(requests).toHaveLength(1);

    now = T0 + 3_540_000;
    await expect(tokens.token('crm', AUTH, 'v1')).resolves.toEqual({
      value: 'short',
      refreshAt: now + 90_000,
    });
    expect(requests).toHaveLength(2);
  });

  it.each([
    ['no expires_in', {}],
    ['expires_in 0', { expires_in: 0 }],
    ['a negative expires_in', { expires_in: -5 }],
    ['an expires_in that is not a number', { expires_in: 'soon' }],
  ])('keeps a token with %s until a target refuses it', async (_, extra) => {
    const { target, requests } = tokenEndpoint(granted('kept', extra));
    const tokens = new OAuthTokens(target, clock);
    await expect(tokens.token('crm', AUTH, 'v1')).resolves.toEqual({ value: 'kept' });
    now = T0 + 365 * 24 * 3600 * 1000;
    await expect(tokens.token('crm', AUTH, 'v1')).resolves.toEqual({ value: 'kept' });
    expect(requests).toHaveLength(1);
  });

  it('fetches a new token for a refused one, but hands out a newer one another delivery already fetched', async () => {
    const { target, requests } = tokenEndpoint(granted('first'), granted('second'));
    const tokens = new OAuthTokens(target, clock);
    await tokens.token('crm', AUTH, 'v1');
    await expect(tokens.token('crm', AUTH, 'v1', 'first')).resolves.toEqual({ value: 'second' });
    await expect(tokens.token('crm', AUTH, 'v1', 'first')).resolves.toEqual({ value: 'second' });
    expect(requests).toHaveLength(2);
  });

  it('starts over when the stored connection changes', async () => {
    const { target, requests } = tokenEndpoint(granted('old'), granted('new'));
    const tokens = new OAuthTokens(target, clock);
    await tokens.token('crm', AUTH, 'v1');
    await expect(tokens.token('crm', AUTH, 'v2')).resolves.toEqual({ value: 'new' });
    expect(requests).toHaveLength(2);
  });

  it('fetches once for deliveries that ask at the same time', async () => {
    const { target, requests } = tokenEndpoint(granted('shared'));
    const tokens = new OAuthTokens(target, clock);
    const all = await Promise.all([1, 2, 3].map(() => tokens.token('crm', AUTH, 'v1')));
    expect(all.map((token) => token.value)).toEqual(['shared', 'shared', 'shared']);
    expect(requests).toHaveLength(1);
  });

  describe('a server that refuses HTTP Basic', () => {
    it.each([
      ['401', answer(401, 'who are you')],
      ['400 invalid_client', answer(400, { error: 'invalid_client' })],
    ])(
      'answered %s: asks again with the secret in the body, and keeps doing so',
      async (_, refusalAnswer) => {
        const { target, requests } = tokenEndpoint(refusalAnswer, granted('in-body'), granted('in-body-2'));
        const tokens = new OAuthTokens(target, clock);
        await expect(tokens.token('crm', AUTH, 'v1')).resolves.toEqual({ value: 'in-body' });
        await expect(tokens.token('crm', AUTH, 'v1', 'in-body')).resolves.toEqual({ value: 'in-body-2' });

        expect(requests.map((request) => request.headers['authorization'])).toEqual([
          BASIC,
          undefined,
          undefined,
        ]);
        for (const request of requests.slice(1)) {
          expect(form(request)).toEqual({
            grant_type: 'client_credentials',
            client_id: AUTH.clientId,
            client_secret: AUTH.clientSecret,
          });
        }
      },
    );

    it.each([
      ['another 400 error', answer(400, { error: 'invalid_scope' }), /answered 400: .*invalid_scope/],
      ['a 400 that is not JSON', answer(400, 'bad request'), /answered 400: bad request/],
      ['a 403', answer(403, { error: 'invalid_client' }), /answered 403/],
    ])('answered %s: fails without asking again', async (_, first, message) => {
      const { target, requests } = tokenEndpoint(first);
      const error = await refusal(new OAuthTokens(target, clock).token('crm', AUTH, 'v1'));
      expect(error.message).toMatch(message);
      expect(requests).toHaveLength(1);
    });
  });

  describe('refuses an answer it cannot use, naming why', () => {
    it.each([
      ['a 300', answer(300, { access_token: 'tok' }), 'answered 300'],
      ['a body that is not JSON', answer(200, '<html>'), 'answered 200 with a body that is not JSON'],
      ['no access_token', answer(200, { token_type: 'Bearer' }), 'answered without a usable access_token'],
      ['a numeric access_token', answer(200, { access_token: 42 }), 'answered without a usable access_token'],
      [
        'an access_token with a space',
        answer(200, { access_token: 'tok en' }),
        'answered without a usable access_token',
      ],
      [
        'a MAC token',
        answer(200, { access_token: 'tok', token_type: 'mac' }),
        'answered token_type "mac"; only Bearer tokens are supported',
      ],
    ])('%s', async (_, response, reason) => {
      const { target } = tokenEndpoint(response);
      const error = await refusal(new OAuthTokens(target, clock).token('crm', AUTH, 'v1'));
      expect(error.message).toContain(`token endpoint https://login.example: ${reason}`);
    });

    it('accepts a token_type of "bearer" in any case, or none', async () => {
      const { target } = tokenEndpoint(
        answer(200, { access_token: 'a', token_type: 'BEARER' }),
        answer(200, { access_token: 'b' }),
      );
      const tokens = new OAuthTokens(target, clock);
      await expect(tokens.token('one', AUTH, 'v1')).resolves.toEqual({ value: 'a' });
      await expect(tokens.token('two', AUTH, 'v1')).resolves.toEqual({ value: 'b' });
    });

    it('quotes at most 300 characters of an error answer', async () => {
      const { target } = tokenEndpoint(answer(500, `${'x'.repeat(300)}TAIL`));
      const error = await refusal(new OAuthTokens(target, clock).token('crm', AUTH, 'v1'));
      expect(error.message).toContain('x'.repeat(300));
      expect(error.message).not.toContain('TAIL');
    });
  });

  it('removes the client secret, in every form it was sent in, from what the endpoint echoes', async () => {
    const echo = `got ${AUTH.clientSecret} / s3cr%2Bt%2Fvalue / ${BASIC}`;
    const { target } = tokenEndpoint(answer(500, echo));
    const error = await refusal(new OAuthTokens(target, clock).token('crm', AUTH, 'v1'));
    expect(error.message).not.toContain('s3cr');
    expect(error.message).not.toContain(BASIC.slice('Basic '.length));
  });

  it('turns a call that got no answer into tokenUnavailable, and lets other errors through', async () => {
    const noAnswer = tokenEndpoint(new TargetError('timeout', 'no answer within 10000 ms'));
    const error = await refusal(new OAuthTokens(noAnswer.target, clock).token('crm', AUTH, 'v1'));
    expect(error.message).toContain('timeout: no answer within 10000 ms');

    const bug = new RangeError('a bug');
    const failing = tokenEndpoint(bug);
    await expect(new OAuthTokens(failing.target, clock).token('crm', AUTH, 'v1')).rejects.toBe(bug);
  });
});
