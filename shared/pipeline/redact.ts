/** What replaces a secret in an excerpt or a detail. */
export const REDACTED = '[redacted]';

/**
 * Removes every secret from a text a target or token endpoint sent back (they sometimes echo request
 * headers): each secret whole and, for `Scheme value` credentials, the value alone.
 */
export function redact(text: string, secrets: ReadonlyArray<string>): string {
  let result = text;
  for (const secret of secrets) {
    if (!secret) continue;
    result = result.split(secret).join(REDACTED);
    const value = secret.replace(/^\S+\s+/, '');
    if (value !== secret && value.length >= 8) result = result.split(value).join(REDACTED);
  }
  return result;
}
