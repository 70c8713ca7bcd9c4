import type { Envelope } from '../../contract/envelope';

const KEPT_CHARS = 256;
const MARK = ' [truncated: the error record was too large for the queue]';

/**
 * An error record that does not fit its queue loses the length of what the target and the network
 * said (response excerpt, detail), marked as cut; the caller's message is never shortened. Returns
 * the first version that `fits`, or undefined when even the bare record does not.
 */
export function fitErrorRecord(
  record: Envelope,
  fits: (candidate: Envelope) => boolean,
): Envelope | undefined {
  if (fits(record)) return record;
  const failure = record.failure;
  if (!failure) return undefined;
  const cut = (text: string | undefined, chars: number) =>
    text === undefined ? undefined : text.slice(0, chars) + MARK;
  for (const chars of [KEPT_CHARS, 0]) {
    const { responseExcerpt, detail, ...rest } = failure;
    const excerpt = cut(responseExcerpt, chars);
    const shortDetail = cut(detail, chars) ?? MARK.trim();
    const candidate: Envelope = {
      ...record,
      failure: {
        ...rest,
        ...(excerpt === undefined ? {} : { responseExcerpt: excerpt }),
        detail: shortDetail,
      },
    };
    if (fits(candidate)) return candidate;
  }
  return undefined;
}
