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
 * Limits calls in flight overall and per target host. A call first waits for its host's slot and
 * only then takes a shared one, so a hanging host holds at most `perHost` of the shared slots and
 * other targets keep flowing.
 */
export class BulkheadTarget implements Target {
  private readonly shared: Semaphore;
  private readonly hosts = new Map<string, Semaphore>();

  constructor(
    private readonly inner: Target,
    concurrency: number,
    private readonly perHost: number,
  ) {
    this.shared = new Semaphore(concurrency);
  }

  async call(request: TargetRequest): Promise<TargetResponse> {
    const host = new URL(request.url).host;
    const hostSlots = this.hosts.get(host) ?? new Semaphore(this.perHost);
    this.hosts.set(host, hostSlots);
    const releaseHost = await hostSlots.acquire();
    const releaseShared = await this.shared.acquire();
    try {
      return await this.inner.call(request);
    } finally {
      releaseShared();
      releaseHost();
      if (hostSlots.idle) this.hosts.delete(host);
    }
  }
}
