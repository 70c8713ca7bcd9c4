import { parseJsonBody } from '../../shared/contract/envelope-codec';
import { parseRetryRequest } from '../../shared/contract/retry-request';
import { retryRequest } from '../helpers/fixtures';

describe('parseRetryRequest', () => {
  it('reads the reference payload unchanged', () => {
    const parsed = parseRetryRequest(retryRequest('datasync-error-503'));
    expect(parsed).toEqual({
      ok: true,
      value: {
        stream: 'datasync-error-503',
        maxMessages: 5,
        readAfter: -1n,
        errorMapping: retryRequest('x').errormapping,
        includeHandled: false,
        dryRun: false,
      },
    });
  });

  it("keeps an errormapping entry's unrecoverable flag", () => {
    const parsed = parseRetryRequest({
      streamToRetry: 'datasync-error-404',
      errormapping: [{ responsecode: '404', stream: 'parked-404', unrecoverable: true }],
    });
    expect(parsed.ok && parsed.value.errorMapping).toEqual([
      { responsecode: '404', stream: 'parked-404', unrecoverable: true },
    ]);
  });

  it('leaves readAfter unset when readAfterOffset is omitted (continue where the last replay stopped)', () => {
    const parsed = parseRetryRequest({ streamToRetry: 'datasync-error-404', includeHandled: true });
    expect(parsed.ok && parsed.value).toEqual({
      stream: 'datasync-error-404',
      maxMessages: 10,
      errorMapping: [],
      includeHandled: true,
      dryRun: false,
    });
    expect(parsed.ok && parsed.value).not.toHaveProperty('readAfter');
  });

  it('takes streamToRetry as an alias and a decimal string offset beyond 2^53', () => {
    const parsed = parseRetryRequest({
      streamToRetry: 'datasync-error-404',
      readAfterOffset: '9007199254740993',
    });
    expect(parsed.ok && parsed.value).toMatchObject({
      stream: 'datasync-error-404',
      readAfter: 9007199254740993n,
    });
  });

  it('lists every problem by JSON path', () => {
    const parsed = parseRetryRequest({
      noOfMessagesToProcess: 0,
      readAfterOffset: 'soon',
      errormapping: [{ responsecode: '404' }],
      surprise: true,
    });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problems).toEqual(
      expect.arrayContaining([
        'noOfMessagesToProcess: must be at least 1',
        'errormapping[0].stream: required',
        expect.stringMatching(/Unrecognized key: "surprise"/),
      ]),
    );
  });

  it('names the missing stream and an offset that is not an integer', () => {
    const parsed = parseRetryRequest({ readAfterOffset: 1.5 });
    expect(!parsed.ok && parsed.problems).toEqual([
      'streamOCIDToRetry: required (or its alias streamToRetry)',
      'readAfterOffset: must be -1 or an offset (integer or decimal string)',
    ]);
  });

  it('takes an offset beyond 2^53 sent as a JSON number exactly', () => {
    const body = parseJsonBody(Buffer.from('{"streamToRetry":"s","readAfterOffset":9007199254740993}'));
    const parsed = parseRetryRequest(body);
    expect(parsed.ok && parsed.value.readAfter).toBe(9007199254740993n);
  });

  it('refuses two different stream names, and takes the same one sent under both', () => {
    expect(parseRetryRequest({ streamOCIDToRetry: 'a', streamToRetry: 'b' })).toEqual({
      ok: false,
      problems: ['streamToRetry: names a different stream than streamOCIDToRetry; send one of them'],
    });
    expect(parseRetryRequest({ streamOCIDToRetry: 'a', streamToRetry: 'a' })).toMatchObject({
      ok: true,
      value: { stream: 'a' },
    });
  });

  it('refuses a bad offset even when the stream is named', () => {
    expect(parseRetryRequest({ streamToRetry: 's', readAfterOffset: 'soon' })).toEqual({
      ok: false,
      problems: ['readAfterOffset: must be -1 or an offset (integer or decimal string)'],
    });
    expect(parseRetryRequest({ streamToRetry: 's', readAfterOffset: 42 })).toMatchObject({
      ok: true,
      value: { readAfter: 42n },
    });
  });

  it.each([
    [
      'a stream name starting with -',
      { streamToRetry: '-starts-with-dash' },
      'streamToRetry: must be a stream name (letters, digits, . _ -; at most 260)',
    ],
    [
      'a stream name with !',
      { streamToRetry: 'ends-with!' },
      'streamToRetry: must be a stream name (letters, digits, . _ -; at most 260)',
    ],
    [
      'a stream name of 261 characters',
      { streamToRetry: 's'.repeat(261) },
      'streamToRetry: must be a stream name (letters, digits, . _ -; at most 260)',
    ],
    [
      'a fractional count',
      { streamToRetry: 's', noOfMessagesToProcess: 2.5 },
      'noOfMessagesToProcess: must be an integer',
    ],
    [
      'a count over 1000',
      { streamToRetry: 's', noOfMessagesToProcess: 1001 },
      'noOfMessagesToProcess: must be at most 1000',
    ],
    [
      'an empty response code',
      { streamToRetry: 's', errormapping: [{ responsecode: '', stream: 'x' }] },
      'errormapping[0].responsecode: must not be empty',
    ],
    [
      'an errormapping of 101 entries',
      {
        streamToRetry: 's',
        errormapping: Array.from({ length: 101 }, () => ({ responsecode: '503', stream: 'x' })),
      },
      'errormapping: must have at most 100 entries',
    ],
  ])('names %s', (_, body, problem) => {
    expect(parseRetryRequest(body)).toEqual({ ok: false, problems: [problem] });
  });
});
