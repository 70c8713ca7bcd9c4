import type { ArchiveEntry } from '../pipeline/ports';

/**
 * `<stream>/<yyyy>/<mm>/<dd>/<position>-<id>-attempt<n>.json`, dated by the failure (UTC). The
 * position is the record's offset in its stream or, where the backend assigns offsets only after the
 * send (Service Bus), where it failed from (`from-<stream>-<offset>`). The attempt gives each
 * archiving of a message its own name, so a later failure never overwrites an earlier record.
 */
export function archiveName(entry: ArchiveEntry): string {
  const record = entry.record;
  const at = new Date(record.failure?.at ?? Date.now());
  const yyyy = at.getUTCFullYear().toString();
  const mm = String(at.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(at.getUTCDate()).padStart(2, '0');
  const from = record.failure?.from;
  const position =
    entry.offset !== undefined
      ? entry.offset.toString()
      : from
        ? `from-${from.stream}-${from.offset}`
        : 'unsequenced';
  return `${entry.stream}/${yyyy}/${mm}/${dd}/${position}-${record.id}-attempt${record.attempt}.json`;
}
