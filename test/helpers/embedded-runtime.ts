import type { Runtime } from '../../functions/runtime';
import { HttpApi } from '../../shared/api/http-api';
import type { EmbeddedPipeline } from './embedded-pipeline';

/** The function handlers' runtime on the embedded pipeline, so handlers run for real in tests. */
export function embeddedRuntime(pipeline: EmbeddedPipeline): Runtime {
  return {
    mainStream: 'datasync',
    status: () => pipeline.status(),
    close: async () => undefined,
    dispatch: (log) => ({ ...pipeline.dispatchDeps, log }),
    admit: async () => 'deliver',
    backOff: async () => {
      throw new Error('the embedded pipeline has no delayed re-attempts');
    },
    api: (log) =>
      new HttpApi({
        populate: { ...pipeline.populateDeps, log },
        dispatch: { ...pipeline.dispatchDeps, log },
        connections: { ...pipeline.connectionDeps, log },
        status: () => pipeline.status(),
        maxBodyBytes: 1024 * 1024,
        log,
      }),
  };
}
