import { redact, REDACTED } from '../../shared/pipeline/redact';

const token = 'eyJhbGciOiJIUzI1NiJ9.s3cr3t-T0ken/with+chars=';
const credential = `Bearer ${token}`;

describe('redact', () => {
  it.each([
    ['verbatim token', token],
    ['whole header value', credential],
    ['JSON-escaped', JSON.stringify(credential).slice(1, -1).replace(/\//g, '\\/')],
    ['JSON-escaped token with quotes', JSON.stringify({ auth: credential })],
    ['URL-encoded', encodeURIComponent(credential)],
    ['form-encoded', encodeURIComponent(credential).replace(/%20/g, '+')],
    ['base64 of the header value', Buffer.from(credential).toString('base64')],
    [
      'base64 inside a longer text',
      Buffer.from(`x-echo: {"authorization":"${credential}"}`).toString('base64'),
    ],
    ['base64url', Buffer.from(`ab${token}`).toString('base64url')],
    ['lower-cased', credential.toLowerCase()],
    ['upper-cased', token.toUpperCase()],
  ])('removes the credential %s', (_name, echoed) => {
    const text = redact(`error: ${echoed} was refused`, credential);
    expect(text).toContain(REDACTED);
    for (const piece of [token, token.toLowerCase(), token.slice(0, 16), 'czNjcjN0LVQwa2Vu']) {
      expect(text.toLowerCase()).not.toContain(piece.toLowerCase());
    }
  });

  const bare = 'sk-live/7f3a9c2e+4b1d=';
  it.each([
    ['verbatim', bare],
    ['JSON-escaped', JSON.stringify(bare).slice(1, -1).replace(/\//g, '\\/')],
    ['URL-encoded', encodeURIComponent(bare)],
    ['base64', Buffer.from(`auth=${bare}`).toString('base64')],
    ['upper-cased', bare.toUpperCase()],
  ])('removes a bare token (an Authorization value without a scheme), %s', (_name, echoed) => {
    const text = redact(`error: ${echoed} was refused`, bare);
    expect(text).toContain(REDACTED);
    for (const piece of [bare.slice(0, 10), bare.slice(-10), echoed.slice(8, 20)]) {
      expect(text.toLowerCase()).not.toContain(piece.toLowerCase());
    }
  });

  it('removes a bare token cut off at the end of the text', () => {
    expect(redact(`denied for ${bare.slice(0, 12)}`, bare)).toBe(`denied for ${REDACTED}`);
  });

  it('removes a JSON-escaped slash form of the token', () => {
    const escaped = token.replace(/\//g, '\\/');
    expect(redact(`{"echo":"${escaped}"}`, credential)).toBe(`{"echo":"${REDACTED}"}`);
  });

  it('removes a token cut off at the end of the text', () => {
    const body = `denied for ${credential}`;
    const excerpt = body.slice(0, body.length - 10);
    const text = redact(excerpt, credential);
    expect(text).toBe(`denied for ${REDACTED}`);
  });

  it('redacts before truncating, so no part of the token is left at the cut', () => {
    const body = `${'x'.repeat(500)}${credential}`;
    expect(redact(body, credential).slice(0, 512)).toBe(`${'x'.repeat(500)}${REDACTED}`);
  });

  it('removes the decoded user:password of a Basic credential', () => {
    const basic = `Basic ${Buffer.from('alice:pa55word-long').toString('base64')}`;
    expect(redact('bad login alice:pa55word-long', basic)).toBe('bad login [redacted]');
  });

  it('leaves text without the credential alone', () => {
    expect(redact('404 not found', credential)).toBe('404 not found');
    expect(redact('anything', undefined)).toBe('anything');
  });

  it('ignores an empty credential', () => {
    expect(redact('nothing secret here', '')).toBe('nothing secret here');
    expect(redact(`error: ${token}`, ['', credential])).toBe(`error: ${REDACTED}`);
  });

  it('removes each of several credentials, one that contains another whole', () => {
    const inner = 'k3y-0f-the-0ld-app';
    const outer = `${inner}+rotated`;
    expect(redact(`old ${inner}, new ${outer}.`, [inner, outer])).toBe(`old ${REDACTED}, new ${REDACTED}.`);
    expect(redact(`new ${outer}.`, [inner, outer])).toBe(`new ${REDACTED}.`);
  });

  it('removes a credential shorter than 8 characters only verbatim, and no form that short', () => {
    expect(redact('key k3y! leaked', 'k3y!')).toBe(`key ${REDACTED} leaked`);
    expect(redact('abc: Bearer abc', 'Bearer abc')).toBe(`abc: ${REDACTED}`);
    expect(redact('token abcd1234 echoed', 'Bearer abcd1234')).toBe(`token ${REDACTED} echoed`);
  });

  it('finds the token after a scheme followed by several spaces', () => {
    expect(redact(`echo:${token};`, `Bearer  ${token}`)).toBe(`echo:${REDACTED};`);
    const basic = `Basic  ${Buffer.from('alice:pa55word-long').toString('base64')}`;
    expect(redact('bad login alice:pa55word-long', basic)).toBe(`bad login ${REDACTED}`);
  });

  it('removes a form-encoded password with spaces', () => {
    const basic = `Basic ${Buffer.from('alice:pa55 word long').toString('base64')}`;
    expect(redact('user=alice%3Apa55+word+long&x=1', basic)).toBe(`user=${REDACTED}&x=1`);
  });

  it('removes base64url whose standard base64 would have + and /', () => {
    const secret = 's3cr3t>>>???tok';
    const echoed = Buffer.from(secret).toString('base64url');
    expect(echoed).toMatch(/-.*_/);
    expect(redact(`blob ${echoed} end`, secret)).toBe(`blob ${REDACTED} end`);
  });

  it('removes the credential from text whose lower case is longer (İ)', () => {
    expect(redact(`İstanbul: ${token} refused`, credential)).toBe(`İstanbul: ${REDACTED} refused`);
  });

  it('removes a token cut off at the end in another letter case, also after non-ASCII text', () => {
    const body = `Straße: ${credential.toUpperCase()}`;
    expect(redact(body.slice(0, body.length - 10), credential)).toBe(`Straße: ${REDACTED}`);
  });

  it('removes a cut-off tail of 8 characters or more, not a shorter one', () => {
    expect(redact(`denied for ${bare.slice(0, 8)}`, bare)).toBe(`denied for ${REDACTED}`);
    expect(redact(`denied for ${bare.slice(0, 7)}`, bare)).toBe(`denied for ${bare.slice(0, 7)}`);
  });
});
