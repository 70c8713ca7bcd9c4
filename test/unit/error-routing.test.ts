import { DEFAULT_ERROR_MAPPING, ErrorRouting, EXHAUSTED_KEY } from '../../shared/pipeline/error-routing';

describe('ErrorRouting', () => {
  const routing = new ErrorRouting([
    ...DEFAULT_ERROR_MAPPING,
    { responsecode: '5xx', stream: 'errors-5xx' },
    { responsecode: 'timeout', stream: 'errors-timeout' },
  ]);

  it('prefers the exact code, then the class, then the reason, then the fallback', () => {
    expect(routing.route({ reason: 'http', status: 503 })).toMatchObject({
      stream: 'datasync-error-503',
      key: '503',
    });
    expect(routing.route({ reason: 'http', status: 502 })).toMatchObject({
      stream: 'errors-5xx',
      key: '5xx',
    });
    expect(routing.route({ reason: 'timeout' })).toMatchObject({ stream: 'errors-timeout', key: 'timeout' });
    expect(routing.route({ reason: 'http', status: 409 })).toMatchObject({
      stream: 'datasync-error-unexpected',
      key: 'unexpectedError',
      unrecoverable: true,
    });
    expect(routing.route({ reason: 'network' }).stream).toBe('datasync-error-unexpected');
  });

  it('parks exhausted messages on the fallback stream as unrecoverable', () => {
    expect(routing.park(EXHAUSTED_KEY)).toEqual({
      stream: 'datasync-error-unexpected',
      key: 'attemptsExhausted',
      unrecoverable: true,
    });
  });

  it('parks a forbidden target as unrecoverable, whatever the fallback stream is', () => {
    const lenient = new ErrorRouting([{ responsecode: 'unexpectedError', stream: 'errors' }]);
    expect(lenient.route({ reason: 'forbiddenTarget' })).toEqual({
      stream: 'errors',
      key: 'forbiddenTarget',
      unrecoverable: true,
    });
    expect(lenient.route({ reason: 'network' }).unrecoverable).toBe(false);
  });

  it('lets a replay override some keys and keeps the rest', () => {
    const replayRouting = routing.withOverrides([{ responsecode: '404', stream: 'gone' }]);
    expect(replayRouting.route({ reason: 'http', status: 404 }).stream).toBe('gone');
    expect(replayRouting.route({ reason: 'http', status: 503 }).stream).toBe('datasync-error-503');
    expect(replayRouting.isUnrecoverable('datasync-error-unexpected')).toBe(true);
  });

  it('makes a stream an override marks unrecoverable unrecoverable, for that replay only', () => {
    const replayRouting = routing.withOverrides([
      { responsecode: '404', stream: 'gone', unrecoverable: true },
    ]);
    expect(replayRouting.route({ reason: 'http', status: 404 })).toEqual({
      stream: 'gone',
      key: '404',
      unrecoverable: true,
    });
    expect(routing.isUnrecoverable('gone')).toBe(false);
  });

  it('refuses a mapping without a fallback', () => {
    expect(() => new ErrorRouting([{ responsecode: '404', stream: 'x' }])).toThrow(/unexpectedError/);
  });
});
