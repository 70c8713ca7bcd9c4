import { createHash } from 'node:crypto';

/**
 * Partition and row keys of the message-state table (see the README's "State store on Azure").
 * Keys may not hold `/ \ # ?` or control characters and are at most 1 KiB, so caller-chosen text
 * (stream keys, Idempotency-Keys) is hashed and ids and stream names are URI-encoded.
 */
export const keys = {
  /** One partition per message: its state row and its attempt rows, written in one transaction. */
  message: (id: string) => `m|${encodeURIComponent(id)}`,
  stateRow: 'state',
  /** Attempt rows sort by time; the same attempt recorded twice (a retried write) is one row. */
  attemptRow: (at: string, attempt: number, outcome: string) =>
    `a|${at}|${String(attempt).padStart(6, '0')}|${outcome}`,
  attemptRows: { from: 'a|', to: 'a}' },
  /** One partition per held key: the hold row and the messages waiting behind its head, in order. */
  key: (streamKey: string) => `k|${digest(streamKey)}`,
  keys: { from: 'k|', to: 'k}' },
  holdRow: 'hold',
  waitingRow: (seq: number) => `q|${String(seq).padStart(10, '0')}`,
  waitingRows: { from: 'q|', to: 'q}' },
  /** Open failures per error stream (failed or parked there, not handled yet): counted for status. */
  failures: (stream: string) => `f|${encodeURIComponent(stream)}`,
  /** Scheduled automatic retries: counted for status. */
  retries: 'retries',
  idRow: (id: string) => encodeURIComponent(id),
  replayPasses: 'replay',
  streamRow: (stream: string) => encodeURIComponent(stream),
  ingest: (idempotencyKey: string) => `i|${digest(idempotencyKey)}`,
  ingestRow: 'ingest',
} as const;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Binary properties hold at most 64 KiB; larger values are split over `<name>0`, `<name>1`, … */
const CHUNK_BYTES = 64 * 1024;

export function toChunks(name: string, text: string): Record<string, Uint8Array | number> {
  const bytes = Buffer.from(text, 'utf8');
  const entity: Record<string, Uint8Array | number> = {};
  let count = 0;
  for (let start = 0; start < bytes.length || count === 0; start += CHUNK_BYTES) {
    entity[`${name}${count}`] = new Uint8Array(bytes.subarray(start, start + CHUNK_BYTES));
    count += 1;
  }
  entity[`${name}Chunks`] = count;
  return entity;
}

export function fromChunks(name: string, entity: Record<string, unknown>): string {
  const count = Number(entity[`${name}Chunks`] ?? 0);
  const parts: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    parts.push(Buffer.from(entity[`${name}${index}`] as Uint8Array));
  }
  return Buffer.concat(parts).toString('utf8');
}
