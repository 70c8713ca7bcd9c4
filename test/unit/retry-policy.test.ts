import { isTransient, retryDelayMs } from '../../shared/pipeline/retry-policy';

describe('retry policy', () => {
  const policy = { autoRetries: 3, baseDelayMs: 1000, maxDelayMs: 60_000 };

  it('treats 408, 429, 502, 503, 504, timeouts and connection errors as transient, and nothing else', () => {
    for (const status of [408, 429, 502, 503, 504])
      expect(isTransient({ reason: 'http', status })).toBe(true);
    for (const status of [400, 401, 404, 409, 500, 501])
      expect(isTransient({ reason: 'http', status })).toBe(false);
    expect(isTransient({ reason: 'timeout' })).toBe(true);
    expect(isTransient({ reason: 'network' })).toBe(true);
    expect(isTransient({ reason: 'forbiddenTarget' })).toBe(false);
    expect(isTransient({ reason: 'missingSecret' })).toBe(false);
  });

  it('backs off exponentially with jitter between half and all of the step', () => {
    expect(retryDelayMs(policy, 1, undefined, () => 0)).toBe(500);
    expect(retryDelayMs(policy, 1, undefined, () => 1)).toBe(1000);
    expect(retryDelayMs(policy, 3, undefined, () => 1)).toBe(4000);
    expect(retryDelayMs(policy, 20, undefined, () => 1)).toBe(60_000);
  });

  it('waits at least what Retry-After asks, up to the cap', () => {
    expect(retryDelayMs(policy, 1, 7000, () => 0)).toBe(7000);
    expect(retryDelayMs(policy, 1, 3_600_000, () => 0)).toBe(60_000);
  });
});
