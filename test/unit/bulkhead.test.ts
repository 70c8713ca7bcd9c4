import { BulkheadTarget } from '../../shared/pipeline/bulkhead';
import type { Target, TargetRequest } from '../../shared/pipeline/ports';

const request = (host: string): TargetRequest => ({ method: 'POST', url: `https://${host}/x`, headers: {} });

describe('BulkheadTarget', () => {
  it('never has more calls in flight than the shared limit', async () => {
    let running = 0;
    let peak = 0;
    const inner: Target = {
      async call() {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        return { status: 200, bodyExcerpt: '' };
      },
    };
    const target = new BulkheadTarget(inner, 3);
    await Promise.all(Array.from({ length: 30 }, (_, i) => target.call(request(`h${i % 6}.example`))));
    expect(peak).toBe(3);
  });
});
