import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { DatasyncStack, STATE_DIR } from '../../infra/datasync-stack';
import { InputError, readInputs } from '../../infra/inputs';
import { HOST_CONCURRENCY_SETTINGS } from '../../infra/constructs/compute';
import { loadConfig } from '../../shared/config/config';

type Json = Record<string, Record<string, Record<string, unknown>>>;

function synth(env: Record<string, string> = {}) {
  const inputs = readInputs({ DATASYNC_PACKAGE: '/tmp/datasync-abc.zip', ...env });
  const json = JSON.parse(Testing.synth(new DatasyncStack(Testing.app(), 'test', inputs))) as {
    resource: Json;
    terraform: { backend: Record<string, Record<string, string>> };
  };
  const app = Object.values(json.resource.azurerm_linux_function_app ?? {})[0] as Record<string, unknown>;
  return { inputs, settings: app.app_settings as Record<string, string>, backend: json.terraform.backend };
}

describe('infra: every DATASYNC_* setting is deployable', () => {
  it('deploys the app settings given at synth time as given, and the trigger concurrency follows the app', () => {
    const { settings } = synth({
      DATASYNC_AUTO_RETRIES: '5',
      DATASYNC_MAX_ATTEMPTS: '4',
      DATASYNC_TARGET_TIMEOUT_MS: '10000',
      DATASYNC_DISPATCH_CONCURRENCY: '12',
      DATASYNC_REPLAY_BUDGET_MS: '90000',
      DATASYNC_ECHO_ENABLED: 'true',
    });
    expect(settings).toMatchObject({
      DATASYNC_ECHO_ENABLED: 'true',
      DATASYNC_AUTO_RETRIES: '5',
      DATASYNC_MAX_ATTEMPTS: '4',
      DATASYNC_TARGET_TIMEOUT_MS: '10000',
      DATASYNC_DISPATCH_CONCURRENCY: '12',
      DATASYNC_REPLAY_BUDGET_MS: '90000',
    });
    for (const key of HOST_CONCURRENCY_SETTINGS) expect(settings[key]).toBe('12');
    const deployed = loadConfig(
      Object.fromEntries(
        Object.entries(settings).map(([key, value]) => [
          key,
          value.replace(/\$\{[^}]+\}/g, 'https://x.example'),
        ]),
      ),
      'azure',
    );
    expect(deployed.retry.autoRetries).toBe(5);
    expect(deployed.dispatch.concurrency).toBe(12);
  });

  it('takes the shared settings from cdktf context too', () => {
    const inputs = readInputs({ DATASYNC_PACKAGE: '/tmp/p.zip' }, (key) =>
      key === 'retentionDays' ? '14' : undefined,
    );
    expect(inputs.appSettings.DATASYNC_RETENTION_DAYS).toBe('14');
    expect(inputs.retentionDays).toBe(14);
  });

  it('stops the synth naming a misspelt setting', () => {
    expect(() => readInputs({ DATASYNC_AUTO_RETRYS: '5' })).toThrow(InputError);
    expect(() => readInputs({ DATASYNC_AUTO_RETRYS: '5' })).toThrow(/unknown setting DATASYNC_AUTO_RETRYS/);
  });

  it('stops the synth on a bad value with the app own message', () => {
    expect(() => readInputs({ DATASYNC_AUTO_RETRIES: 'three' })).toThrow(
      /DATASYNC_AUTO_RETRIES must be an integer from 0 to 100, got "three"/,
    );
  });

  it('refuses a setting the stack sets itself, private targets included', () => {
    expect(() => readInputs({ DATASYNC_KEYVAULT_URL: 'https://other.vault.azure.net' })).toThrow(
      /DATASYNC_KEYVAULT_URL is set by the stack/,
    );
    expect(() => readInputs({ DATASYNC_ALLOW_PRIVATE_TARGETS: 'true' })).toThrow(
      /DATASYNC_ALLOW_PRIVATE_TARGETS is set by the stack/,
    );
    expect(synth().settings.DATASYNC_ALLOW_PRIVATE_TARGETS).toBe('false');
  });

  it('deploys no local-only setting, secrets included, and reports them', () => {
    const { inputs, settings } = synth({
      DATASYNC_API_KEY: 'local-key',
      DATASYNC_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
      DATASYNC_DATA_DIR: '/tmp/x',
    });
    expect(inputs.skippedSettings.sort()).toEqual([
      'DATASYNC_API_KEY',
      'DATASYNC_DATA_DIR',
      'DATASYNC_SECRET_KEY',
    ]);
    expect(JSON.stringify(settings)).not.toMatch(
      /DATASYNC_API_KEY|DATASYNC_SECRET_KEY|DATASYNC_DATA_DIR|local-key/,
    );
  });
});

describe('infra: message size headroom', () => {
  it('leaves room for properties and the error record on Standard (192 KiB) and on Premium (960 KiB)', () => {
    const standard = synth();
    expect(standard.settings.DATASYNC_MAX_MESSAGE_BYTES).toBeUndefined();
    expect(standard.inputs.app.limits.maxMessageBytes).toBe(192 * 1024);
    const premium = synth({ DATASYNC_SERVICEBUS_SKU: 'Premium' });
    expect(premium.settings.DATASYNC_MAX_MESSAGE_BYTES).toBe(String(960 * 1024));
  });

  it('refuses a message limit that leaves the tier no room', () => {
    expect(() => readInputs({ DATASYNC_MAX_MESSAGE_BYTES: String(256 * 1024) })).toThrow(
      /DATASYNC_MAX_MESSAGE_BYTES must be at most 196608 on Service Bus Standard/,
    );
    expect(readInputs({ DATASYNC_MAX_MESSAGE_BYTES: '100000' }).app.limits.maxMessageBytes).toBe(100000);
  });
});

describe('infra: Terraform state', () => {
  it('is kept in a git-ignored folder, not the repository root', () => {
    const { backend } = synth();
    expect(backend.local?.path).toBe(join(process.cwd(), STATE_DIR, 'test.tfstate'));
    const ignored = readFileSync(join(__dirname, '..', '..', '.gitignore'), 'utf8').split('\n');
    expect(ignored).toContain(STATE_DIR);
  });
});

describe('host.json', () => {
  const host = JSON.parse(readFileSync(join(__dirname, '..', '..', 'host.json'), 'utf8')) as {
    extensions: { serviceBus: Record<string, unknown> };
  };
  const serviceBus = host.extensions.serviceBus;

  it('moves to the next session after a few idle seconds, not the 60 s default', () => {
    const [hours, minutes, seconds] = String(serviceBus.sessionIdleTimeout).split(':').map(Number);
    expect(hours).toBe(0);
    expect(minutes).toBe(0);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(5);
  });

  it('takes as many sessions and calls at once as the app dispatches by default', () => {
    const defaults = loadConfig({}, 'local').dispatch.concurrency;
    expect(serviceBus.maxConcurrentSessions).toBe(defaults);
    expect(serviceBus.maxConcurrentCalls).toBe(defaults);
  });
});
