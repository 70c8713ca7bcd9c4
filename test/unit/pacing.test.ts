import { DEFAULT_PACING, OriginPacer, Pacing, type PacingOptions } from '../../shared/pipeline/pacing';

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

  it('halves for a target that fails before it ever answered, at most once per 10 ms', () => {
    pacer = new OriginPacer({ ...options, breakerThreshold: 10 }, () => now);
    pacer.observe({ failed: 'timeout' });
    expect(pacer.limit).toBe(4);
    now += 9;
    pacer.observe({ failed: 'network' });
    expect(pacer.limit).toBe(4);
    now += 1;
    pacer.observe({ status: 503, durationMs: 10 });
    expect(pacer.limit).toBe(2);
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
    pacer.observe({ failed: 'timeout' });
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
    now += 1;
    expect(pacer.capacity()).toBeGreaterThan(0);
  });

  it('opens after failures in a row, lets one probe through, and closes on its success', () => {
    for (let i = 0; i < 3; i++) {
      now += 50;
      pacer.observe({ failed: 'network' });
    }
    expect(pacer.state).toBe('open');
    expect(pacer.capacity()).toBe(0);
    now += 1000;
    expect(pacer.state).toBe('halfOpen');
    expect(pacer.capacity()).toBe(1);
    pacer.started();
    expect(pacer.capacity()).toBe(0);
    ok();
    expect(pacer.state).toBe('closed');
    expect(pacer.capacity()).toBe(8);
  });

  it('sends the probe only once a Retry-After longer than the open period has passed', () => {
    for (let i = 0; i < 3; i++) {
      now += 50;
      pacer.observe({ status: 429, durationMs: 5, retryAfterMs: 3000 });
    }
    now += 1000;
    expect(pacer.state).toBe('throttled');
    expect(pacer.capacity()).toBe(0);
    now += 1999;
    expect(pacer.capacity()).toBe(0);
    now += 1;
    expect(pacer.state).toBe('halfOpen');
    expect(pacer.capacity()).toBe(1);
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
    now += 1;
    expect(pacer.state).toBe('halfOpen');
  });

  it('does not count a 404 as overload', () => {
    for (let i = 0; i < 10; i++) pacer.observe({ status: 404, durationMs: 10 });
    expect(pacer.state).toBe('closed');
    expect(pacer.limit).toBeGreaterThanOrEqual(8);
  });

  const fail = (status = 503) => {
    now += 50;
    pacer.started();
    pacer.observe({ status, durationMs: 10 });
  };

  it('says why the last calls were held back or the limit fell, and nothing while all is well', () => {
    expect(pacer.reason).toBe('');
    ok();
    now += 100;
    pacer.observe({ status: 503, durationMs: 10 });
    expect(pacer.reason).toBe('HTTP 503');
    now += 100;
    pacer.observe({ failed: 'timeout' });
    expect(pacer.reason).toBe('timeout');
    now += 100;
    pacer.observe({ status: 429, durationMs: 10, retryAfterMs: 2500 });
    expect(pacer.reason).toBe('3 failures in a row');
    now += 1000;
    pacer.started();
    pacer.observe({ status: 429, durationMs: 10, retryAfterMs: 2500 });
    expect(pacer.state).toBe('open');
    now += 2000;
    ok();
    pacer.observe({ status: 429, durationMs: 10, retryAfterMs: 2500 });
    expect(pacer.state).toBe('throttled');
    expect(pacer.reason).toBe('Retry-After 3 s');
  });

  it('tells when a held-back origin may be called again', () => {
    expect(pacer.waitUntil).toBe(0);
    for (let i = 0; i < 3; i++) fail();
    expect(pacer.state).toBe('open');
    expect(pacer.waitUntil).toBe(now + 1000);
    const throttled = new OriginPacer(options, () => now);
    throttled.observe({ status: 429, durationMs: 5, retryAfterMs: 2000 });
    expect(throttled.waitUntil).toBe(now + 2000);
  });

  it.each([
    [429, 'throttled'],
    [503, 'throttled'],
    [500, 'closed'],
  ])('honours a Retry-After on a %s only if it is a 429 or a 503', (status, state) => {
    pacer.observe({ status, durationMs: 5, retryAfterMs: 2000 });
    expect(pacer.state).toBe(state);
  });

  it.each([429, 500, 503])('counts a %s as a failure in a row', (status) => {
    for (let i = 0; i < 3; i++) fail(status);
    expect(pacer.state).toBe('open');
  });

  it('opens only once breakerThreshold calls in a row have failed', () => {
    fail();
    fail();
    expect(pacer.state).toBe('closed');
    expect(pacer.capacity()).toBeGreaterThan(0);
    fail();
    expect(pacer.state).toBe('open');
  });

  it('returns to its initial limit and clears the reason when the breaker closes', () => {
    ok();
    for (let i = 0; i < 3; i++) fail();
    expect(pacer.limit).toBe(1);
    now += 1000;
    pacer.started();
    ok();
    expect(pacer.state).toBe('closed');
    expect(pacer.limit).toBe(8);
    expect(pacer.reason).toBe('');
  });

  it('needs breakerThreshold failures in a row again after the breaker closed', () => {
    for (let i = 0; i < 3; i++) fail();
    now += 1000;
    pacer.started();
    ok();
    fail();
    fail();
    expect(pacer.state).toBe('closed');
  });

  it('grows for a target that is slow but steady: latency counts against the best seen', () => {
    for (let i = 0; i < 9; i++) ok(100);
    expect(pacer.limit).toBe(9);
  });

  it('tolerates answers up to twice the best latency', () => {
    ok(30);
    now += 100;
    ok(60);
    expect(pacer.limit).toBe(8);
    expect(pacer.reason).toBe('');
  });

  it('never counts an answer of 50 ms or less as slow', () => {
    ok(10);
    now += 100;
    ok(50);
    expect(pacer.limit).toBe(8);
    expect(pacer.reason).toBe('');
  });

  it('halves at most once per round trip, the best latency seen', () => {
    pacer = new OriginPacer({ ...options, breakerThreshold: 10 }, () => now);
    ok(100);
    now += 1000;
    pacer.observe({ status: 503, durationMs: 100 });
    expect(pacer.limit).toBe(4);
    now += 99;
    pacer.observe({ status: 503, durationMs: 100 });
    expect(pacer.limit).toBe(4);
    now += 1;
    pacer.observe({ status: 503, durationMs: 100 });
    expect(pacer.limit).toBe(2);
  });

  it('by default honours a Retry-After for at most 10 minutes and opens for at most 5', () => {
    pacer = new OriginPacer({ ...options, ...DEFAULT_PACING, breakerMs: 60_000 }, () => now);
    pacer.observe({ status: 429, durationMs: 5, retryAfterMs: 3_600_000 });
    expect(pacer.waitUntil).toBe(now + 600_000);
    now += 600_000;
    for (let i = 0; i < 3; i++) fail();
    for (const openMs of [60_000, 120_000, 240_000, 300_000]) {
      expect(pacer.waitUntil).toBe(now + openMs);
      now += openMs;
      fail();
    }
  });
});

describe('Pacing', () => {
  it('keeps one pacer per target origin', () => {
    const pacing = new Pacing(options);
    const first = pacing.of('https://a.example');
    first.observe({ status: 200, durationMs: 10 });
    expect(pacing.of('https://a.example')).toBe(first);
    expect(pacing.of('https://b.example')).not.toBe(first);
    expect([...pacing.entries()].map(([origin]) => origin)).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });
});
