import type { HttpApi } from '../shared/api/http-api';
import type { DispatchDeps } from '../shared/pipeline/dispatch';
import type { Logger } from '../shared/pipeline/ports';

/** What the function handlers need, built once per worker; loggers are per invocation. */
export interface Runtime {
  mainStream: string;
  api(log: Logger): HttpApi;
  dispatch(log: Logger): DispatchDeps;
  /** Releases connections when the worker stops. */
  close(): Promise<void>;
}
