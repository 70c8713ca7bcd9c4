import type { Runtime } from '../../functions/runtime';
import type { EmbeddedPipeline } from './embedded-pipeline';

/**
 * The Service Bus trigger's runtime on the embedded pipeline, so the handler runs for real in tests:
 * every message is admitted, and there are no delayed re-attempts.
 */
export function embeddedRuntime(pipeline: EmbeddedPipeline): Runtime {
  return {
    mainStream: pipeline.config.mainStream,
    api: (log) => pipeline.assembly.api(pipeline.backends.backends(log), () => pipeline.status(), log),
    deliver: (source, log) => pipeline.assembly.deliver(pipeline.backends.backends(log), source, log),
    status: () => pipeline.status(),
    close: async () => undefined,
    admit: async () => 'deliver',
    backOff: async () => {
      throw new Error('the embedded pipeline has no delayed re-attempts');
    },
  };
}
