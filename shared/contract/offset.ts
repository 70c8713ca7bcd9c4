/**
 * Stream offsets are 64-bit on some backends (Service Bus sequence numbers), so they travel as
 * bigint inside the product and are only turned into a JSON number when that is exact.
 */
export type Offset = bigint;

/** `readAfterOffset: -1` means "from the oldest retained message". */
export const BEFORE_OLDEST: Offset = -1n;

const DECIMAL = /^-?\d{1,20}$/;

/** Parses a JSON number or decimal string; undefined when the value is not an exact integer ≥ -1. */
export function parseOffset(value: unknown): Offset | undefined {
  let parsed: bigint | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
  if (typeof value === 'string' && DECIMAL.test(value)) parsed = BigInt(value);
  if (parsed === undefined || parsed < BEFORE_OLDEST || parsed >= 2n ** 63n) return undefined;
  return parsed;
}

/** A JSON number when exact, otherwise the decimal string. */
export function offsetToJson(offset: Offset): number | string {
  const asNumber = Number(offset);
  return Number.isSafeInteger(asNumber) ? asNumber : offset.toString();
}
