import { isTargetError } from './errors';
import type { Pacing } from './pacing';
import type { Target, TargetRequest, TargetResponse } from './ports';

/** Tells each target origin's pacer how every call went (answer, latency, timeout, Retry-After). */
export class PacedTarget implements Target {
  constructor(
    private readonly inner: Target,
    private readonly pacing: Pacing,
  ) {}

  async call(request: TargetRequest): Promise<TargetResponse> {
    const pacer = this.pacing.of(new URL(request.url).origin);
    const started = Date.now();
    try {
      const response = await this.inner.call(request);
      pacer.observe({
        status: response.status,
        durationMs: Date.now() - started,
        retryAfterMs: response.retryAfterMs,
      });
      return response;
    } catch (error) {
      if (isTargetError(error) && (error.reason === 'timeout' || error.reason === 'network')) {
        pacer.observe({ failed: error.reason });
      }
      throw error;
    }
  }
}
