import { LosslessNumber, parse, stringify } from 'lossless-json';
import type { Envelope } from './envelope';

/**
 * Every JSON text the product reads from a caller or writes to storage or a target goes through
 * here, so a number keeps the digits the source sent (`12345678901234567890`, `1e400`, `1.0`) from
 * ingest to the target. A number that JSON.stringify would write back with the same text is a plain
 * `number`; any other is a `LosslessNumber` that is written back verbatim.
 */

/** Nesting of arrays and objects a request body may have (well above real payloads, far below the stack). */
export const MAX_JSON_DEPTH = 128;

/** Why a request body is not acceptable JSON; the message is meant for the caller. */
export class JsonBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonBodyError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a request body: strict UTF-8, at most MAX_JSON_DEPTH levels, numbers kept exactly. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new JsonBodyError('body is not valid UTF-8');
  }
  if (scan(text).depth > MAX_JSON_DEPTH) {
    throw new JsonBodyError(`body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`);
  }
  try {
    return parse(text, null, parseNumber);
  } catch (cause) {
    throw new JsonBodyError(`body is not valid JSON: ${(cause as Error).message}`);
  }
}

export function encodeEnvelope(envelope: Envelope, space?: number): string {
  return encodeJson(envelope, space);
}

export function decodeEnvelope(text: string): Envelope {
  return decodeJson(text) as Envelope;
}

/** Any JSON value the product stores besides envelopes (alerts), or a payload sent to a target. */
export function encodeJson(value: unknown, space?: number): string {
  // JSON.stringify is several times faster and writes the same text when no number needs care.
  if (!containsLosslessNumber(value)) return JSON.stringify(value, null, space);
  return stringify(value, null, space) as string;
}

/** Reads text this product wrote (no duplicate keys), with JSON.parse when every number is plain. */
export function decodeJson(text: string): unknown {
  return scan(text).plainNumbers ? JSON.parse(text) : parse(text, null, parseNumber);
}

function parseNumber(text: string): number | LosslessNumber {
  const value = Number(text);
  return String(value) === text ? value : new LosslessNumber(text);
}

function containsLosslessNumber(value: unknown): boolean {
  if (value instanceof LosslessNumber) return true;
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(containsLosslessNumber);
}

/**
 * One pass over the text outside strings: the deepest nesting of `[` and `{` (counted before
 * parsing, so a deep body cannot overflow the parser's stack), and whether every number is written
 * the way JSON.stringify would write it back.
 */
function scan(text: string): { depth: number; plainNumbers: boolean } {
  let depth = 0;
  let deepest = 0;
  let plainNumbers = true;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      for (i += 1; i < text.length && text.charCodeAt(i) !== 0x22; i += 1) {
        if (text.charCodeAt(i) === 0x5c) i += 1;
      }
    } else if (code === 0x5b || code === 0x7b) deepest = Math.max(deepest, (depth += 1));
    else if (code === 0x5d || code === 0x7d) depth -= 1;
    else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      const start = i;
      while (i + 1 < text.length && NUMBER_CHAR.test(text.charAt(i + 1))) i += 1;
      const number = text.slice(start, i + 1);
      if (String(Number(number)) !== number) plainNumbers = false;
    }
  }
  return { depth: deepest, plainNumbers };
}

const NUMBER_CHAR = /[0-9eE.+-]/;
