import { TargetError } from '../../shared/pipeline/errors';
import { PacedTarget } from '../../shared/pipeline/paced-target';
import { Pacing, type PacingOptions } from '../../shared/pipeline/pacing';
import type { Target, TargetRequest, TargetResponse } from '../../shared/pipeline/ports';

const options: PacingOptions = {
  initialLimit: 8,
  maxLimit: 32,
  breakerThreshold: 3,
  breakerMs: 1000,
  maxBreakerMs: 8000,
  maxRetryAfterMs: 60_000,
};

const request = (url: string): TargetRequest => ({ method: 'POST', url, headers: {} });

describe('PacedTarget', () => {
  let clock: number;
  let pacing: Pacing;
  let answer: () => Promise<TargetResponse>;
  let paced: PacedTarget;
  beforeEach(() => {
    clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    pacing = new Pacing(options);
    const inner: Target = { call: () => answer() };
    paced = new PacedTarget(inner, pacing);
  });
  afterEach(() => jest.restoreAllMocks());

  it('returns the answer and tells the pacer of the URL’s origin about its status and Retry-After', async () => {
    const throttled = { status: 429, bodyExcerpt: 'slow down', retryAfterMs: 2000 };
    answer = async () => throttled;
    await expect(paced.call(request('https://a.example/orders?x=1'))).resolves.toBe(throttled);
    expect(pacing.of('https://a.example').state).toBe('throttled');
    expect(pacing.of('https://b.example').state).toBe('closed');
  });

  it('tells the pacer how long each answer took', async () => {
    const took = (ms: number) => async () => {
      clock += ms;
      return { status: 200, bodyExcerpt: '' };
    };
    answer = took(10);
    await paced.call(request('https://a.example/x'));
    clock += 100;
    answer = took(400);
    await paced.call(request('https://a.example/x'));
    expect(pacing.of('https://a.example').reason).toBe('latency 400 ms');
  });

  it.each([
    ['a timeout', 'timeout'],
    ['a connection failure', 'network'],
  ] as const)('counts %s as a failure and throws it on', async (_name, reason) => {
    const error = new TargetError(reason, `${reason} calling the target`);
    answer = () => Promise.reject(error);
    for (let i = 0; i < 3; i++) {
      clock += 50;
      await expect(paced.call(request('https://a.example/x'))).rejects.toBe(error);
    }
    expect(pacing.of('https://a.example').state).toBe('open');
  });

  it.each([
    ['a refused address', new TargetError('forbiddenTarget', 'not allowed')],
    ['any other error', new Error('bug')],
  ])('throws %s on without telling the pacer', async (_name, error) => {
    answer = () => Promise.reject(error);
    for (let i = 0; i < 10; i++) {
      clock += 50;
      await expect(paced.call(request('https://a.example/x'))).rejects.toBe(error);
    }
    const pacer = pacing.of('https://a.example');
    expect(pacer.state).toBe('closed');
    expect(pacer.limit).toBe(8);
  });
});
