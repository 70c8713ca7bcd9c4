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
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new JsonBodyError(`body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`);
  }
  try {
    return decodeJson(text);
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
  return stringify(value, null, space) as string;
}

export function decodeJson(text: string): unknown {
  return parse(text, null, parseNumber);
}

function parseNumber(text: string): number | LosslessNumber {
  const value = Number(text);
  return String(value) === text ? value : new LosslessNumber(text);
}

/** The deepest nesting of `[` and `{` outside strings; counted before parsing, so it cannot overflow. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) deepest = Math.max(deepest, (depth += 1));
    else if (code === 0x5d || code === 0x7d) depth -= 1;
  }
  return deepest;
}
