import type { HttpApi } from '../shared/api/http-api';
import type { StatusReport } from '../shared/api/status-report';
import type { Envelope } from '../shared/contract/envelope';
import type { DispatchDeps } from '../shared/pipeline/dispatch';
import type { Logger } from '../shared/pipeline/ports';

/** What the trigger does with a message: deliver it, drop a copy already handled, or leave it queued behind its key's head. */
export type Admission = 'deliver' | 'handled' | 'heldBack';

/** What the function handlers need, built once per worker; loggers are per invocation. */
export interface Runtime {
  mainStream: string;
  api(log: Logger): HttpApi;
  dispatch(log: Logger): DispatchDeps;
  /** Per-message completion and holds: whether a received message is delivered now. */
  admit(envelope: Envelope): Promise<Admission>;
  /**
   * An infrastructure fault stopped the handling: the message comes back at `at` (a scheduled
   * message), and its key waits for it meanwhile. Throws when even that cannot be arranged.
   */
  backOff(envelope: Envelope, at: Date, backoffs: number): Promise<void>;
  /** The status report (`GET /api/stream/status`), also logged every minute as `status.gauges`. */
  status(): Promise<StatusReport>;
  /** Releases connections when the worker stops. */
  close(): Promise<void>;
}
