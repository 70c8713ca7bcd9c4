import fc from 'fast-check';
import { parseRetryRequest } from '../../shared/contract/retry-request';
import { PayloadTooLargeError, ValidationError } from '../../shared/pipeline/errors';
import { populate } from '../../shared/pipeline/populate';
import { replay } from '../../shared/pipeline/replay';
import type { Target } from '../../shared/pipeline/ports';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { envelope, syncRequest } from '../helpers/fixtures';

describe('properties', () => {
  let pipeline: EmbeddedPipeline;
  beforeEach(() => (pipeline = new EmbeddedPipeline()));
  afterEach(() => pipeline.close());

  it('ingest either accepts every message or rejects with listed problems and writes nothing', async () => {
    const valid = fc.constant(syncRequest('https://t.example/a', { vaultSecretName: undefined }));
    const junk = fc.oneof(
      fc.jsonValue(),
      fc.record({ streamKey: fc.oneof(fc.string(), fc.integer()), streamMessage: fc.jsonValue() }),
      fc.record({
        streamMessage: fc.record({
          targetRestApi: fc.oneof(fc.webUrl(), fc.string()),
          targetRestApiOperation: fc.constantFrom('POST', 'PUT', 'GET', 'post', ''),
          targetRestApiHeaders: fc.array(fc.record({ key: fc.string(), value: fc.string() }), {
            maxLength: 3,
          }),
        }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(fc.oneof(valid, junk), { maxLength: 6 }), junk), async (body) => {
        const before = (await pipeline.all('datasync')).length;
        try {
          const { appended } = await populate(pipeline.populateDeps, { body });
          const count = Array.isArray(body) ? body.length : 1;
          expect(appended).toHaveLength(count === 0 ? 0 : count);
          expect((await pipeline.all('datasync')).length).toBe(before + appended.length);
        } catch (error) {
          if (!(error instanceof ValidationError || error instanceof PayloadTooLargeError)) throw error;
          expect(error.problems.length).toBeGreaterThan(0);
          expect((await pipeline.all('datasync')).length).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('replaying N at a time from -1 handles every message exactly once and ends at the end', async () => {
    let called: string[] = [];
    const target: Target = {
      async call(request) {
        called.push(request.headers['idempotency-key'] as string);
        return { status: request.url.endsWith('/fail') ? 503 : 200, bodyExcerpt: '' };
      },
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (failures, batch, asString) => {
          called = [];
          const stream = `errors-${Math.random().toString(36).slice(2)}`;
          const seeded = failures.map((fails) => envelope(`https://t.example/${fails ? 'fail' : 'ok'}`));
          await pipeline.seedFailures(stream, seeded);
          let offset: string | number = -1;
          let calls = 0;
          let processed = 0;
          let failed = 0;
          for (;;) {
            const parsed = parseRetryRequest({
              streamToRetry: stream,
              noOfMessagesToProcess: batch,
              readAfterOffset: offset,
            });
            if (!parsed.ok) throw new Error(parsed.problems.join());
            const summary = await replay({ ...pipeline.replayDeps, target }, parsed.value);
            calls += 1;
            processed += summary.processedmessages;
            failed += summary.failedMessages;
            expect(summary.lastReadOffset >= BigInt(offset)).toBe(true);
            offset = asString ? summary.lastReadOffset.toString() : Number(summary.lastReadOffset);
            if (summary.endOfStream) break;
          }
          const total = seeded.length;
          expect(called).toHaveLength(total);
          expect(new Set(called).size).toBe(total);
          expect(processed + failed).toBe(total);
          expect(failed).toBe(failures.filter(Boolean).length);
          expect(calls).toBeLessThanOrEqual(Math.ceil(total / batch) + 1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
