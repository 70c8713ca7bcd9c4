import type { Envelope, Failure } from '../contract/envelope';
import type { Offset } from '../contract/offset';
import type { Operation } from '../contract/sync-request';

export interface StreamRecord {
  stream: string;
  offset: Offset;
  body: Envelope;
  enqueuedAt: Date;
}

export interface Appended {
  stream: string;
  id: string;
  /** Unknown on backends that assign it asynchronously (Service Bus send). */
  offset?: Offset;
}

/** Durable, ordered log of messages per stream. */
export interface StreamStore {
  /** Appends all or none; resolves once the messages are durable. */
  append(stream: string, messages: Envelope[]): Promise<Appended[]>;
  /** Up to `max` records with an offset greater than `after` (`-1n`: from the oldest retained). */
  readAfter(stream: string, after: Offset, max: number): Promise<StreamRecord[]>;
  exists(stream: string): Promise<boolean>;
  /** The newest offset on the stream, where the backend knows it cheaply (undefined: empty stream). */
  lastOffset?(stream: string): Promise<Offset | undefined>;
}

export interface StoredSecret {
  value: string;
  /** The only origin (scheme://host:port) this credential may be sent to. */
  origin: string;
}

export interface SecretStore {
  get(name: string): Promise<StoredSecret | undefined>;
  put(name: string, secret: StoredSecret): Promise<void>;
  /** Removes the secret; false when there was none. */
  delete(name: string): Promise<boolean>;
}

export interface ArchiveEntry {
  stream: string;
  offset?: Offset;
  record: Envelope;
}

export interface Archive {
  /** Stores one unrecoverable error record; resolves with where it went. */
  put(entry: ArchiveEntry): Promise<string>;
}

/** A message was parked: archived, and operators must look. */
export interface Alert {
  messageId: string;
  stream: string;
  offset?: string;
  targetOrigin: string;
  failure: Failure;
  attempt: number;
  archivedAt: string;
}

export interface Alerts {
  publish(alert: Alert): Promise<void>;
}

export interface TargetRequest {
  method: Operation;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Bytes of the response body to keep (the adapter's excerpt size otherwise): token answers need all of theirs. */
  maxResponseBytes?: number;
}

export interface TargetResponse {
  status: number;
  bodyExcerpt: string;
  retryAfterMs?: number;
}

/** Calls a target REST API. Throws `TargetError` when no HTTP answer was obtained. */
export interface Target {
  call(request: TargetRequest): Promise<TargetResponse>;
}

export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}
