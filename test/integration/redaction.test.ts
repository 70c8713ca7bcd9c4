import { readFileSync } from 'node:fs';
import type { Envelope } from '../../shared/contract/envelope';
import { dispatch } from '../../shared/pipeline/dispatch';
import { EmbeddedPipeline } from '../helpers/embedded-pipeline';
import { envelope } from '../helpers/fixtures';
import { TargetServer } from '../helpers/target-server';

const token = 'Tok/En+WITH="quotes\\and-slashes_0123456789';
const credential = `Bearer ${token}`;

describe('a target that echoes the credential', () => {
  let pipeline: EmbeddedPipeline;
  let target: TargetServer;
  beforeEach(async () => {
    pipeline = new EmbeddedPipeline();
    target = await new TargetServer().start();
    await pipeline.secrets.put('789', { value: credential, origin: target.url });
  });
  afterEach(async () => {
    await target.stop();
    pipeline.close();
  });

  const json = JSON.stringify(credential).slice(1, -1);
  const url = encodeURIComponent(credential);
  const base64 = Buffer.from(`authorization: ${credential}`).toString('base64');
  it.each([
    ['JSON-escaped', JSON.stringify({ authorization: credential }), json],
    ['URL-encoded', `bad request: /cb?auth=${url}`, url],
    ['base64', `echo ${base64}`, base64.slice(24, -4)],
    ['lower-cased', `header authorization: ${credential.toLowerCase()}`, credential.toLowerCase()],
    ['cut at the 512-character excerpt', `${'.'.repeat(512 - 20)}${credential}`, credential.slice(0, 20)],
  ])('%s: stores no part of it in the error record or the archive', async (_how, echoed, leaked) => {
    target.reply('/echo', { status: 400, body: echoed });
    const message = envelope(`${target.url}/echo`);
    message.streamMessage.vaultSecretName = '789';
    const outcome = await dispatch(pipeline.consumerDeps, { stream: 'datasync', offset: 0n, body: message });
    expect(outcome).toMatchObject({ kind: 'routed', unrecoverable: true });

    const [record] = await pipeline.all('datasync-error-unexpected');
    const stored = String(record?.body.failure?.responseExcerpt);
    expect(stored).toContain('[redacted]');
    const [alert] = pipeline.log.events('alert.unrecoverable');
    const archived = String(
      (JSON.parse(readFileSync(String(alert?.fields.archivedAt), 'utf8')) as Envelope).failure
        ?.responseExcerpt,
    );
    for (const text of [stored, archived]) {
      for (const piece of [leaked.slice(0, 10), leaked.slice(-10), leaked.slice(8, 18)]) {
        expect(text.toLowerCase()).not.toContain(piece.toLowerCase());
      }
    }
  });

  it('redacts a bare token (a credential stored without a scheme) from the error record', async () => {
    const bare = 'sk-live-7f3a9c2e4b1d';
    await pipeline.secrets.put('bare', { value: bare, origin: target.url });
    target.reply('/echo', { status: 400, body: JSON.stringify({ received: bare }) });
    const message = envelope(`${target.url}/echo`);
    message.streamMessage.vaultSecretName = 'bare';
    await dispatch(pipeline.consumerDeps, { stream: 'datasync', offset: 0n, body: message });

    const [record] = await pipeline.all('datasync-error-unexpected');
    expect(record?.body.failure?.responseExcerpt).toBe('{"received":"[redacted]"}');
  });
});
