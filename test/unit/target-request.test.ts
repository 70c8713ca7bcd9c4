import { buildTargetRequest } from '../../shared/pipeline/target-request';
import { envelope } from '../helpers/fixtures';

const URL = 'https://t.example/orders';

describe('buildTargetRequest', () => {
  it('sends the message method and URL with its headers under lower-case names', () => {
    const request = buildTargetRequest(
      envelope(URL, {
        id: 'msg-a',
        streamMessage: {
          targetRestApi: URL,
          targetRestApiOperation: 'PATCH',
          targetRestApiHeaders: [{ key: 'X-Tenant', value: 'acme' }],
        },
      }),
    );
    expect(request).toEqual({
      method: 'PATCH',
      url: URL,
      headers: { 'x-tenant': 'acme', 'idempotency-key': 'msg-a' },
    });
  });

  it('adds the message id as Idempotency-Key, unless the message sets its own', () => {
    const withoutHeaders = envelope(URL, {
      id: 'msg-b',
      streamMessage: { targetRestApi: URL, targetRestApiOperation: 'POST' },
    });
    const withOwnKey = envelope(URL, {
      id: 'msg-c',
      streamMessage: {
        targetRestApi: URL,
        targetRestApiOperation: 'POST',
        targetRestApiHeaders: [{ key: 'Idempotency-Key', value: 'order-18jan' }],
      },
    });
    expect(buildTargetRequest(withoutHeaders).headers).toEqual({ 'idempotency-key': 'msg-b' });
    expect(buildTargetRequest(withOwnKey).headers).toEqual({ 'idempotency-key': 'order-18jan' });
  });

  it('sends no body when the message has no payload', () => {
    const request = buildTargetRequest(
      envelope(URL, { streamMessage: { targetRestApi: URL, targetRestApiOperation: 'DELETE' } }),
    );
    expect(request).not.toHaveProperty('body');
    expect(request.headers).not.toHaveProperty('content-type');
  });

  it('sends a string payload as it is, with no content type added', () => {
    const request = buildTargetRequest(
      envelope(URL, {
        streamMessage: {
          targetRestApi: URL,
          targetRestApiOperation: 'POST',
          targetRestApiPayload: 'a,b\n1,2',
        },
      }),
    );
    expect(request.body).toBe('a,b\n1,2');
    expect(request.headers).not.toHaveProperty('content-type');
  });

  it('sends any other payload as JSON, labelled application/json unless the message chose a type', () => {
    const json = buildTargetRequest(
      envelope(URL, {
        streamMessage: { targetRestApi: URL, targetRestApiOperation: 'POST', targetRestApiPayload: { n: 1 } },
      }),
    );
    const chosen = buildTargetRequest(
      envelope(URL, {
        streamMessage: {
          targetRestApi: URL,
          targetRestApiOperation: 'POST',
          targetRestApiPayload: [1, 2],
          targetRestApiHeaders: [{ key: 'Content-Type', value: 'application/vnd.acme+json' }],
        },
      }),
    );
    expect(json).toMatchObject({ body: '{"n":1}', headers: { 'content-type': 'application/json' } });
    expect(chosen).toMatchObject({ body: '[1,2]', headers: { 'content-type': 'application/vnd.acme+json' } });
  });
});
