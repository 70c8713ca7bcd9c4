import { LosslessNumber } from 'lossless-json';
import { z } from 'zod';
import { parseOffset, type Offset } from './offset';
import { describeIssues, problem } from './problems';

export const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/;
export const streamName = z
  .string()
  .regex(STREAM_NAME, 'must be a stream name (letters, digits, . _ -; at most 260)');

export const MAX_MESSAGES_PER_RETRY = 1000;
export const DEFAULT_MESSAGES_PER_RETRY = 10;

export const errorRouteSchema = z.strictObject({
  responsecode: z.string().min(1, 'must not be empty'),
  stream: streamName,
  unrecoverable: z.boolean().optional(),
});
export type ErrorRoute = z.infer<typeof errorRouteSchema>;

const retrySchema = z.strictObject({
  streamOCIDToRetry: streamName.optional(),
  streamToRetry: streamName.optional(),
  noOfMessagesToProcess: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(MAX_MESSAGES_PER_RETRY, `must be at most ${MAX_MESSAGES_PER_RETRY}`)
    .optional(),
  readAfterOffset: z.union([z.number(), z.string(), z.instanceof(LosslessNumber)]).optional(),
  readPartition: z.union([z.string(), z.number()]).optional(),
  errormapping: z.array(errorRouteSchema).max(100, 'must have at most 100 entries').optional(),
  includeHandled: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});

export interface RetryRequest {
  stream: string;
  maxMessages: number;
  /** Omitted: continue where this stream's last replay stopped. */
  readAfter?: Offset;
  errorMapping: ErrorRoute[];
  /** Replay records already handled (delivered, skipped, superseded) too. */
  includeHandled: boolean;
  /** Read and count only; nothing is sent. */
  dryRun: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export function parseRetryRequest(body: unknown): Parsed<RetryRequest> {
  const result = retrySchema.safeParse(body);
  if (!result.success) return { ok: false, problems: describeIssues(result.error.issues) };
  const input = result.data;
  const problems: string[] = [];
  const stream = input.streamOCIDToRetry ?? input.streamToRetry;
  if (input.streamOCIDToRetry && input.streamToRetry && input.streamOCIDToRetry !== input.streamToRetry) {
    problems.push(
      problem(['streamToRetry'], 'names a different stream than streamOCIDToRetry; send one of them'),
    );
  }
  if (!stream) problems.push(problem(['streamOCIDToRetry'], 'required (or its alias streamToRetry)'));
  let readAfter: Offset | undefined;
  if (input.readAfterOffset !== undefined) {
    readAfter = parseOffset(decimal(input.readAfterOffset));
    if (readAfter === undefined) {
      problems.push(problem(['readAfterOffset'], 'must be -1 or an offset (integer or decimal string)'));
    }
  }
  if (problems.length > 0 || !stream) return { ok: false, problems };
  return {
    ok: true,
    value: {
      stream,
      maxMessages: input.noOfMessagesToProcess ?? DEFAULT_MESSAGES_PER_RETRY,
      ...(readAfter === undefined ? {} : { readAfter }),
      errorMapping: input.errormapping ?? [],
      includeHandled: input.includeHandled ?? false,
      dryRun: input.dryRun ?? false,
    },
  };
}

/**
 * Request bodies are parsed without losing digits (see envelope-codec), so any integer here is the
 * one the caller sent, beyond 2^53 too.
 */
function decimal(value: number | string | LosslessNumber): string {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value).toString();
  return value.toString();
}
