import { BulkheadTarget } from '../../shared/pipeline/bulkhead';
import type { Target, TargetRequest, TargetResponse } from '../../shared/pipeline/ports';

/** A target whose calls to `hang.example` never finish until released. */
class ScriptedTarget implements Target {
  readonly started: string[] = [];
  private readonly hanging: Array<() => void> = [];

  async call(request: TargetRequest): Promise<TargetResponse> {
    const host = new URL(request.url).host;
    this.started.push(host);
    if (host === 'hang.example') await new Promise<void>((resolve) => this.hanging.push(resolve));
    return { status: 200, bodyExcerpt: '' };
  }

  releaseAll(): void {
    for (const release of this.hanging.splice(0)) release();
  }
}

const request = (host: string): TargetRequest => ({ method: 'POST', url: `https://${host}/x`, headers: {} });

describe('BulkheadTarget', () => {
  it('keeps a healthy host flowing while another hangs', async () => {
    const inner = new ScriptedTarget();
    const target = new BulkheadTarget(inner, 4, 2);
    const hung = Array.from({ length: 10 }, () => target.call(request('hang.example')));
    const healthy = await Promise.all(Array.from({ length: 20 }, () => target.call(request('ok.example'))));
    expect(healthy).toHaveLength(20);
    expect(inner.started.filter((host) => host === 'hang.example')).toHaveLength(2);
    for (let round = 0; round < 10; round += 1) {
      inner.releaseAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(Promise.all(hung)).resolves.toHaveLength(10);
  });

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
    const target = new BulkheadTarget(inner, 3, 3);
    await Promise.all(Array.from({ length: 30 }, (_, i) => target.call(request(`h${i % 6}.example`))));
    expect(peak).toBe(3);
  });
});
