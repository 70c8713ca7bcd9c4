import {
  decodeEnvelope,
  decodeJson,
  encodeEnvelope,
  encodeJson,
  JsonBodyError,
  MAX_JSON_DEPTH,
  parseJsonBody,
} from '../../shared/contract/envelope-codec';
import { envelope } from '../helpers/fixtures';

const body = (text: string) => Buffer.from(text, 'utf8');

describe('envelope codec', () => {
  it('keeps every number exactly as the source wrote it, from request body to stored text', () => {
    const text = '{"big":12345678901234567890,"huge":1e400,"decimal":1.0,"tiny":1e-400,"neg":-0,"plain":42}';
    const parsed = parseJsonBody(body(text));
    expect(encodeJson(parsed)).toBe(text);
  });

  it('keeps payload numbers through an envelope round trip, and the envelope fields as numbers', () => {
    const payload = parseJsonBody(body('{"id":98765432109876543210,"ratio":0.10000000000000000001}'));
    const original = envelope('https://t.example/a', { attempt: 3 });
    original.streamMessage.targetRestApiPayload = payload;
    const decoded = decodeEnvelope(encodeEnvelope(original));
    expect(decoded.attempt).toBe(3);
    expect(encodeJson(decoded.streamMessage.targetRestApiPayload)).toBe(
      '{"id":98765432109876543210,"ratio":0.10000000000000000001}',
    );
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    const bytes = Buffer.concat([body('{"a":"'), Buffer.from([0xc3, 0x28]), body('"}')]);
    expect(() => parseJsonBody(bytes)).toThrow(new JsonBodyError('body is not valid UTF-8'));
  });

  it('refuses nesting past the limit by name, 100 000 levels included, without overflowing the stack', () => {
    const deep = '['.repeat(100_000);
    expect(() => parseJsonBody(body(deep))).toThrow(JsonBodyError);
    expect(() => parseJsonBody(body(deep))).toThrow(`deeper than ${MAX_JSON_DEPTH} levels`);
    const atLimit = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(parseJsonBody(body(atLimit))).toBeDefined();
  });

  it('does not count brackets inside strings as nesting', () => {
    const text = JSON.stringify({ text: '['.repeat(1000) + '\\"{' });
    expect(parseJsonBody(body(text))).toEqual({ text: '['.repeat(1000) + '\\"{' });
  });

  it('names malformed JSON', () => {
    expect(() => parseJsonBody(body('{"a":'))).toThrow(/^body is not valid JSON/);
  });

  it.each([
    ['a number past 2^64', '{"a":12345678901234567890}'],
    ['a decimal with a trailing zero', '{"a":-0.50}'],
    ['a number that ends the text', '1.0'],
    ['a number after a string holding an escaped quote', '{"s":"x\\"","n":1.0}'],
    ['a number after a string holding an escaped backslash', '{"s":"x\\\\","n":1.0}'],
    ['a number inside an array', '[1,2.50,3]'],
  ])('reads stored text with %s back to the same text', (_, text) => {
    expect(encodeJson(decodeJson(text))).toBe(text);
  });

  it('reads plain numbers in stored text as numbers', () => {
    expect(decodeJson('{"n":-12,"f":3.5,"s":"1.0","a":[0]}')).toEqual({ n: -12, f: 3.5, s: '1.0', a: [0] });
  });
});
