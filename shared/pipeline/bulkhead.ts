import type { Target, TargetRequest, TargetResponse } from './ports';

export class Semaphore {
  private available: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.available = size;
  }

  get idle(): boolean {
    return this.available === this.size;
  }

  async acquire(): Promise<() => void> {
    if (this.available > 0) this.available -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.available += 1;
    };
  }
}

/**
 * Limits target calls in flight overall (consumer and replays together). How many go to one target
 * is the pacing's business (each origin's adaptive limit, breaker and Retry-After).
 */
export class BulkheadTarget implements Target {
  private readonly shared: Semaphore;

  constructor(
    private readonly inner: Target,
    concurrency: number,
  ) {
    this.shared = new Semaphore(concurrency);
  }

  async call(request: TargetRequest): Promise<TargetResponse> {
    const release = await this.shared.acquire();
    try {
      return await this.inner.call(request);
    } finally {
      release();
    }
  }
}
