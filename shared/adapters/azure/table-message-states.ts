import { azureStorageError, restStatus } from './azure-errors';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { Envelope } from '../../contract/envelope';
import type { Offset } from '../../contract/offset';
import type {
  Attempt,
  AttemptRecord,
  HeldKey,
  IngestRecord,
  MessageHistory,
  MessageStateName,
  MessageStates,
  ReplayPass,
} from '../../pipeline/message-states';
import { decodeAppended, encodeAppended } from '../../pipeline/message-states';
import { conflictRetried, TableKeyHolds } from './table-key-holds';
import { fromChunks, keys, toChunks } from './table-keys';

/** Schedules a message on a queue (Service Bus scheduled message); the id makes a repeat a duplicate. */
export type Schedule = (stream: string, envelope: Envelope, at: Date, messageId: string) => Promise<void>;

interface StateRow {
  streamKey: string;
  origin: string;
  operation: string;
  state: MessageStateName;
  attempt: number;
  autoRetries: number;
  locationStream: string;
  /** Decimal; absent when the backend did not say (Service Bus sends). */
  locationOffset?: string;
  /** The attempt that routed the message to its location: identifies the record there without an offset. */
  locationAttempt?: number;
  retryAt?: Date;
  released: boolean;
  acceptedAt: Date;
  updatedAt: Date;
}

interface StoredState {
  row: StateRow;
  etag: string;
}

/** What the Service Bus trigger should do with a message it received. */
export type Admission = 'deliver' | 'handled' | 'heldBack';

const OPEN_STATES: ReadonlySet<MessageStateName> = new Set(['failed', 'parked']);
const DONE_STATES: ReadonlySet<MessageStateName> = new Set(['delivered', 'skipped', 'failed', 'parked']);
const PARALLEL_READS = 32;
const MAX_DETAIL_CHARS = 8192;

export interface TableMessageStatesOptions {
  mainStream: string;
  schedule: Schedule;
  /** How long an ingest `Idempotency-Key` is remembered. */
  idempotencyWindowMs: number;
}

/**
 * Message states on Azure Table Storage (see the README for the partition layout). An attempt and
 * the state it leads to are one transaction in the message's partition; the indexes for status
 * (open failures, scheduled retries) and the key holds live in other partitions and are written
 * after it, so a crash in between can leave a count off by one but never releases a key early.
 */
export class TableMessageStates implements MessageStates {
  readonly holds: TableKeyHolds;

  constructor(
    private readonly table: TableClient,
    private readonly options: TableMessageStatesOptions,
  ) {
    this.holds = new TableKeyHolds(table, (envelope, messageId) =>
      options.schedule(options.mainStream, envelope, new Date(), messageId),
    );
  }

  /** New messages start `accepted` (before they are sent, so the trigger always finds them). */
  async register(envelopes: Envelope[]): Promise<void> {
    await this.guard('register the messages', () =>
      inParallel(envelopes, async (envelope) => {
        try {
          await this.table.createEntity({ ...this.newRow(envelope), ...messageKeys(envelope.id) });
        } catch (error) {
          if (restStatus(error) !== 409) throw error;
        }
      }),
    );
  }

  /** Removes rows registered for messages that could not be sent. */
  async unregister(ids: string[]): Promise<void> {
    await inParallel(ids, (id) =>
      this.table.deleteEntity(keys.message(id), keys.stateRow).catch(() => undefined),
    );
  }

  /**
   * Per-message completion on Service Bus: a message already handled (a redelivery after a crash, a
   * stale copy of a retried one) is not delivered again; one whose key waits for another message
   * is queued behind it and delivered after it.
   */
  async admit(envelope: Envelope): Promise<Admission> {
    return this.guard(`admit ${envelope.id}`, async () => {
      const stored = await this.state(envelope.id);
      if (!stored) await this.register([envelope]);
      else if (DONE_STATES.has(stored.row.state)) return 'handled';
      else if (
        stored.row.state === 'retryScheduled' &&
        (envelope.autoRetries ?? 0) !== stored.row.autoRetries
      )
        return 'handled';
      if (envelope.streamKey === '') return 'deliver';
      const hold = await this.holds.get(envelope.streamKey);
      if (hold && !hold.draining && hold.head !== envelope.id) {
        // A head delivered or skipped whose hold a crash left behind is moved on here.
        const head = await this.state(hold.head);
        if (head && (head.row.state === 'delivered' || head.row.state === 'skipped')) {
          await this.holds.advance(envelope.streamKey, hold.head);
        }
      }
      return (await this.holds.holdBack(envelope)) ? 'heldBack' : 'deliver';
    });
  }

  async record(entry: AttemptRecord): Promise<void> {
    await this.guard(`record the outcome of ${entry.id}`, () => conflictRetried(() => this.write(entry)));
  }

  private async write(entry: AttemptRecord): Promise<void> {
    const { id, streamKey, attempt, next } = entry;
    const current = await this.state(id);
    const holds = entry.holdKey && streamKey !== '' && next.state !== 'delivered' && !current?.row.released;
    if (next.state === 'retryScheduled') {
      const name = `${id}-retry-${next.envelope.autoRetries ?? 0}`;
      await this.options.schedule(this.options.mainStream, next.envelope, next.retryAt, name);
    }
    // The hold before the state: a failure in between holds the key a little early, never too late.
    if (holds) await this.holds.hold(streamKey, id);
    const row = this.nextRow(current?.row, entry);
    const stateEntity = { ...messageKeys(id), ...row };
    const actions: TransactionAction[] = [
      ['upsert', attemptEntity(id, attempt), 'Replace'],
      current ? ['update', stateEntity, 'Replace', { etag: current.etag }] : ['create', stateEntity],
    ];
    await this.table.submitTransaction(actions);
    await this.index(id, current?.row, row, attempt);
    if (!holds && streamKey !== '') await this.holds.advance(streamKey, id);
  }

  private nextRow(current: StateRow | undefined, { streamKey, attempt, next }: AttemptRecord): StateRow {
    const now = new Date();
    const base: StateRow = current ?? {
      ...(next.state === 'retryScheduled'
        ? this.newRow(next.envelope)
        : { ...this.newRow(undefined), streamKey }),
    };
    const { retryAt: _retryAt, ...rest } = base;
    switch (next.state) {
      case 'delivered':
        return { ...rest, state: 'delivered', attempt: attempt.attempt, updatedAt: now };
      case 'retryScheduled':
        return {
          ...rest,
          state: 'retryScheduled',
          attempt: next.envelope.attempt,
          autoRetries: next.envelope.autoRetries ?? 0,
          retryAt: next.retryAt,
          updatedAt: now,
        };
      default: {
        const { locationOffset: _offset, ...located } = rest;
        return {
          ...located,
          state: next.state,
          attempt: attempt.attempt,
          autoRetries: 0,
          locationStream: next.location.stream,
          ...(next.location.offset === undefined ? {} : { locationOffset: next.location.offset.toString() }),
          locationAttempt: attempt.attempt,
          updatedAt: now,
        };
      }
    }
  }

  private newRow(envelope: Envelope | undefined): StateRow & { retryAt?: Date } {
    const now = new Date();
    return {
      streamKey: envelope?.streamKey ?? '',
      origin: envelope ? new URL(envelope.streamMessage.targetRestApi).origin : '',
      operation: envelope?.streamMessage.targetRestApiOperation ?? '',
      state: 'accepted',
      attempt: envelope?.attempt ?? 0,
      autoRetries: envelope?.autoRetries ?? 0,
      locationStream: this.options.mainStream,
      released: false,
      acceptedAt: now,
      updatedAt: now,
    };
  }

  /** Keeps the open-failure and scheduled-retry indexes in step with the state row. */
  private async index(id: string, before: StateRow | undefined, after: StateRow, attempt?: Attempt) {
    const wasOpen = before !== undefined && OPEN_STATES.has(before.state);
    if (wasOpen && (!OPEN_STATES.has(after.state) || before.locationStream !== after.locationStream)) {
      await this.deleteQuietly(keys.failures(before.locationStream), keys.idRow(id));
    }
    if (OPEN_STATES.has(after.state) && attempt) {
      await this.table.upsertEntity(
        {
          partitionKey: keys.failures(after.locationStream),
          rowKey: keys.idRow(id),
          id,
          target: after.origin,
          attempt: attempt.attempt,
          at: new Date(attempt.at),
          ...(after.locationOffset === undefined ? {} : { offset: after.locationOffset }),
          ...(attempt.reason === undefined ? {} : { reason: attempt.reason }),
          ...(attempt.status === undefined ? {} : { status: attempt.status }),
        },
        'Replace',
      );
    }
    if (after.state === 'retryScheduled') {
      await this.table.upsertEntity({ partitionKey: keys.retries, rowKey: keys.idRow(id), id }, 'Replace');
    } else if (before?.state === 'retryScheduled') {
      await this.deleteQuietly(keys.retries, keys.idRow(id));
    }
  }

  async history(id: string): Promise<MessageHistory | undefined> {
    return this.guard(`read the history of ${id}`, async () => {
      let row: StateRow | undefined;
      const attempts: Attempt[] = [];
      const filter = odata`PartitionKey eq ${keys.message(id)}`;
      for await (const entity of this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter },
      })) {
        if (entity.rowKey === keys.stateRow) row = toStateRow(entity as unknown as StateRow);
        else attempts.push(JSON.parse(entity.attempt as string) as Attempt);
      }
      if (!row) return undefined;
      const hold =
        row.state === 'accepted' && row.streamKey !== '' ? await this.holds.get(row.streamKey) : undefined;
      const heldBehind = hold && !hold.draining && hold.head !== id ? hold.head : undefined;
      return {
        id,
        streamKey: row.streamKey,
        state: heldBehind ? 'held' : row.state,
        target: row.origin,
        operation: row.operation,
        acceptedAt: new Date(row.acceptedAt).toISOString(),
        updatedAt: new Date(row.updatedAt).toISOString(),
        location: {
          stream: row.locationStream,
          ...(row.locationOffset === undefined ? {} : { offset: BigInt(row.locationOffset) }),
        },
        ...(heldBehind ? { heldBehind } : {}),
        ...(row.state === 'retryScheduled' && row.retryAt
          ? { retryAt: new Date(row.retryAt).toISOString() }
          : {}),
        attempts: attempts.map(reviveOffset),
      };
    });
  }

  /**
   * A record is its message's current location when the message sits failed or parked on this
   * stream and the offsets match, or, where the offset was not known when it was routed (Service
   * Bus sends), the record is the one the routing attempt wrote.
   */
  async replayable(
    stream: string,
    records: Array<{ offset: Offset; body: { id: string; attempt?: number } }>,
    includeHandled: boolean,
  ): Promise<Set<string>> {
    return this.guard('read the message states', async () => {
      const ids = [...new Set(records.map((record) => record.body.id))];
      const states = new Map<string, StateRow | undefined>();
      await inParallel(ids, async (id) => void states.set(id, (await this.state(id))?.row));
      const replayable = records.filter((record) => {
        const row = states.get(record.body.id);
        if (includeHandled) return row?.state !== 'accepted' && row?.state !== 'retryScheduled';
        if (!row || !OPEN_STATES.has(row.state) || row.locationStream !== stream) return false;
        return row.locationOffset !== undefined
          ? BigInt(row.locationOffset) === record.offset
          : record.body.attempt === row.locationAttempt;
      });
      return new Set(replayable.map((record) => record.body.id));
    });
  }

  async replayPass(stream: string): Promise<ReplayPass | undefined> {
    const row = await this.guard('read the replay position', () =>
      this.find<{ position: string; startedAt: Date; end?: string; ended: boolean }>(
        keys.replayPasses,
        keys.streamRow(stream),
      ),
    );
    if (!row) return undefined;
    return {
      position: BigInt(row.position),
      startedAt: new Date(row.startedAt),
      ...(row.end === undefined ? {} : { end: BigInt(row.end) }),
      ended: row.ended,
    };
  }

  async saveReplayPass(stream: string, pass: ReplayPass | undefined): Promise<void> {
    await this.guard('save the replay position', async () => {
      if (pass === undefined) return this.deleteQuietly(keys.replayPasses, keys.streamRow(stream));
      await this.table.upsertEntity(
        {
          partitionKey: keys.replayPasses,
          rowKey: keys.streamRow(stream),
          position: pass.position.toString(),
          startedAt: pass.startedAt,
          ...(pass.end === undefined ? {} : { end: pass.end.toString() }),
          ended: pass.ended,
        },
        'Replace',
      );
    });
  }

  async heldKeys(limit: number): Promise<HeldKey[]> {
    return this.guard('list the held keys', async () => {
      const rows = (await this.holds.heldRows()).slice(0, limit);
      return Promise.all(
        rows.map(async (hold) => ({
          streamKey: hold.streamKey,
          head: hold.head,
          headState: (await this.state(hold.head))?.row.state ?? 'accepted',
          since: hold.since,
          held: await this.holds.countWaiting(hold.streamKey),
        })),
      );
    });
  }

  async holdOf(streamKey: string): Promise<string | undefined> {
    const hold = await this.guard('read the key hold', () => this.holds.get(streamKey));
    return hold && !hold.draining ? hold.head : undefined;
  }

  async release(streamKey: string): Promise<number | undefined> {
    return this.guard('release the key', async () => {
      const hold = await this.holds.get(streamKey);
      if (!hold || hold.draining) return undefined;
      const held = await this.holds.countWaiting(streamKey);
      await this.table.upsertEntity({ ...messageKeys(hold.head), released: true }, 'Merge');
      await this.holds.advance(streamKey, hold.head);
      return held;
    });
  }

  async skip(streamKey: string): Promise<string | undefined> {
    return this.guard('skip the head of the key', async () => {
      const hold = await this.holds.get(streamKey);
      if (!hold || hold.draining) return undefined;
      await conflictRetried(async () => {
        const current = await this.state(hold.head);
        if (!current) return;
        const { retryAt: _retryAt, ...rest } = current.row;
        const row: StateRow = { ...rest, state: 'skipped', updatedAt: new Date() };
        await this.table.updateEntity({ ...messageKeys(hold.head), ...row }, 'Replace', {
          etag: current.etag,
        });
        await this.index(hold.head, current.row, row);
      });
      await this.holds.advance(streamKey, hold.head);
      return hold.head;
    });
  }

  async findIngest(idempotencyKey: string): Promise<IngestRecord | undefined> {
    const row = await this.guard('read the Idempotency-Key', () =>
      this.find<Record<string, unknown> & { fingerprint: string; createdAt: Date }>(
        keys.ingest(idempotencyKey),
        keys.ingestRow,
      ),
    );
    if (!row || Date.now() - new Date(row.createdAt).getTime() > this.options.idempotencyWindowMs)
      return undefined;
    return { fingerprint: row.fingerprint, appended: decodeAppended(fromChunks('appended', row)) };
  }

  /** The first answer stays; an entry older than the window is replaced. */
  async rememberIngest(idempotencyKey: string, record: IngestRecord): Promise<void> {
    const entity = {
      partitionKey: keys.ingest(idempotencyKey),
      rowKey: keys.ingestRow,
      fingerprint: record.fingerprint,
      createdAt: new Date(),
      ...toChunks('appended', encodeAppended(record.appended)),
    };
    await this.guard('remember the Idempotency-Key', async () => {
      try {
        await this.table.createEntity(entity);
      } catch (error) {
        if (restStatus(error) !== 409) throw error;
        if ((await this.findIngest(idempotencyKey)) === undefined)
          await this.table.upsertEntity(entity, 'Replace');
      }
    });
  }

  /** Open failures per error stream, and the most recent of them. */
  async openFailures(streams: string[], recent: number) {
    return this.guard('count the open failures', async () => {
      const counts = new Map<string, number>();
      const latest: OpenFailure[] = [];
      for (const stream of streams) {
        let count = 0;
        const filter = odata`PartitionKey eq ${keys.failures(stream)}`;
        for await (const row of this.table.listEntities<Omit<OpenFailure, 'stream'>>({
          queryOptions: { filter },
        })) {
          count += 1;
          latest.push({ ...row, stream, at: new Date(row.at) });
        }
        counts.set(stream, count);
      }
      latest.sort((a, b) => b.at.getTime() - a.at.getTime());
      return { counts, recent: latest.slice(0, recent) };
    });
  }

  async scheduledRetries(): Promise<number> {
    return this.guard('count the scheduled retries', () =>
      this.count(odata`PartitionKey eq ${keys.retries}`),
    );
  }

  async heldTotals(): Promise<{ keys: number; messages: number; oldestSince?: Date }> {
    return this.guard('count the held keys', async () => {
      const rows = await this.holds.heldRows();
      const counts = await Promise.all(rows.map((row) => this.holds.countWaiting(row.streamKey)));
      return {
        keys: rows.length,
        messages: counts.reduce((sum, count) => sum + count, 0),
        ...(rows[0] ? { oldestSince: rows[0].since } : {}),
      };
    });
  }

  private async count(filter: string): Promise<number> {
    let count = 0;
    for await (const page of this.table
      .listEntities({ queryOptions: { filter, select: ['RowKey'] } })
      .byPage())
      count += page.length;
    return count;
  }

  private async state(id: string): Promise<StoredState | undefined> {
    const entity = await this.find<StateRow>(keys.message(id), keys.stateRow);
    return entity ? { row: toStateRow(entity), etag: entity.etag } : undefined;
  }

  private async find<T extends object>(
    partitionKey: string,
    rowKey: string,
  ): Promise<(T & { etag: string }) | undefined> {
    try {
      return await this.table.getEntity<T>(partitionKey, rowKey);
    } catch (error) {
      if (restStatus(error) === 404) return undefined;
      throw error;
    }
  }

  private async deleteQuietly(partitionKey: string, rowKey: string): Promise<void> {
    try {
      await this.table.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (restStatus(error) !== 404) throw error;
    }
  }

  private async guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw azureStorageError(what, error);
    }
  }
}

export interface OpenFailure {
  id: string;
  stream: string;
  target: string;
  attempt: number;
  at: Date;
  offset?: string;
  reason?: string;
  status?: number;
}

/** The state's own properties (not the service's partitionKey, rowKey, etag, timestamp). */
function toStateRow(entity: StateRow): StateRow {
  return {
    streamKey: entity.streamKey,
    origin: entity.origin,
    operation: entity.operation,
    state: entity.state,
    attempt: entity.attempt,
    autoRetries: entity.autoRetries,
    locationStream: entity.locationStream,
    ...(entity.locationOffset === undefined ? {} : { locationOffset: entity.locationOffset }),
    ...(entity.locationAttempt === undefined ? {} : { locationAttempt: entity.locationAttempt }),
    ...(entity.retryAt === undefined ? {} : { retryAt: new Date(entity.retryAt) }),
    released: entity.released,
    acceptedAt: new Date(entity.acceptedAt),
    updatedAt: new Date(entity.updatedAt),
  };
}

function messageKeys(id: string) {
  return { partitionKey: keys.message(id), rowKey: keys.stateRow };
}

/**
 * The attempt as one JSON property (at most 32 K UTF-16 characters): dispatch bounds the excerpt
 * to 512 characters; a detail (an error message) is cut here should one ever be longer.
 */
function attemptEntity(id: string, attempt: Attempt) {
  const { offset, detail, ...rest } = attempt;
  return {
    partitionKey: keys.message(id),
    rowKey: keys.attemptRow(attempt.at, attempt.attempt, attempt.outcome),
    attempt: JSON.stringify({
      ...rest,
      ...(detail === undefined ? {} : { detail: detail.slice(0, MAX_DETAIL_CHARS) }),
      ...(offset === undefined ? {} : { offset: offset.toString() }),
    }),
  };
}

function reviveOffset(attempt: Attempt): Attempt {
  const { offset, ...rest } = attempt as Attempt & { offset?: string };
  return offset === undefined ? rest : { ...rest, offset: BigInt(offset) };
}

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += PARALLEL_READS) {
    await Promise.all(items.slice(start, start + PARALLEL_READS).map(work));
  }
}
