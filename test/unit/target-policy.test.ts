import { parseAllowlistEntry } from '../../shared/pipeline/target-allowlist';
import { TargetPolicy } from '../../shared/pipeline/target-policy';

describe('TargetPolicy', () => {
  const strict = new TargetPolicy({ allowlist: ['*'], allowPrivate: false });

  it.each([
    'http://localhost/x',
    'http://api.localhost/x',
    'http://127.0.0.1/x',
    'http://2130706433/x',
    'http://0x7f.1/x',
    'http://0.0.0.0/x',
    'http://[::1]/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://10.1.2.3/x',
    'http://192.168.0.10/x',
    'http://172.16.5.4/x',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00::1]/x',
    'http://[fe80::1]/x',
    'http://224.0.0.1/x',
    'http://168.63.129.16/x',
  ])('refuses %s when private targets are not allowed', (url) => {
    expect(strict.refusalForUrl(url)).toBeDefined();
  });

  it('accepts public addresses and names (names are checked again when they resolve)', () => {
    expect(strict.refusalForUrl('https://8.8.8.8/x')).toBeUndefined();
    expect(strict.refusalForUrl('https://api.example.com/x')).toBeUndefined();
    expect(strict.refusalForAddress('93.184.216.34')).toBeUndefined();
    expect(strict.refusalForAddress('::ffff:10.0.0.1')).toMatch(/private/);
  });

  it('limits hosts to the allow-list, with wildcard subdomains', () => {
    const policy = new TargetPolicy({ allowlist: ['api.example.com', '*.saas.io'], allowPrivate: false });
    expect(policy.refusalForUrl('https://api.example.com/orders')).toBeUndefined();
    expect(policy.refusalForUrl('https://eu.saas.io/x')).toBeUndefined();
    expect(policy.refusalForUrl('https://evil.com/x')).toMatch(/DATASYNC_TARGET_ALLOWLIST/);
    expect(policy.refusalForUrl('https://saas.io.evil.com/x')).toMatch(/DATASYNC_TARGET_ALLOWLIST/);
  });

  it('lets *.saas.io match a whole label only: not evilsaas.io, nor the bare domain', () => {
    const policy = new TargetPolicy({ allowlist: ['*.saas.io'], allowPrivate: false });
    expect(policy.refusalForUrl('https://a.b.saas.io/x')).toBeUndefined();
    expect(policy.refusalForUrl('https://evilsaas.io/x')).toMatch(/DATASYNC_TARGET_ALLOWLIST/);
    expect(policy.refusalForUrl('https://saas.io/x')).toMatch(/DATASYNC_TARGET_ALLOWLIST/);
  });

  it('allows loopback in local development mode', () => {
    const local = new TargetPolicy({ allowlist: ['*'], allowPrivate: true });
    expect(local.refusalForUrl('http://127.0.0.1:9000/x')).toBeUndefined();
  });

  describe('allow-list entries', () => {
    const allowing = (...allowlist: string[]) => new TargetPolicy({ allowlist, allowPrivate: false });

    it('lets a bare host through on the default ports of http and https only', () => {
      const policy = allowing('example.com');
      expect(policy.refusalForUrl('http://example.com/x')).toBeUndefined();
      expect(policy.refusalForUrl('https://example.com:443/x')).toBeUndefined();
      expect(policy.refusalForUrl('http://example.com:6379/x')).toMatch(/DATASYNC_TARGET_ALLOWLIST/);
      expect(policy.refusalForUrl('http://example.com:22/x')).toMatch(/DATASYNC_TARGET_ALLOWLIST/);
      expect(policy.refusalForUrl('https://example.com:80/x')).toMatch(/DATASYNC_TARGET_ALLOWLIST/);
    });

    it('takes a scheme and a port: https://api.example.com:8443', () => {
      const policy = allowing('https://api.example.com:8443');
      expect(policy.refusalForUrl('https://api.example.com:8443/orders')).toBeUndefined();
      expect(policy.refusalForUrl('http://api.example.com:8443/orders')).toMatch(/not allowed/);
      expect(policy.refusalForUrl('https://api.example.com/orders')).toMatch(/not allowed/);
    });

    it('takes a scheme without a port (its default port) and a port without a scheme (both schemes)', () => {
      expect(allowing('https://host.example').refusalForUrl('https://host.example/x')).toBeUndefined();
      expect(allowing('https://host.example').refusalForUrl('http://host.example/x')).toMatch(/not allowed/);
      expect(allowing('host.example:8080').refusalForUrl('http://host.example:8080/x')).toBeUndefined();
      expect(allowing('host.example:8080').refusalForUrl('https://host.example:8080/x')).toBeUndefined();
      expect(allowing('*.example.com:8443').refusalForUrl('https://a.example.com:8443/x')).toBeUndefined();
    });

    it.each([
      'ftp://example.com',
      'example.com/path',
      'user@example.com',
      'example.com:99999',
      'exa mple.com',
      '',
    ])('reads "%s" as malformed', (entry) => {
      expect(parseAllowlistEntry(entry)).toBeUndefined();
    });
  });
});
