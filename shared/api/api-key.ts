import { timingSafeEqual } from 'node:crypto';

/** True when no key is configured, or `given` (the `x-functions-key` header) equals it. */
export function apiKeyAccepted(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined) return true;
  const givenBytes = Buffer.from(given ?? '');
  const wanted = Buffer.from(expected);
  return givenBytes.length === wanted.length && timingSafeEqual(givenBytes, wanted);
}
