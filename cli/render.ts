import Table from 'cli-table3';
import type { HeldKeys, MessageHistory, Status } from './api-types';

const dash = (value: unknown) => (value === undefined || value === null ? '-' : String(value));

function table(head: string[], rows: unknown[][]): string {
  const out = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) out.push(row.map(dash));
  return out.toString();
}

export function renderStatus(status: Status): string {
  const { consumer, heldKeys, targets } = status;
  const parts = [
    'Streams',
    table(
      ['stream', 'kind', 'retained', 'open failures', 'last offset', 'replay position'],
      status.streams.map((s) => [
        s.stream,
        s.errorStream ? (s.unrecoverable ? 'unrecoverable' : 'error') : 'main',
        s.retained,
        s.errorStream ? s.openFailures : '',
        s.lastOffset,
        s.replayPosition,
      ]),
    ),
    `Consumer ${consumer.stream}: backlog ${dash(consumer.backlog)}, in flight ${consumer.inFlight}, scheduled retries ${consumer.scheduledRetries}`,
    heldKeys
      ? `Held keys: ${heldKeys.keys} key(s), ${heldKeys.messages} message(s) held${heldKeys.oldestSince ? `, oldest since ${heldKeys.oldestSince}` : ''}`
      : 'Held keys: - (this host does not report them)',
  ];
  if (targets && targets.length > 0) {
    parts.push(
      'Targets',
      table(
        ['origin', 'in flight', 'queued'],
        targets.map((t) => [t.origin, t.inFlight, t.queued]),
      ),
    );
  }
  if (status.recentFailures.length > 0) {
    parts.push(
      'Recent failures',
      table(
        ['at', 'stream', 'offset', 'target', 'reason', 'status', 'attempt', 'id'],
        status.recentFailures.map((f) => [
          f.at,
          f.stream,
          f.offset,
          f.target,
          f.reason,
          f.status,
          f.attempt,
          f.id,
        ]),
      ),
    );
  }
  return parts.join('\n');
}

export function renderMessage(message: MessageHistory): string {
  const facts = [
    `Message ${message.id}: ${message.state}`,
    `  ${message.operation} ${message.target}${message.streamKey ? `  key ${message.streamKey}` : ''}`,
    `  accepted ${message.acceptedAt}, updated ${message.updatedAt}`,
  ];
  if (message.location)
    facts.push(`  now in ${message.location.stream} at offset ${message.location.offset}`);
  if (message.heldBehind) facts.push(`  held behind ${message.heldBehind}`);
  if (message.retryAt) facts.push(`  next retry at ${message.retryAt}`);
  if (message.attempts.length === 0) return [...facts, '  no attempt yet'].join('\n');
  return [
    ...facts,
    table(
      ['#', 'at', 'outcome', 'status', 'reason', 'ms', 'stream', 'offset', 'detail'],
      message.attempts.map((a) => [
        a.attempt,
        a.at,
        a.outcome,
        a.status,
        a.reason,
        a.durationMs,
        a.stream,
        a.offset,
        [a.detail, a.responseExcerpt].filter(Boolean).join(' | ').slice(0, 80) || undefined,
      ]),
    ),
  ].join('\n');
}

export function renderKeys(held: HeldKeys): string {
  if (held.keys.length === 0) return 'No key is held.';
  return table(
    ['key', 'held', 'head', 'head state', 'since'],
    held.keys.map((k) => [k.streamKey, k.held, k.head, k.headState, k.since]),
  );
}
