import type { ArchiveEntry } from '../pipeline/ports';

/**
 * `<stream>/<yyyy>/<mm>/<dd>/<offset>-<id>-attempt<n>.json`, dated by the failure (UTC). The attempt
 * keeps a message parked again after a replay from overwriting its earlier record.
 */
export function archiveName(entry: ArchiveEntry): string {
  const at = new Date(entry.record.failure?.at ?? Date.now());
  const yyyy = at.getUTCFullYear().toString();
  const mm = String(at.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(at.getUTCDate()).padStart(2, '0');
  const offset = entry.offset === undefined ? 'unsequenced' : entry.offset.toString();
  return `${entry.stream}/${yyyy}/${mm}/${dd}/${offset}-${entry.record.id}-attempt${entry.record.attempt}.json`;
}
