import { OriginPacer, type PacingOptions } from '../../shared/pipeline/pacing';

const options: PacingOptions = {
  initialLimit: 8,
  maxLimit: 32,
  breakerThreshold: 3,
  breakerMs: 1000,
  maxBreakerMs: 8000,
  maxRetryAfterMs: 60_000,
};

describe('OriginPacer', () => {
  let now: number;
  let pacer: OriginPacer;
  beforeEach(() => {
    now = 1_000_000;
    pacer = new OriginPacer(options, () => now);
  });
  const ok = (durationMs = 10) => pacer.observe({ status: 200, durationMs });

  it('grows about one call per round trip while the target answers fast and well, up to the maximum', () => {
    for (let i = 0; i < 9; i++) ok();
    expect(pacer.limit).toBe(9);
    for (let i = 0; i < 2000; i++) ok();
    expect(pacer.limit).toBe(32);
    expect(pacer.capacity()).toBe(32);
  });

  it('halves on a 503, a timeout or a latency blow-up, once per round trip', () => {
    pacer = new OriginPacer({ ...options, breakerThreshold: 10 }, () => now);
    for (let i = 0; i < 200; i++) ok();
    const grown = pacer.limit;
    now += 100;
    pacer.observe({ status: 503, durationMs: 10 });
    pacer.observe({ status: 503, durationMs: 10 });
    expect(pacer.limit).toBe(Math.floor(grown / 2));
    now += 100;
    pacer.observe({ failed: 'timeout', durationMs: 30_000 });
    expect(pacer.limit).toBe(Math.floor(grown / 4));
    now += 100;
    ok(400);
    expect(pacer.limit).toBe(Math.floor(grown / 8));
    expect(pacer.reason).toBe('latency 400 ms');
  });

  it('holds the whole origin back for its Retry-After', () => {
    pacer.observe({ status: 429, durationMs: 5, retryAfterMs: 2000 });
    expect(pacer.state).toBe('throttled');
    expect(pacer.capacity()).toBe(0);
    now += 1999;
    expect(pacer.capacity()).toBe(0);
    now += 2;
    expect(pacer.capacity()).toBeGreaterThan(0);
  });

  it('opens after failures in a row, lets one probe through, and closes on its success', () => {
    for (let i = 0; i < 3; i++) {
      now += 50;
      pacer.observe({ failed: 'network', durationMs: 1 });
    }
    expect(pacer.state).toBe('open');
    expect(pacer.capacity()).toBe(0);
    now += 1001;
    expect(pacer.state).toBe('halfOpen');
    expect(pacer.capacity()).toBe(1);
    pacer.started();
    expect(pacer.capacity()).toBe(0);
    ok();
    expect(pacer.state).toBe('closed');
    expect(pacer.capacity()).toBe(8);
  });

  it('opens again for twice as long when the probe fails', () => {
    for (let i = 0; i < 3; i++) {
      now += 50;
      pacer.observe({ status: 502, durationMs: 1 });
    }
    now += 1001;
    pacer.started();
    pacer.observe({ status: 502, durationMs: 1 });
    expect(pacer.state).toBe('open');
    now += 1999;
    expect(pacer.state).toBe('open');
    now += 2;
    expect(pacer.state).toBe('halfOpen');
  });

  it('does not count a 404 as overload', () => {
    for (let i = 0; i < 10; i++) pacer.observe({ status: 404, durationMs: 10 });
    expect(pacer.state).toBe('closed');
    expect(pacer.limit).toBeGreaterThanOrEqual(8);
  });
});
