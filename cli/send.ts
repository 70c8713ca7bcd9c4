import type { ApiClient } from './api-client';
import { CliError, EXIT } from './exit-codes';
import type { Progress } from './progress';

/** The sync requests in a file: one JSON array, one JSON object, or NDJSON (one request per line). */
export function parseRequests(text: string, source: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  try {
    const whole: unknown = JSON.parse(trimmed);
    return Array.isArray(whole) ? whole : [whole];
  } catch {
    // not one JSON document: read it as NDJSON
  }
  return trimmed.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (cause) {
      throw new CliError(
        `${source} line ${index + 1} is not JSON (${(cause as Error).message}); send a JSON array or one request per line`,
        EXIT.usage,
      );
    }
  });
}

/** Posts the requests in batches of `batch`; stops at the first refused batch, naming its items. */
export async function sendRequests(
  client: ApiClient,
  requests: unknown[],
  options: { batch: number; authorization?: string },
  progress: Progress,
): Promise<{ sent: number; batches: number }> {
  const headers: Record<string, string> = options.authorization
    ? { authorization: options.authorization }
    : {};
  let sent = 0;
  let batches = 0;
  for (let first = 0; first < requests.length; first += options.batch) {
    const slice = requests.slice(first, first + options.batch);
    try {
      await client.post('stream/sync', slice, headers);
    } catch (error) {
      progress.stop();
      const range = `items ${first + 1}-${first + slice.length}`;
      throw new CliError(
        `${(error as Error).message}\n(${range} were refused; the ${sent} before them were accepted; paths like [0] count from item ${first + 1})`,
        EXIT.callFailed,
      );
    }
    sent += slice.length;
    batches += 1;
    progress.update(sent, requests.length, `batch ${batches}`);
  }
  progress.stop();
  return { sent, batches };
}
