import type { HttpApi } from '../api/http-api';
import type { StatusReport } from '../api/status-report';
import type { Logger } from '../pipeline/ports';

/**
 * What a host offers its front ends, the same for `npm start` (`EmbeddedApp`) and the Functions
 * worker (`azureRuntime`), both built on `PipelineAssembly`. Loggers are per request or invocation.
 */
export interface Host {
  readonly mainStream: string;
  /** The HTTP endpoints; replays there route failures at once (no automatic retries). */
  api(log: Logger): HttpApi;
  /** `GET /api/stream/status`, also logged every minute as `status.gauges`. */
  status(): Promise<StatusReport>;
  /** Releases connections; call once nothing is served any more. */
  close(): Promise<void>;
}
