import type { Host } from '../shared/assembly/host';
import type { Envelope } from '../shared/contract/envelope';
import type { Outcome, Source } from '../shared/pipeline/dispatch';
import type { Logger } from '../shared/pipeline/ports';

/** What the trigger does with a message: deliver it, drop a copy already handled, or leave it queued behind its key's head. */
export type Admission = 'deliver' | 'handled' | 'heldBack';

/** The host of the function handlers, built once per worker, plus what the Service Bus trigger needs. */
export interface Runtime extends Host {
  /** Delivers one message the trigger received, with the consumer's policy (automatic retries first). */
  deliver(source: Source, log: Logger): Promise<Outcome>;
  /** Per-message completion and holds: whether a received message is delivered now. */
  admit(envelope: Envelope): Promise<Admission>;
  /**
   * An infrastructure fault stopped the handling: the message comes back at `at` (a scheduled
   * message), and its key waits for it meanwhile. Throws when even that cannot be arranged.
   */
  backOff(envelope: Envelope, at: Date, backoffs: number): Promise<void>;
}
