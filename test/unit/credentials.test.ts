import {
  encodeConnection,
  STORED_CONNECTION_PREFIX,
  type Connection,
} from '../../shared/contract/connection';
import { CredentialError, TargetError } from '../../shared/pipeline/errors';
import { Credentials, type NamedSecret } from '../../shared/pipeline/credentials';
import { OAuthTokens } from '../../shared/pipeline/oauth-tokens';
import type { Target, TargetRequest, TargetResponse } from '../../shared/pipeline/ports';
import { signatureHeaders } from '../../shared/pipeline/webhook-signature';
import { envelope } from '../helpers/fixtures';

const ORIGIN = 'https://api.example';
const URL = `${ORIGIN}/orders`;
const TOKEN_URL = 'https://login.example/token';
const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const NOW = 1_700_000_000_000;

/** A target and token endpoint in one: token requests get the next token, others the next answer. */
function fakeTarget(answers: Array<TargetResponse | Error>, tokens: string[] = []) {
  const calls: TargetRequest[] = [];
  const target: Target = {
    call: async (request) => {
      if (request.url === TOKEN_URL) {
        return { status: 200, bodyExcerpt: JSON.stringify({ access_token: tokens.shift() ?? 'no-more' }) };
      }
      calls.push(structuredClone(request));
      const answer = answers.shift() ?? { status: 200, bodyExcerpt: '' };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { target, calls };
}

function stored(connection: Omit<Connection, 'origin'>): NamedSecret {
  return {
    name: 'crm',
    secret: { value: encodeConnection({ origin: ORIGIN, ...connection }), origin: ORIGIN },
  };
}

const apiKey = (signing?: Connection['signing']) =>
  stored({ auth: { type: 'header', name: 'X-Api-Key', value: 'key-123' }, ...(signing ? { signing } : {}) });
const oauth = stored({
  auth: {
    type: 'oauth2-client-credentials',
    tokenUrl: TOKEN_URL,
    clientId: 'app',
    clientSecret: 'client-secret',
  },
});

function credentials() {
  return new Credentials(new OAuthTokens({ call: () => Promise.reject(new Error('unused')) }), () => NOW);
}

function withTokens(target: Target) {
  return new Credentials(new OAuthTokens(target, () => NOW), () => NOW);
}

describe('Credentials', () => {
  const message = envelope(URL, { id: 'msg-1' });

  it('sends a message without a secret as it is', async () => {
    const { target, calls } = fakeTarget([{ status: 204, bodyExcerpt: '' }]);
    await expect(credentials().send(target, message, undefined)).resolves.toEqual({
      status: 204,
      bodyExcerpt: '',
    });
    expect(calls[0]!.headers).not.toHaveProperty('authorization');
  });

  describe('a plain stored credential', () => {
    const plain: NamedSecret = { name: 'legacy', secret: { value: 'Bearer plain-token', origin: ORIGIN } };

    it('becomes the Authorization header, and is removed from the answer', async () => {
      const { target, calls } = fakeTarget([{ status: 400, bodyExcerpt: 'bad Bearer plain-token' }]);
      const response = await credentials().send(target, message, plain);
      expect(calls[0]!.headers['authorization']).toBe('Bearer plain-token');
      expect(response.status).toBe(400);
      expect(response.bodyExcerpt).not.toContain('plain-token');
    });

    it('is removed from the message of a call that got no answer; other errors pass unchanged', async () => {
      const noAnswer = fakeTarget([new TargetError('network', 'reset after Bearer plain-token')]);
      const error = await credentials()
        .send(noAnswer.target, message, plain)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TargetError);
      expect((error as TargetError).reason).toBe('network');
      expect((error as TargetError).message).not.toContain('plain-token');

      const bug = new RangeError('a bug');
      await expect(credentials().send(fakeTarget([bug]).target, message, plain)).rejects.toBe(bug);
    });
  });

  describe('a header connection', () => {
    it('sets its header under its lower-case name and removes its value from the answer', async () => {
      const { target, calls } = fakeTarget([{ status: 403, bodyExcerpt: 'key key-123 revoked' }]);
      const response = await credentials().send(target, message, apiKey());
      expect(Object.entries(calls[0]!.headers)).toContainEqual(['x-api-key', 'key-123']);
      expect(response.bodyExcerpt).not.toContain('key-123');
    });

    it('signs the message when it signs, and removes the signing secret from the answer', async () => {
      const signing = { scheme: 'standard-webhooks' as const, secret: WEBHOOK_SECRET };
      const { target, calls } = fakeTarget([{ status: 400, bodyExcerpt: `expected ${WEBHOOK_SECRET}` }]);
      const response = await credentials().send(target, message, apiKey(signing));
      const body = calls[0]!.body ?? '';
      expect(calls[0]!.headers).toMatchObject(signatureHeaders(signing, 'msg-1', body, NOW));
      expect(response.bodyExcerpt).not.toContain(WEBHOOK_SECRET);
    });
  });

  describe('an OAuth2 connection', () => {
    it('sends a Bearer token and removes the client secret from the answer', async () => {
      const { target, calls } = fakeTarget([{ status: 422, bodyExcerpt: 'client-secret?' }], ['tok-1']);
      const response = await withTokens(target).send(target, message, oauth);
      expect(calls[0]!.headers['authorization']).toBe('Bearer tok-1');
      expect(response.bodyExcerpt).not.toContain('client-secret');
    });

    it('on a 401, sends once more with a new token, and removes both tokens from the answer', async () => {
      const { target, calls } = fakeTarget(
        [
          { status: 401, bodyExcerpt: 'expired' },
          { status: 401, bodyExcerpt: 'neither tok-old nor tok-new' },
        ],
        ['tok-old', 'tok-new'],
      );
      const response = await withTokens(target).send(target, message, oauth);
      expect(calls.map((call) => call.headers['authorization'])).toEqual([
        'Bearer tok-old',
        'Bearer tok-new',
      ]);
      expect(response.status).toBe(401);
      expect(response.bodyExcerpt).not.toMatch(/tok-old|tok-new/);
    });
  });

  it('refuses a stored connection it cannot read as missingSecret, naming it', async () => {
    const unreadable: NamedSecret = {
      name: 'broken',
      secret: { value: `${STORED_CONNECTION_PREFIX}{not json`, origin: ORIGIN },
    };
    const { target, calls } = fakeTarget([]);
    const error = await credentials()
      .send(target, message, unreadable)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({
      reason: 'missingSecret',
      message: 'connection "broken" is stored in a form that cannot be read',
    });
    expect(calls).toHaveLength(0);
  });
});
